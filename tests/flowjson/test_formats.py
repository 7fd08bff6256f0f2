"""`flowgate flows validate --format text|json|github|sarif` and `--strict`.

The SARIF output is validated against the published SARIF 2.1.0 JSON Schema
(tests/data/sarif-schema-2.1.0.json, source and licence in tests/data/README.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft7Validator

from app.cli.validate import validate_command
from app.flowjson.findings import Finding, Level
from app.flowjson.reports import github_line

DATA = Path(__file__).resolve().parents[1] / "data"
# A DatePicker min-date in the disputed format (a WARNING) and an unknown screen (an ERROR).
FLOW = {
    "version": "7.3",
    "screens": [
        {
            "id": "ONLY",
            "terminal": True,
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "DatePicker", "name": "d", "label": "Day", "min-date": "1700000"},
                    {
                        "type": "Footer",
                        "label": "Go",
                        "on-click-action": {
                            "name": "navigate",
                            "next": {"type": "screen", "name": "NOWHERE"},
                        },
                    },
                ],
            },
        }
    ],
}


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "two, problems.json"  # a comma: GitHub's property escaping is exercised
    path.write_text(json.dumps(FLOW, indent=2))
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(validate_command, list(args), catch_exceptions=False)


def test_sarif_output_is_valid_against_the_published_schema(flow: Path) -> None:
    result = run("--format", "sarif", str(flow))
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(log), key=str)
    assert errors == []
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    levels = sorted((r["ruleId"], r["level"]) for r in results)
    assert ("INVALID_PROPERTY_VALUE_FORMAT", "warning") in levels
    assert any(level == "error" for _, level in levels)
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] > 1 and region["startColumn"] >= 1
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)


def test_the_schema_rejects_a_broken_log() -> None:
    # The vendored schema is the real one: a log without `runs` does not pass.
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    assert list(Draft7Validator(schema).iter_errors({"version": "2.1.0"}))
    assert list(Draft7Validator(schema).iter_errors({"version": "2.0", "runs": []}))


_ANNOTATION = re.compile(
    r"^::(error|warning) file=([^,:]*),line=(\d+),col=(\d+),title=(\w+)::(.+)$"
)


def test_github_format_prints_one_workflow_annotation_per_finding(flow: Path) -> None:
    result = run("--format", "github", str(flow))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(_ANNOTATION.match(line) for line in lines), lines
    kinds = {_ANNOTATION.match(line).group(1) for line in lines}  # type: ignore[union-attr]
    assert kinds == {"error", "warning"}
    assert all("%2C" in line and "two" in line for line in lines)  # the comma is escaped


def test_github_escapes_newlines_percent_and_property_separators() -> None:
    finding = Finding("X", Level.WARNING, "50% done\nnext", "/a", 3, 4, "a:b,c.json")
    line = github_line(finding)
    assert line.startswith("::warning file=a%3Ab%2Cc.json,line=3,col=4,title=X::")
    assert "50%25 done%0Anext" in line and "\n" not in line


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    flow = json.loads(json.dumps(FLOW))
    flow["screens"][0]["layout"]["children"][1]["on-click-action"] = {"name": "complete"}
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(flow, indent=2))
    relaxed = run(str(path))
    assert relaxed.exit_code == 0 and " WARNING INVALID_PROPERTY_VALUE_FORMAT " in relaxed.stdout
    strict = run("--strict", str(path))
    assert strict.exit_code == 1 and " ERROR INVALID_PROPERTY_VALUE_FORMAT " in strict.stdout
    assert "1 error(s), 0 warning(s)" in strict.stderr
    as_json = json.loads(run("--strict", "--format", "json", str(path)).stdout)
    assert [f["level"] for f in as_json] == ["ERROR"]


def test_json_and_text_formats_are_unchanged_in_shape(flow: Path) -> None:
    text = run(str(flow)).stdout.splitlines()
    assert all(line.startswith(f"{flow}:") for line in text)
    findings = json.loads(run("--format", "json", str(flow)).stdout)
    assert {"code", "level", "message", "pointer", "line", "column", "file", "source"} <= set(
        findings[0]
    )
