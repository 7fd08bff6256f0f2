"""Warnings where a flow and its submission schema disagree about the submitted fields."""

from __future__ import annotations

from typing import Any

from app.flowjson.context import Context
from app.flowjson.findings import Finding, Level, join
from app.flowjson.schema_gen import sent_fields
from app.flowjson.versions import parse_version


def schema_findings(doc: Any, schema: Any, schema_file: str | None) -> list[Finding]:
    """Pointer-only findings: flow-side ones have no file, schema-side ones carry `schema_file`."""
    if not isinstance(doc, dict) or not isinstance(schema, dict):
        return []
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    ctx = Context(doc, parse_version(doc.get("version")))
    sent = sent_fields(ctx)
    out: list[Finding] = []
    for key, sends in sent.items():
        if key not in properties:
            out.append(
                Finding(
                    "SCHEMA_FIELD_UNKNOWN",
                    Level.WARNING,
                    f"The flow sends '{key}', which the submission schema does not declare; add it "
                    "to the schema's properties or drop it from the payload.",
                    sends[0].pointer,
                )
            )
    for key in properties:
        if key not in sent:
            out.append(
                Finding(
                    "SCHEMA_FIELD_NOT_SENT",
                    Level.WARNING,
                    f"The schema declares '{key}', but no complete or data_exchange payload of the "
                    "flow sends it.",
                    join("", "properties", key),
                    file=schema_file,
                )
            )
    return out
