"""Submission validation against schemas/<flow>.json, with errors a person can read.

A submission that breaks its schema is still a lead: it is stored as `invalid` with the list
this module returns, so the business can see what was wrong and call the user back. Each
error is `{"field": <dotted path or None>, "code": <JSON Schema keyword>, "message": <text>}`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import FormatChecker, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

# Keys that belong to the transport, never to the form: the flow token (ours or the
# business's) and Meta's optional 4.0 signature of it (docs/protocol.md §4.1, §9.1).
NON_FIELD_KEYS = frozenset({"flow_token", "flow_token_signature"})

_CACHE_LIMIT = 64
_cache: dict[int, tuple[Mapping[str, Any], Validator]] = {}
_cache_lock = threading.Lock()


def split_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form fields of a completion payload: everything but the non-field keys."""
    return {k: v for k, v in data.items() if k not in NON_FIELD_KEYS}


def error(field: str | None, code: str, message: str) -> dict[str, Any]:
    """One readable validation error in the stored shape."""
    return {"field": field, "code": code, "message": message}


def validate_fields(schema: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> list[dict]:
    """Readable errors of `fields` against `schema` (an empty list means valid).

    A flow without a usable schema cannot vouch for its data, so its submissions are
    invalid with one error saying so (they are still stored).
    """
    if not isinstance(schema, Mapping):
        return [error(None, "no_schema", "This flow has no submission schema to check against.")]
    try:
        validator = _validator(schema)
    except SchemaError as exc:
        return [
            error(None, "schema_error", f"The flow's submission schema is broken: {exc.message}")
        ]
    found = sorted(validator.iter_errors(fields), key=lambda e: [str(p) for p in e.absolute_path])
    readable: list[dict[str, Any]] = []
    for exc in found:  # one `required` error per missing name, each listing them all
        readable.extend(item for item in _readable(exc) if item not in readable)
    return readable


def _validator(schema: Mapping[str, Any]) -> Validator:
    """A compiled validator per schema object (registry reloads make new objects)."""
    with _cache_lock:
        hit = _cache.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=FormatChecker())
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[id(schema)] = (schema, validator)
    return validator


def _path(parts: Iterable[Any]) -> str | None:
    text = ".".join(str(p) for p in parts)
    return text or None


def _readable(exc: ValidationError) -> list[dict[str, Any]]:
    """Turn one jsonschema error into errors that name the field and say what is wrong."""
    where = list(exc.absolute_path)
    keyword = str(exc.validator)
    value = exc.validator_value
    if keyword == "required" and isinstance(exc.instance, Mapping):
        missing = [name for name in value if name not in exc.instance]
        return [
            error(_path([*where, name]), "required", "This field is required.") for name in missing
        ]
    if keyword == "additionalProperties" and isinstance(exc.instance, Mapping):
        known = set((exc.schema.get("properties") or {}).keys())
        extras = [k for k in exc.instance if k not in known] or [None]
        return [
            error(
                _path([*where, k]) if k is not None else _path(where),
                "unexpected",
                "This is not a field of this form.",
            )
            for k in extras
        ]
    messages = {
        "type": lambda: f"Must be {_type_text(value)}.",
        "enum": lambda: "Must be one of: " + ", ".join(str(v) for v in value) + ".",
        "const": lambda: f"Must be {value!r}.",
        "minLength": lambda: f"Must be at least {value} characters long.",
        "maxLength": lambda: f"Must be at most {value} characters long.",
        "pattern": lambda: "Does not have the expected format.",
        "format": lambda: f"Is not a valid {value}.",
        "minimum": lambda: f"Must be at least {value}.",
        "maximum": lambda: f"Must be at most {value}.",
        "minItems": lambda: f"Must have at least {value} item(s).",
        "maxItems": lambda: f"Must have at most {value} item(s).",
    }
    make = messages.get(keyword)
    text = make() if make is not None else exc.message
    return [error(_path(where), keyword, text)]


def _type_text(value: Any) -> str:
    names = {
        "string": "text",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "empty",
    }
    types = value if isinstance(value, list) else [value]
    return " or ".join(names.get(str(t), str(t)) for t in types)
