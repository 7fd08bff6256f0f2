"""Data-model schemas compiled once into plain Python predicates (a fast path, never a judge).

A Flow JSON data model uses a small subset of JSON Schema: `type`, `properties`, `items`,
`required` (docs/flow-json.md). Walking such a schema with `jsonschema` costs about 1 ms per
answer for the `appointment` flow's entry screen (bench/endpoint_cpu.py), most of it the
library's generic descent. `compile_schema` turns a schema made only of those keywords into a
closure with the same meaning as JSON Schema 2020-12; a schema with any other keyword gives
None, and callers then use `jsonschema` alone. The predicate only ever says "valid": when it
says no, callers ask `jsonschema` for the errors, so every message stays the library's own.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
# Keywords with a compiled meaning; the annotations change nothing about validity.
KNOWN = frozenset({"type", "properties", "items", "required", "title", "description"})


def _integer(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


# jsonschema's Draft 2020-12 type checker, keyword for keyword.
TYPES: dict[str, Check] = {
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": _integer,
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, numbers.Number) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
}


def _type(declared: Any) -> Check | None:
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names or any(n not in TYPES for n in names):
        return None
    checks = [TYPES[n] for n in names]
    if len(checks) == 1:
        return checks[0]
    return lambda v: any(c(v) for c in checks)


def compile_schema(schema: Any) -> Check | None:
    """A predicate equal to JSON Schema validity for `schema`, or None when not compilable."""
    if schema is True or schema == {}:
        return lambda v: True
    if not isinstance(schema, dict) or not set(schema) <= KNOWN:
        return None
    checks: list[Check] = []
    if "type" in schema:
        kind = _type(schema["type"])
        if kind is None:
            return None
        checks.append(kind)
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            return None
        names = tuple(required)
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in names))
    if "properties" in schema:
        props = schema["properties"]
        if not isinstance(props, dict):
            return None
        compiled = []
        for name, sub in props.items():
            check = compile_schema(sub)
            if check is None:
                return None
            compiled.append((name, check))
        pairs = tuple(compiled)
        checks.append(
            lambda v: not isinstance(v, dict) or all(k not in v or c(v[k]) for k, c in pairs)
        )
    if "items" in schema:
        item = compile_schema(schema["items"])
        if item is None:
            return None
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)
    return lambda v: all(c(v) for c in every)
