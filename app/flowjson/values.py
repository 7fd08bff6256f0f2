"""Classifying property values: dynamic references, backtick expressions, blank strings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.flowjson.findings import join

REF = re.compile(r"\$\{([^}]*)\}")
_SINGLE_REF = re.compile(r"^\$\{[^}]+\}$")


def is_ref(value: Any) -> bool:
    """Exactly one `${...}` reference and nothing else."""
    return isinstance(value, str) and bool(_SINGLE_REF.match(value))


def is_expression(value: Any) -> bool:
    """A backtick-wrapped nested expression (Flow JSON 6.0+)."""
    return isinstance(value, str) and len(value) >= 2 and value[0] == "`" and value[-1] == "`"


def is_dynamic(value: Any) -> bool:
    return is_ref(value) or is_expression(value)


def is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def refs(value: str) -> list[str]:
    """Bodies of every `${...}` in a string, e.g. ['data.x', 'form.y']."""
    return REF.findall(value)


def mixes_static_and_dynamic(value: Any) -> bool:
    """Static text around a `${...}` outside backticks (a compile error in Meta's tool)."""
    return isinstance(value, str) and "${" in value and not is_dynamic(value)


def strings_in(value: Any, pointer: str, in_payload: bool) -> Iterator[tuple[str, str, bool]]:
    """Every string inside `value` with its JSON pointer, and whether it sits in an action's
    `payload` (where the rules for mixing static and dynamic text also apply)."""
    if isinstance(value, str):
        yield value, pointer, in_payload
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from strings_in(sub, join(pointer, key), in_payload or key == "payload")
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from strings_in(sub, join(pointer, i), in_payload)
