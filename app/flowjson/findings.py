"""Validation findings: one problem in a Flow JSON document, located by JSON pointer.

Positions (line/column) are filled in after validation by the loader, so rules only
deal with pointers and valid documents never pay for position tracking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    """ERROR blocks serving a flow; WARNING is advice (frozen versions, truncation, ...)."""

    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True)
class Finding:
    """One validator finding in the shape `file:line:column: LEVEL CODE message (at pointer)`."""

    code: str
    level: Level
    message: str
    pointer: str
    line: int | None = None
    column: int | None = None
    file: str | None = None
    source: str | None = None  # the public page a WARNING's level rests on, if any

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def located(self, line: int, column: int, file: str | None = None) -> Finding:
        return replace(self, line=line, column=column, file=file if file else self.file)

    def format(self) -> str:
        """Compiler-style line, so editors can jump to the spot."""
        where = f"{self.file or '<flow>'}:{self.line or 1}:{self.column or 1}"
        at = self.pointer or "/"
        cited = f" [source: {self.source}]" if self.source else ""
        return f"{where}: {self.level.value} {self.code} {self.message} (at {at}){cited}"

    def promoted(self) -> Finding:
        """The same finding as an ERROR (`--strict`: warnings fail CI too)."""
        return replace(self, level=Level.ERROR)

    def to_dict(self) -> dict[str, Any]:
        """Our fields plus the keys of Meta's Flows API validation errors (flow-json.md §4.6)."""
        return {
            "code": self.code,
            "level": self.level.value,
            "message": self.message,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "file": self.file,
            "source": self.source,
            "error": self.code,
            "error_type": self.code,
            "line_start": self.line,
            "line_end": self.line,
            "column_start": self.column,
            "column_end": self.column,
            "pointers": [self.pointer],
        }


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.is_error for f in findings)


def escape_token(token: str | int) -> str:
    """RFC 6901 escaping of one reference token."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join(pointer: str, *tokens: str | int) -> str:
    for token in tokens:
        pointer = f"{pointer}/{escape_token(token)}"
    return pointer
