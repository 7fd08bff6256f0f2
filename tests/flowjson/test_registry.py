"""FlowRegistry: bad flows are kept, logged and not served; good ones keep working."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

from app.flowjson.registry import FlowRegistry, report
from app.flowjson.schema_gen import generate_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    flows.mkdir()
    schemas.mkdir()
    for name in ("lead_capture", "appointment"):
        shutil.copy(ROOT / "flows" / f"{name}.json", flows)
        shutil.copy(ROOT / "schemas" / f"{name}.json", schemas)
    return flows, schemas


def test_example_flows_load_valid(dirs: tuple[Path, Path]) -> None:
    registry = FlowRegistry.load(*dirs)
    assert [d.name for d in registry.all()] == ["appointment", "lead_capture"]
    lead = registry.servable("lead_capture")
    assert lead is not None and lead.valid and not lead.endpoint_powered
    assert lead.findings == () and lead.schema is not None and lead.module is None
    appointment = registry.servable("appointment")
    assert appointment is not None and appointment.endpoint_powered
    assert registry.get("nope") is None and registry.servable("nope") is None


def test_invalid_flow_is_kept_logged_and_not_served(
    dirs: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    flow = json.loads((dirs[0] / "lead_capture.json").read_text())
    del flow["screens"][0]["terminal"], flow["screens"][0]["success"]
    (dirs[0] / "broken.json").write_text(json.dumps(flow, indent=2))
    (dirs[0] / "garbage.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="flowgate.flows"):
        registry = FlowRegistry.load(*dirs)
    broken = registry.get("broken")
    assert broken is not None and not broken.valid
    assert registry.servable("broken") is None
    assert {f.code for f in broken.errors} == {
        "MISSING_TERMINAL_SCREEN",
        "INVALID_COMPLETE_ACTION",
    }
    garbage = registry.get("garbage")
    assert garbage is not None and garbage.document is None and not garbage.valid
    assert registry.servable("lead_capture") is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "flow 'broken' is not served" in logged and "MISSING_TERMINAL_SCREEN" in logged
    assert "flow 'garbage' is not served" in logged and "INVALID_FLOW_JSON" in logged


def test_handler_module_is_imported_under_a_unique_name(dirs: tuple[Path, Path]) -> None:
    (dirs[0] / "lead_capture.py").write_text("GREETING = 'hello'\n")
    registry = FlowRegistry.load(*dirs)
    lead = registry.servable("lead_capture")
    assert lead is not None and lead.module is not None
    assert lead.module.GREETING == "hello"
    assert lead.module.__name__ == "flowgate_flows.lead_capture"
    assert sys.modules["flowgate_flows.lead_capture"] is lead.module


@pytest.mark.parametrize(
    "source", ["raise RuntimeError('boom')\n", "def broken(:\n", "import sys\nsys.exit(3)\n"]
)
def test_broken_handler_module_is_an_error_not_a_crash(
    dirs: tuple[Path, Path], source: str
) -> None:
    (dirs[0] / "lead_capture.py").write_text(source)
    registry = FlowRegistry.load(*dirs)
    lead = registry.get("lead_capture")
    assert lead is not None and not lead.valid and lead.module is None
    [finding] = lead.findings
    assert finding.code == "HANDLER_MODULE_ERROR" and finding.file == str(
        dirs[0] / "lead_capture.py"
    )
    assert registry.servable("appointment") is not None


def test_broken_schema_file_is_an_error(dirs: tuple[Path, Path]) -> None:
    (dirs[1] / "lead_capture.json").write_text('{"type": "object", "required": "name"}')
    lead = FlowRegistry.load(*dirs).get("lead_capture")
    assert lead is not None and not lead.valid and lead.schema is None
    assert lead.schema_source is None
    [finding] = lead.findings
    assert (finding.code, finding.pointer, finding.line) == (
        "INVALID_SUBMISSION_SCHEMA",
        "/required",
        1,
    )


def test_missing_schema_file_uses_the_derived_schema(dirs: tuple[Path, Path]) -> None:
    (dirs[1] / "lead_capture.json").unlink()
    lead = FlowRegistry.load(*dirs).get("lead_capture")
    assert lead is not None and lead.valid and lead.schema_source == "derived"
    assert lead.schema == generate_schema(lead.document or {}, "lead_capture")
    assert report(lead)["schema_source"] == "derived"


def test_bad_flow_name_is_not_served(dirs: tuple[Path, Path]) -> None:
    shutil.copy(dirs[0] / "lead_capture.json", dirs[0] / "lead capture.json")
    registry = FlowRegistry.load(*dirs)
    assert registry.servable("lead capture") is None
    assert "INVALID_FLOW_NAME" in {f.code for f in registry.get("lead capture").findings}  # type: ignore[union-attr]


def test_missing_flows_dir_gives_an_empty_registry(tmp_path: Path) -> None:
    assert FlowRegistry.load(tmp_path / "none", tmp_path / "none").all() == []
