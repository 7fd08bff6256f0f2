"""Meta's `validation_errors` as findings at `file:line:column`, like `flows validate`.

Meta reports `{"error", "error_type", "message", "line_start", "line_end", "column_start",
"column_end", "pointers": [{..., "path"}]}` per error (docs/flow-json.md §4.6). Flowgate
uploads the file's exact bytes, so Meta's line and column are the file's own; when Meta gives
none, the position comes from the pointer's path, as for local findings.
"""

from __future__ import annotations

import re
from typing import Any

from app.flowjson.findings import Finding, Level, join
from app.flowjson.loader import load_text

_INDEX = re.compile(r"\[(\d+)\]")


def pointer_of(path: Any) -> str:
    """`screens[0].layout.children[1]`, `$root/screens/0/layout` or `/screens/0` -> RFC 6901."""
    if not isinstance(path, str) or not path.strip():
        return ""
    text = _INDEX.sub(r".\1", path.strip())
    text = text.removeprefix("$root").removeprefix("$")
    tokens = [t for t in re.split(r"[./]", text) if t]
    return join("", *tokens)


def _position(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def remote_findings(errors: list[dict[str, Any]], text: str, file: str) -> list[Finding]:
    """One ERROR finding per Meta validation error, located in `file` (whose text is `text`)."""
    findings = []
    for error in errors:
        pointers = error.get("pointers")
        first = pointers[0] if isinstance(pointers, list) and pointers else {}
        first = first if isinstance(first, dict) else {}
        code = error.get("error") if isinstance(error.get("error"), str) else "META_VALIDATION"
        message = error.get("message") if isinstance(error.get("message"), str) else code
        kind = error.get("error_type")
        if isinstance(kind, str) and kind and kind != code:
            message = f"{message} [Meta: {kind}]"
        line = _position(error.get("line_start")) or _position(first.get("line_start"))
        column = _position(error.get("column_start")) or _position(first.get("column_start"))
        findings.append(
            Finding(
                code,
                Level.ERROR,
                f"Meta: {message}",
                pointer_of(first.get("path")),
                line,
                column if line else None,
                file,
            )
        )
    return load_text(text, file).locate(findings)
