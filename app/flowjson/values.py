"""Classifying property values: dynamic references, backtick expressions, blank strings."""

from __future__ import annotations

import re
from typing import Any

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
