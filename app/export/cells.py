"""One stored value -> one CSV cell: a reversible encoding plus the formula-injection guard.

Encoding (docs/api.md "CSV format"), chosen so a consumer can get the stored value back:
- a string is written as it is stored;
- null or a missing field is an empty cell;
- a number is its JSON text (`3`, `2.5`), a boolean is `true` / `false`;
- an object or array is compact JSON (`{"a":1}`, `["x","y"]`), keys in stored order, non-ASCII
  kept as is: `json.loads(cell)` returns the stored value exactly.
Then any cell starting with `=`, `+`, `-`, `@`, tab, CR, LF (OWASP) or NUL (ASVS V1.2.10) gets
one leading `'`, so spreadsheets show it as text instead of evaluating it. A cell that itself
starts with `'` gets one too (spreadsheets hide one leading `'`, so they show the stored text),
which makes the rule exactly reversible: a cell starting with `'` lost nothing but that one
character; every other cell is the encoded value unchanged.
"""

from __future__ import annotations

import json
import math
from typing import Any

PREFIX = "'"
DANGEROUS_FIRST = frozenset("=+-@\t\r\n\0" + PREFIX)


def neutralise(text: str) -> str:
    """`text` with one leading `'` when a spreadsheet could read it as a formula."""
    if text and text[0] in DANGEROUS_FIRST:
        return PREFIX + text
    return text


def encode(value: Any) -> str:
    """The cell text of a stored JSON value, before neutralising (see module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if value.__class__ is int or (value.__class__ is float and math.isfinite(value)):
        return repr(value)  # what json.dumps writes, without its overhead
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def cell(value: Any) -> str:
    """`encode` then `neutralise`: what the export writes for one value."""
    if value.__class__ is str:  # the common case, kept fast
        return PREFIX + value if value and value[0] in DANGEROUS_FIRST else value
    return neutralise(encode(value))


def decode(text: str, *, structured: bool = False) -> Any:
    """The inverse for a text cell: drop the one neutralising `'` if there is one.

    With `structured`, `text` is a number, boolean, object or array cell and the JSON value
    is returned instead. Used by tests and documented for consumers.
    """
    if text.startswith(PREFIX):
        text = text[1:]
    if structured:
        return json.loads(text)
    return text
