"""Parse Flow JSON text and map JSON pointers back to line and column.

Parsing uses the C-accelerated `json` module; the pointer -> offset map is built lazily
by a small tokenizer only when a finding has to be located, so validating a clean
document costs one `json.loads`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from app.flowjson.findings import Finding, Level, join

MAX_FLOW_JSON_BYTES = 10 * 1024 * 1024  # flow-json.md §1 "Limitations"

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _key_of(tok: str) -> str:
    return json.loads(tok) if "\\" in tok else tok[1:-1]


def build_positions(text: str) -> dict[str, int]:
    """Offsets of every value: the key's opening quote for object members, the value for items."""
    positions: dict[str, int] = {}
    # frame: [pointer, is_object, next_index, expecting_key]
    stack: list[list[Any]] = []
    for match in _TOKEN.finditer(text):
        tok = match.group()
        start = match.start()
        if tok in ",:":
            if tok == "," and stack and stack[-1][1]:
                stack[-1][3] = True
            continue
        if tok in "}]":
            if stack:
                stack.pop()
            continue
        if stack:
            frame = stack[-1]
            if frame[1]:
                if frame[3] and tok[0] == '"':
                    frame[3] = False
                    frame[2] = join(frame[0], _key_of(tok))
                    positions.setdefault(frame[2], start)
                    continue
                pointer = frame[2] if isinstance(frame[2], str) else frame[0]
            else:
                pointer = join(frame[0], frame[2])
                frame[2] += 1
                positions.setdefault(pointer, start)
        else:
            pointer = ""
            positions.setdefault("", start)
        if tok == "{":
            stack.append([pointer, True, None, True])
        elif tok == "[":
            stack.append([pointer, False, 0, False])
    return positions


@dataclass
class LoadedText:
    """A Flow JSON source: its text, parsed value (None if unparseable) and a parse finding."""

    text: str
    data: Any = None
    error: Finding | None = None
    file: str | None = None
    _positions: dict[str, int] | None = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def position(self, pointer: str) -> tuple[int, int]:
        """1-based line and column of the nearest located ancestor of `pointer`."""
        if self._positions is None:
            self._positions = build_positions(self.text)
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        assert self._line_starts is not None
        probe = pointer
        while probe not in self._positions and probe:
            probe = probe.rsplit("/", 1)[0]
        offset = self._positions.get(probe, 0)
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def locate(self, findings: list[Finding]) -> list[Finding]:
        """Fill in line/column (and file) of findings that point into this text."""
        out = []
        for finding in findings:
            if finding.line is not None or (finding.file and finding.file != self.file):
                out.append(finding)
                continue
            line, column = self.position(finding.pointer)
            out.append(finding.located(line, column, self.file))
        return out


def load_text(text: str, file: str | None = None) -> LoadedText:
    """Parse `text`; an unparseable or oversized document yields an INVALID_FLOW_JSON finding."""
    loaded = LoadedText(text=text, file=file)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FLOW_JSON_BYTES:
        loaded.error = Finding(
            "INVALID_FLOW_JSON",
            Level.ERROR,
            "Flow JSON is larger than the 10 MB Meta accepts; split the flow.",
            "",
            1,
            1,
            file,
        )
        return loaded
    try:
        loaded.data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        loaded.error = Finding(
            "INVALID_FLOW_JSON",
            Level.ERROR,
            f"Flow JSON is not valid: {exc.msg}.",
            "",
            exc.lineno,
            exc.colno,
            file,
        )
    except ValueError as exc:
        loaded.error = Finding(
            "INVALID_FLOW_JSON", Level.ERROR, f"Flow JSON is not valid: {exc}.", "", 1, 1, file
        )
    return loaded
