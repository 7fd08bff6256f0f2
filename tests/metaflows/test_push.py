"""`flowgate flows push|publish|status|preview` against a loopback fake of Meta's Flows API,
on every database backend: request shapes, stored ids, Meta's errors mapped to lines."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.models import MetaFlow
from tests.metaflows.conftest import PUBLIC_URL, TOKEN, WABA, flowgate
from tests.metaflows.fake_meta import FakeMeta, Flow


def rows(db: Database) -> dict[str, MetaFlow]:
    with db.session() as session:
        return {r.name: r for r in session.scalars(select(MetaFlow))}


def test_push_creates_the_flow_uploads_its_exact_json_and_stores_the_id(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    result = flowgate(env, "flows", "push", "lead_capture", "--category", "LEAD_GENERATION")
    assert result.exit_code == 0, result.output
    (flow,) = meta.flows.values()
    assert f"created Flow lead_capture on Meta: id {flow.id}" in result.stderr
    assert [c.path for c in meta.calls] == [
        f"/{WABA}/flows",
        f"/{WABA}/flows",
        f"/{flow.id}/assets",
    ]
    lookup, create, upload = meta.calls
    assert lookup.method == "GET" and lookup.query["fields"] == "id,name,status"
    assert create.headers["content-type"].startswith("application/json")
    assert {k: v for k, v in create.body.items() if k != "_kind"} == {
        "name": "lead_capture",
        "categories": ["LEAD_GENERATION"],
    }  # not endpoint-powered: no endpoint_uri
    assert upload.headers["content-type"].startswith("multipart/form-data")
    filename, content_type, content = upload.body["file"]
    assert (filename, content_type) == ("flow.json", "application/json")
    assert content == (Path(env["FLOWGATE_FLOWS_DIR"]) / "lead_capture.json").read_bytes()
    assert upload.body["name"][2] == b"flow.json" and upload.body["asset_type"][2] == b"FLOW_JSON"
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in meta.calls)
    row = rows(db)["lead_capture"]
    assert (row.waba_id, row.meta_flow_id, row.status) == (WABA, flow.id, "DRAFT")
    assert row.json_sha256 and row.pushed_at is not None and row.validation_errors == 0
    assert TOKEN not in result.output


def test_an_endpoint_flow_gets_its_endpoint_uri_on_create_and_on_update(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    assert flowgate(env, "flows", "push", "appointment").exit_code == 0
    (flow,) = meta.flows.values()
    uri = f"{PUBLIC_URL}/flows/appointment/endpoint"
    assert meta.calls_to("POST", f"/{WABA}/flows")[0].body["endpoint_uri"] == uri
    assert flow.endpoint_uri == uri
    meta.calls.clear()
    env["FLOWGATE_PUBLIC_URL"] = "https://new.example.com/"
    second = flowgate(env, "flows", "push", "appointment")
    assert second.exit_code == 0, second.output
    assert "updated Flow appointment" in second.stderr
    assert [(c.method, c.path) for c in meta.calls] == [
        ("POST", f"/{flow.id}"),
        ("POST", f"/{flow.id}/assets"),
    ]  # the stored id: no lookup, no second create
    assert meta.calls[0].body == {
        "_kind": "json",
        "endpoint_uri": "https://new.example.com/flows/appointment/endpoint",
    }
    assert rows(db)["appointment"].endpoint_uri == flow.endpoint_uri


def test_an_endpoint_flow_needs_an_https_public_url_and_nothing_is_sent(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    del env["FLOWGATE_PUBLIC_URL"]
    result = flowgate(env, "flows", "push", "appointment")
    assert result.exit_code == 1 and "FLOWGATE_PUBLIC_URL" in result.output
    env["FLOWGATE_PUBLIC_URL"] = "http://plain.example.com"
    assert "https://" in flowgate(env, "flows", "push", "appointment").output
    assert meta.calls == [] and rows(db) == {}


def test_meta_validation_errors_come_back_at_file_line_column(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    path = Path(env["FLOWGATE_FLOWS_DIR"]) / "lead_capture.json"
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if '"children"' in line) + 1
    meta.next_errors = [
        {
            "error": "INVALID_PROPERTY_VALUE",
            "error_type": "FLOW_JSON_ERROR",
            "message": "Invalid value found for property 'x'.",
            "line_start": row,
            "line_end": row,
            "column_start": 9,
            "column_end": 19,
            "pointers": [{"line_start": row, "column_start": 9, "path": "screens[0].layout"}],
        },
        {
            "error": "MISSING_ROUTE",
            "message": "No line given.",
            "pointers": [{"path": "screens[0]"}],
        },
    ]
    result = flowgate(env, "flows", "push", "lead_capture")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0] == (
        f"{path}:{row}:9: ERROR INVALID_PROPERTY_VALUE Meta: Invalid value found for property "
        "'x'. [Meta: FLOW_JSON_ERROR] (at /screens/0/layout)"
    )
    screen = next(i for i, line in enumerate(lines) if '"screens"' in line) + 2
    assert out[1].startswith(f"{path}:{screen}:") and "(at /screens/0)" in out[1]
    assert "Meta reports 2 validation error(s)" in result.stderr
    assert rows(db)["lead_capture"].validation_errors == 2
    meta.next_errors = next(iter(meta.flows.values())).validation_errors
    sarif = json.loads(flowgate(env, "flows", "push", "lead_capture", "--format", "sarif").stdout)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": row, "startColumn": 9}


def test_local_errors_stop_the_push_unless_forced(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    path = Path(env["FLOWGATE_FLOWS_DIR"]) / "lead_capture.json"
    doc = json.loads(path.read_text())
    doc["screens"][0]["id"] = "BAD1"
    path.write_text(json.dumps(doc, indent=2))
    refused = flowgate(env, "flows", "push", "lead_capture")
    assert refused.exit_code == 1 and "PATTERN_MISMATCH" in refused.stdout and meta.calls == []
    forced = flowgate(env, "flows", "push", "lead_capture", "--force")
    assert forced.exit_code == 0 and len(meta.flows) == 1


def test_an_existing_flow_of_the_same_name_is_found_across_pages(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    meta.page_size = 2
    for i, name in enumerate(["a", "b", "c", "lead_capture"]):
        meta.flows[str(900 + i)] = Flow(str(900 + i), name, ["OTHER"])
    result = flowgate(env, "flows", "push", "lead_capture")
    assert result.exit_code == 0, result.output
    assert len(meta.calls_to("GET", f"/{WABA}/flows")) == 2  # paging.next followed
    assert meta.calls_to("POST", f"/{WABA}/flows") == []
    assert rows(db)["lead_capture"].meta_flow_id == "903"


def test_a_stored_id_deleted_on_meta_is_replaced(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    assert flowgate(env, "flows", "push", "lead_capture").exit_code == 0
    old = rows(db)["lead_capture"].meta_flow_id
    meta.flows.clear()  # deleted in Meta's UI
    result = flowgate(env, "flows", "push", "lead_capture")
    assert result.exit_code == 0, result.output
    (flow,) = meta.flows.values()
    assert flow.id != old and rows(db)["lead_capture"].meta_flow_id == flow.id


def test_publish_status_and_preview(env: dict[str, str], meta: FakeMeta, db: Database) -> None:
    assert flowgate(env, "flows", "push", "lead_capture").exit_code == 0
    (flow,) = meta.flows.values()
    published = flowgate(env, "flows", "publish", "lead_capture")
    assert published.exit_code == 0, published.output
    assert f"published Flow lead_capture (id {flow.id}): status PUBLISHED" in published.stdout
    assert meta.calls_to("POST", f"/{flow.id}/publish")[0].body is None
    row = rows(db)["lead_capture"]
    assert row.status == "PUBLISHED" and row.published_at is not None
    status = flowgate(env, "flows", "status", "lead_capture")
    assert status.exit_code == 0
    assert "status:    PUBLISHED" in status.stdout and "can_send_message AVAILABLE" in status.stdout
    fields = meta.calls_to("GET", f"/{flow.id}")[-1].query["fields"].split(",")
    assert {"status", "validation_errors", "health_status"} <= set(fields)
    preview = flowgate(env, "flows", "preview", "lead_capture")
    assert preview.stdout.strip().startswith("https://business.facebook.com/wa/manage/flows/")
    assert meta.calls[-1].query["fields"] == "preview.invalidate(false)"
    fresh = flowgate(env, "flows", "preview", "lead_capture", "--invalidate")
    assert fresh.stdout != preview.stdout
    assert meta.calls[-1].query["fields"] == "preview.invalidate(true)"
    again = flowgate(env, "flows", "push", "lead_capture")  # Meta refuses changes now
    assert again.exit_code == 1 and "not in DRAFT" in again.output and "139001" in again.output


def test_publish_refused_by_meta_is_a_clean_error(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    meta.next_errors = [{"error": "X", "message": "bad", "line_start": 1, "column_start": 1}]
    assert flowgate(env, "flows", "push", "lead_capture").exit_code == 1
    result = flowgate(env, "flows", "publish", "lead_capture")
    assert result.exit_code == 1
    assert "Publishing failed" in result.output and "code 139002" in result.output
    assert "Traceback" not in result.output


def test_commands_for_an_unknown_flow_or_a_wrong_token_fail_cleanly(
    env: dict[str, str], meta: FakeMeta, db: Database
) -> None:
    missing = flowgate(env, "flows", "status", "lead_capture")
    assert missing.exit_code == 1 and "flowgate flows push lead_capture" in missing.output
    env["FLOWGATE_ACCESS_TOKEN"] = "wrong-token"
    refused = flowgate(env, "flows", "push", "lead_capture")
    assert refused.exit_code == 1 and "code 190" in refused.output
    assert "wrong-token" not in refused.output
    del env["FLOWGATE_WABA_ID"]
    unset = flowgate(env, "flows", "preview", "lead_capture")
    assert unset.exit_code == 1 and "FLOWGATE_WABA_ID" in unset.output
