"""A JSON writer that records where it wrote each value: the oracle for line/column tests.

It is independent of the loader (which finds positions by parsing): members are located at
their key's opening quote, array items at their first character, the root at 1:1.
"""

from __future__ import annotations

import json
from typing import Any


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def dump(value: Any) -> tuple[str, dict[str, tuple[int, int]]]:
    parts: list[str] = []
    positions: dict[str, tuple[int, int]] = {}
    state = {"line": 1, "col": 1}

    def emit(text: str) -> None:
        parts.append(text)
        for ch in text:
            if ch == "\n":
                state["line"] += 1
                state["col"] = 1
            else:
                state["col"] += 1

    def here(pointer: str) -> None:
        positions.setdefault(pointer, (state["line"], state["col"]))

    def write(node: Any, pointer: str, depth: int) -> None:
        pad = "  " * (depth + 1)
        if isinstance(node, dict) and node:
            emit("{\n")
            for i, (key, sub) in enumerate(node.items()):
                emit(pad)
                child = f"{pointer}/{_escape(key)}"
                here(child)
                emit(json.dumps(key) + ": ")
                write(sub, child, depth + 1)
                emit(",\n" if i < len(node) - 1 else "\n")
            emit("  " * depth + "}")
        elif isinstance(node, list) and node:
            emit("[\n")
            for i, sub in enumerate(node):
                emit(pad)
                child = f"{pointer}/{i}"
                here(child)
                write(sub, child, depth + 1)
                emit(",\n" if i < len(node) - 1 else "\n")
            emit("  " * depth + "]")
        else:
            emit(json.dumps(node))

    here("")
    write(value, "", 0)
    return "".join(parts) + "\n", positions
