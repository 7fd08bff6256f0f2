"""One stored value -> one CSV cell: a reversible encoding plus the formula-injection guard.

Encoding (docs/api.md "CSV format"), chosen so a consumer can get the stored value back:
- a string is written as it is stored;
- null or a missing field is an empty cell;
- a number is its JSON text (`3`, `2.5`), a boolean is `true` / `false`;
- an object or array is compact JSON (`{"a":1}`, `["x","y"]`), keys in stored order, non-ASCII
  kept as is: `json.loads(cell)` returns the stored value exactly.
Then any cell starting with `=`, `+`, `-`, `@`, tab, CR, LF (OWASP) or NUL (ASVS V1.2.10) gets
one leading `'`, so spreadsheets show it as text instead of evaluating it; so does a cell whose
`=`, `+`, `-` or `@` follows only spaces or invisible characters (`" =1+1"`, `"\u200b=1"`),
which an import that trims blanks can turn into a formula. Full-width forms (`"\uff1d1+1"`)
are not formula operators when a file is read, and stay as they are (evidence: docs/api.md).
A cell that itself starts with `'` gets one too (spreadsheets hide one leading `'`, so they
show the stored text), which makes the rule exactly reversible: a cell starting with `'`
lost nothing but that one character; every other cell is the encoded value unchanged.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

PREFIX = "'"
DANGEROUS_FIRST = frozenset("=+-@\t\r\n\0" + PREFIX)
# Blanks and invisible characters an import may trim (LibreOffice's whitespace set: space,
# U+2000-U+200B, U+2028/9; plus no-break, narrow and ideographic spaces, joiners, BOM).
BLANKS = " \u00a0\u1680\u180e\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
BLANK_THEN_OPERATOR = "[" + BLANKS + "]+[=+@-]"
_BLANK_THEN_OPERATOR = re.compile(BLANK_THEN_OPERATOR)
_BLANK_FIRST = frozenset(c for c in map(chr, range(0x3001)) if re.fullmatch(f"[{BLANKS}]", c))
_BLANK_FIRST |= {"\ufeff"}


def neutralise(text: str) -> str:
    """`text` with one leading `'` when a spreadsheet could read it as a formula."""
    if text and (
        text[0] in DANGEROUS_FIRST
        or (text[0] in _BLANK_FIRST and _BLANK_THEN_OPERATOR.match(text) is not None)
    ):
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
        return neutralise(value)
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
