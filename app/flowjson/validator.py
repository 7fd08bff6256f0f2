"""The static validator: runs every rule family over a parsed Flow JSON document.

`validate_document` works on a parsed dict and returns pointer-only findings;
`validate_text` parses, validates (documents or pywa-style containers) and locates findings.
"""

from __future__ import annotations

from typing import Any

from app.flowjson.context import Context
from app.flowjson.findings import Finding, Level, join
from app.flowjson.loader import LoadedText, load_text
from app.flowjson.rules import (
    actions,
    component_rules,
    components,
    conditions,
    datamodel,
    expressions,
    footers,
    items,
    limits,
    references,
    routing,
    screens,
    structure,
    toplevel,
)
from app.flowjson.versions import parse_version

RULES = (
    toplevel,
    screens,
    datamodel,
    components,
    component_rules,
    items,
    structure,
    footers,
    limits,
    actions,
    references,
    conditions,
    expressions,
    routing,
)
_TOP_KEYS = toplevel.TOP_KEYS


def validate_document(doc: Any, base: str = "") -> list[Finding]:
    """Findings (pointer only, no positions) for one parsed Flow JSON document."""
    if not isinstance(doc, dict):
        return [
            Finding(
                "INVALID_FLOW_JSON",
                Level.ERROR,
                "Flow JSON is not valid: the document must be a JSON object.",
                base,
            )
        ]
    ctx = Context(doc, parse_version(doc.get("version")), base)
    for rule in RULES:
        rule.check(ctx)
    return _dedupe(ctx.findings)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for finding in findings:
        key = (finding.code, finding.pointer, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def split_documents(data: Any) -> list[tuple[str, Any]]:
    """[(pointer prefix, document)]: a pywa-style container (name -> Flow JSON) is split up.

    A container is an object none of whose keys is a Flow JSON top-level key and whose values
    are all objects with `screens`; anything else is one document.
    """
    if (
        isinstance(data, dict)
        and data
        and not (set(data) & _TOP_KEYS)
        and all(isinstance(v, dict) and "screens" in v for v in data.values())
    ):
        return [(join("", key), value) for key, value in data.items()]
    return [("", data)]


def validate_loaded(loaded: LoadedText, *, containers: bool = True) -> list[Finding]:
    """Located findings of a loaded text; `containers` lets a pywa-style container through."""
    if loaded.error is not None:
        return [loaded.error]
    findings: list[Finding] = []
    parts = split_documents(loaded.data) if containers else [("", loaded.data)]
    for base, doc in parts:
        findings.extend(validate_document(doc, base))
    return loaded.locate(findings)


def validate_text(text: str, file: str | None = None, *, containers: bool = True) -> list[Finding]:
    """Parse and validate Flow JSON text; findings carry file, line and column."""
    return validate_loaded(load_text(text, file), containers=containers)
