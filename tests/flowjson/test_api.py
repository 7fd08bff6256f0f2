"""A bad flow in a running app: 404 on its endpoint, findings in the API, others unaffected."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.db import Database
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flow_app(
    settings: dict[str, str], db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Flask]:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    broken = json.loads((flows / "appointment.json").read_text())
    broken["data_api_version"] = "9.9"  # no such Data API
    (flows / "broken.json").write_text(json.dumps(broken, indent=2))
    with caplog.at_level(logging.WARNING, logger="flowgate.flows"):
        app = create_app(make_config({**settings, "FLOWGATE_FLOWS_DIR": str(flows)}))
    yield app
    app.extensions["flowgate"].db.dispose()


def test_invalid_flow_is_not_served_and_the_log_says_why(
    flow_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    setup = caplog.get_records("setup")
    logged = [r.getMessage() for r in setup if r.name == "flowgate.flows"]
    assert any(
        "flow 'broken' is not served" in m and "NO_SUPPORTED_DATA_API_VERSION" in m for m in logged
    )
    client = flow_app.test_client()
    body = {"encrypted_flow_data": "x", "encrypted_aes_key": "y", "initial_vector": "z"}
    assert client.post("/flows/broken/endpoint", json=body).status_code == 404
    # The valid endpoint flow is served: it gets past the 404 to the signature check (432).
    assert client.post("/flows/appointment/endpoint", json=body).status_code == 432


def test_flows_list(flow_app: Flask, api_headers: dict[str, str]) -> None:
    client: FlaskClient = flow_app.test_client()
    response = client.get("/api/v1/flows", headers=api_headers)
    assert response.status_code == 200
    page = response.get_json()
    assert page["next_cursor"] is None
    by_name = {item["name"]: item for item in page["items"]}
    assert list(by_name) == ["appointment", "broken", "lead_capture"]
    assert by_name["broken"]["valid"] is False and by_name["broken"]["errors"] == 1
    assert by_name["appointment"]["valid"] is True
    assert by_name["appointment"]["schema_source"] == "file"
    assert by_name["appointment"]["endpoint_powered"] is True
    assert by_name["lead_capture"]["screens"] == ["LEAD_FORM"]
    assert "findings" not in by_name["broken"]


def test_flows_list_pages_with_a_cursor(flow_app: Flask, api_headers: dict[str, str]) -> None:
    client = flow_app.test_client()
    first = client.get("/api/v1/flows?limit=2", headers=api_headers).get_json()
    assert [i["name"] for i in first["items"]] == ["appointment", "broken"]
    rest = client.get(
        f"/api/v1/flows?limit=2&cursor={first['next_cursor']}", headers=api_headers
    ).get_json()
    assert [i["name"] for i in rest["items"]] == ["lead_capture"] and rest["next_cursor"] is None
    bad = client.get("/api/v1/flows?cursor=garbage", headers=api_headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"]


def test_one_flow_with_its_report(flow_app: Flask, api_headers: dict[str, str]) -> None:
    client = flow_app.test_client()
    report = client.get("/api/v1/flows/broken", headers=api_headers).get_json()
    [finding] = report["findings"]
    assert (finding["code"], finding["level"], finding["pointer"]) == (
        "NO_SUPPORTED_DATA_API_VERSION",
        "ERROR",
        "/data_api_version",
    )
    assert finding["line"] == 3 and finding["column"] == 3
    assert finding["pointers"] == ["/data_api_version"]
    good = client.get("/api/v1/flows/lead_capture", headers=api_headers).get_json()
    assert good["valid"] is True and good["findings"] == []
    assert good["submission_schema"]["required"][0] == "name"


def test_unknown_flow_and_auth(flow_app: Flask, api_headers: dict[str, str]) -> None:
    client = flow_app.test_client()
    missing = client.get("/api/v1/flows/nope", headers=api_headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"]
    assert client.get("/api/v1/flows").status_code == 401
