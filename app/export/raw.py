"""Raw CSV for machines: the export without the spreadsheet guard's leading `'`.

The guard (app/export/cells.py) prefixes every cell a spreadsheet could read as a formula,
which includes every E.164 phone number (`+44…`). A CRM import wants the stored text, so
`flowgate export --raw` and `GET /api/v1/submissions.csv?raw=1` undo it. The guard is exactly
reversible (a guarded cell is the stored text plus one leading `'`), and every cell is quoted
(QUOTE_ALL), so a cell starts right after a line start, a comma or the BOM with `"`, and a
`"` inside a cell is always doubled: `"'` at those places can only be a guard's prefix.

UNSAFE to open in a spreadsheet: a cell such as `=HYPERLINK(...)` is then evaluated
(OWASP "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_GUARDED = re.compile("(^|[,\\n\\ufeff])\"'")


def unguard(text: str) -> str:
    """`text` (whole CSV lines) with the one guarding `'` of every cell removed."""
    return _GUARDED.sub('\\1"', text)


def unguarded(chunks: Iterable[str]) -> Iterator[str]:
    """Each chunk of whole lines, unguarded."""
    for chunk in chunks:
        yield unguard(chunk)
