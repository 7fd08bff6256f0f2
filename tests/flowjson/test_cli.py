"""`flowgate flows validate|list` and `flowgate schemas generate`, run as a user would."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator, FormatChecker

from app.cli import cli
from app.flowjson.registry import FlowRegistry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    shutil.copytree(ROOT / "flows", flows, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(ROOT / "schemas", schemas)
    return flows, schemas


def run(dirs: tuple[Path, Path], *args: str) -> Result:
    env = {"FLOWGATE_FLOWS_DIR": str(dirs[0]), "FLOWGATE_SCHEMAS_DIR": str(dirs[1])}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_example_flows_validate_clean(dirs: tuple[Path, Path]) -> None:
    result = run(dirs, "flows", "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "3 file(s) checked: 0 error(s), 0 warning(s)" in result.stderr


def test_errors_print_compiler_style_lines_and_exit_1(dirs: tuple[Path, Path]) -> None:
    bad = dirs[0] / "broken.json"
    bad.write_text('{\n  "version": "7.3",\n  "screens": [\n    {"id": "A1"}\n  ]\n}\n')
    result = run(dirs, "flows", "validate", str(bad))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"{bad}:4:6: ERROR PATTERN_MISMATCH Screen id 'A1' should only consist of alphabets "
        "and underscores. (at /screens/0/id)" in lines
    )
    assert (
        f"{bad}:4:5: ERROR MISSING_REQUIRED_PROPERTY The screen property 'layout' is "
        "required. (at /screens/0)" in lines
    )


def test_warnings_alone_exit_0(dirs: tuple[Path, Path]) -> None:
    flow = json.loads((dirs[0] / "lead_capture.json").read_text())
    flow["version"] = "5.0"
    path = dirs[0] / "old_version.json"
    path.write_text(json.dumps(flow, indent=2))
    result = run(dirs, "flows", "validate", str(path))
    assert result.exit_code == 0
    assert "WARNING UNSUPPORTED_FLOW_JSON_VERSION" in result.stdout


def test_json_format_has_meta_shape(dirs: tuple[Path, Path]) -> None:
    bad = dirs[0] / "broken.json"
    bad.write_text('{"version": "9.9", "screens": []}')
    result = run(dirs, "flows", "validate", "--format", "json", str(bad))
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert [(f["code"], f["level"], f["pointer"], f["line"], f["column"]) for f in findings] == [
        ("INVALID_FLOW_JSON_VERSION", "ERROR", "/version", 1, 2),
        ("MIN_ITEMS_REQUIRED", "ERROR", "/screens", 1, 20),
    ]
    first = findings[0]
    assert first["error"] == first["error_type"] == "INVALID_FLOW_JSON_VERSION"
    assert (first["line_start"], first["column_start"], first["pointers"]) == (1, 2, ["/version"])


def test_missing_file_is_an_error(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    result = run(dirs, "flows", "validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "ERROR INVALID_FLOW_JSON Cannot read the file" in result.stdout


def test_schema_disagreement_warns_in_both_files(dirs: tuple[Path, Path]) -> None:
    schema_path = dirs[1] / "lead_capture.json"
    schema = json.loads(schema_path.read_text())
    schema["properties"]["budget"] = {"type": "number"}
    del schema["properties"]["phone"]
    schema_path.write_text(json.dumps(schema, indent=2))
    result = run(dirs, "flows", "validate", str(dirs[0] / "lead_capture.json"))
    assert result.exit_code == 0
    out = result.stdout
    assert "WARNING SCHEMA_FIELD_UNKNOWN The flow sends 'phone'" in out
    assert "(at /screens/0/layout/children/6/on-click-action/payload/phone)" in out
    assert (
        f"{schema_path}:" in out
        and "SCHEMA_FIELD_NOT_SENT" in out
        and "(at /properties/budget)" in out
    )


def test_flows_list_shows_served_state(dirs: tuple[Path, Path]) -> None:
    (dirs[0] / "broken.json").write_text("{")
    result = run(dirs, "flows", "list")
    assert result.exit_code == 0
    lines = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert lines["appointment"].startswith("served\tendpoint")
    assert lines["lead_capture"].startswith("served\tno-endpoint")
    assert lines["broken"].startswith("NOT SERVED")


def _lead_validator(dirs: tuple[Path, Path]) -> Draft202012Validator:
    result = run(dirs, "schemas", "generate", "lead_capture")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


GOOD = {
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0000",
    "email": "ada@example.com",
    "service": "installation",
    "preferred_date": "2026-12-01",
}


def test_generated_lead_schema_accepts_a_correct_submission(dirs: tuple[Path, Path]) -> None:
    assert list(_lead_validator(dirs).iter_errors(GOOD)) == []


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        ({"email": None}, "required"),
        ({"name": 42}, "type"),
        ({"email": "ada-at-example"}, "pattern"),
        ({"service": "tea"}, "enum"),
        ({"preferred_date": "2026-13-45"}, "format"),
    ],
)
def test_generated_lead_schema_rejects(
    dirs: tuple[Path, Path], change: dict[str, object], keyword: str
) -> None:
    submission = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    errors = list(_lead_validator(dirs).iter_errors(submission))
    assert keyword in {e.validator for e in errors}


def test_generate_traces_appointment_fields_through_navigate(dirs: tuple[Path, Path]) -> None:
    schema = json.loads(run(dirs, "schemas", "generate", "appointment").stdout)
    assert list(schema["properties"]) == [
        "department",
        "location",
        "date",
        "time",
        "name",
        "email",
        "phone",
        "more_details",
    ]
    assert "more_details" not in schema["required"] and "department" in schema["required"]
    assert schema["properties"]["email"]["format"] == "email"


def test_generate_write_refuses_to_overwrite(dirs: tuple[Path, Path]) -> None:
    result = run(dirs, "schemas", "generate", "lead_capture", "--write")
    assert result.exit_code == 1 and "exists" in result.output
    (dirs[1] / "lead_capture.json").unlink()
    assert run(dirs, "schemas", "generate", "lead_capture", "--write").exit_code == 0
    assert json.loads((dirs[1] / "lead_capture.json").read_text())["required"]


def test_generate_unknown_flow(dirs: tuple[Path, Path]) -> None:
    result = run(dirs, "schemas", "generate", "../flows/lead_capture")
    assert result.exit_code == 1 and "no flow" in result.output


def test_validate_and_list_say_which_schema_judges_submissions(
    dirs: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    (dirs[1] / "lead_capture.json").unlink()
    result = run(dirs, "flows", "validate")
    assert result.exit_code == 0, result.output
    assert "appointment: submissions checked against schemas/appointment.json" in result.stderr
    assert (
        "lead_capture: submissions checked against the schema derived from its Flow JSON "
        "(no schemas/lead_capture.json)" in result.stderr
    )
    listed = run(dirs, "flows", "list")
    lines = dict(line.split("\t", 1) for line in listed.stdout.splitlines())
    assert lines["appointment"].startswith("served\tendpoint\tschema:file\t")
    assert lines["lead_capture"].startswith("served\tno-endpoint\tschema:derived\t")
    with caplog.at_level(logging.INFO, logger="flowgate.flows"):
        FlowRegistry.load(*dirs)  # what start-up logs
    logged = [r.getMessage() for r in caplog.records]
    assert any(
        "'lead_capture': submissions checked against the schema derived" in m for m in logged
    )
