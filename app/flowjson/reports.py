"""Findings rendered for people and for CI: text, JSON, GitHub annotations and SARIF 2.1.0.

Plain Python with no third-party import, so `flowgate flows validate` starts fast.
- text: `file:line:column: LEVEL CODE message (at pointer)` (editors jump to it);
- json: an array of `Finding.to_dict()`;
- github: workflow commands `::error file=...,line=...,col=...,title=...::message`
  (https://docs.github.com/actions/reference/workflow-commands-for-github-actions);
- sarif: one run of SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html),
  which code-scanning services read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from app.flowjson.findings import Finding, Level

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://developers.facebook.com/docs/whatsapp/flows/reference/flowjson"


def render(findings: Sequence[Finding], fmt: str, version: str = "") -> str:
    """The whole report in `fmt` (one of FORMATS); empty text when there is nothing to say."""
    if fmt == "json":
        return json.dumps([f.to_dict() for f in findings], indent=2)
    if fmt == "github":
        return "\n".join(github_line(f) for f in findings)
    if fmt == "sarif":
        return json.dumps(sarif(findings, version), indent=2)
    return "\n".join(f.format() for f in findings)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(finding: Finding) -> str:
    """One GitHub Actions annotation; ERROR is `::error`, WARNING `::warning`."""
    command = "error" if finding.is_error else "warning"
    props = [
        f"file={_escape_property(finding.file or '<flow>')}",
        f"line={finding.line or 1}",
        f"col={finding.column or 1}",
        f"title={_escape_property(finding.code)}",
    ]
    at = finding.pointer or "/"
    cited = f" Source: {finding.source}" if finding.source else ""
    return f"::{command} {','.join(props)}::{_escape_data(f'{finding.message} (at {at}){cited}')}"


def _uri(file: str | None) -> str:
    """A relative file stays relative (SARIF resolves it against the repository root)."""
    if not file:
        return "flow.json"
    path = PurePath(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def sarif(findings: Sequence[Finding], version: str = "") -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; rules are the finding codes that occur."""
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    driver: dict[str, Any] = {
        "name": "flowgate",
        "informationUri": INFORMATION_URI,
        "rules": [
            {"id": code, "shortDescription": {"text": code.replace("_", " ").capitalize()}}
            for code in codes
        ],
    }
    if version:
        driver["version"] = version
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": "error" if finding.level is Level.ERROR else "warning",
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.file)},
                        "region": {
                            "startLine": finding.line or 1,
                            "startColumn": finding.column or 1,
                        },
                    },
                    "logicalLocations": [
                        {"fullyQualifiedName": finding.pointer or "/", "kind": "element"}
                    ],
                }
            ],
        }
        if finding.source:
            result["properties"] = {"source": finding.source}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
