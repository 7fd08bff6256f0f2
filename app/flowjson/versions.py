"""Flow JSON and Data API versions, compared as (major, minor) integer tuples, never floats."""

from __future__ import annotations

import re

Version = tuple[int, int]

LATEST: Version = (7, 3)
PUBLISHED: frozenset[Version] = frozenset(
    {(2, 1), (3, 0), (3, 1), (4, 0), (5, 0), (5, 1), (6, 0), (6, 1), (6, 2), (6, 3)}
    | {(7, 0), (7, 1), (7, 2), (7, 3)}
)
# Frozen for publishing (flow-json.md §1.1): still sendable, so only a warning.
FROZEN: frozenset[Version] = frozenset({(2, 1), (3, 0), (3, 1), (4, 0), (5, 0)})
DATA_API_VERSIONS: frozenset[str] = frozenset({"3.0", "4.0"})

_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def parse_version(value: object) -> Version | None:
    """`"7.3"` -> (7, 3); anything that is not a `major.minor` string -> None."""
    if not isinstance(value, str):
        return None
    match = _VERSION.match(value)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def fmt(version: Version) -> str:
    return f"{version[0]}.{version[1]}"
