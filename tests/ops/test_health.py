"""Flow health: the rollup on both databases, Meta's thresholds with the settable clock, Meta's
alerts from a `flows` notification, the API and the CLI (docs/operations.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.models import Event, FlowHealthMinute
from app.ops.health import flow_health
from app.ops.rollup import Rollup
from app.ops.transitions import evaluate
from tests.conftest import API_TOKEN, make_config
from tests.leads.meta import post

T = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
FLOW = "appointment"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.set_now(T)
    yield
    clock.set_now(None)


def traffic(rollup: Rollup, n: int, seconds: float, result: str = "success", status: int = 200):
    for _ in range(n):
        rollup.observe(FLOW, status, result, seconds)
    rollup.flush()


def health_events(db: Database) -> list[dict]:
    with db.session() as s:
        bodies = s.scalars(
            select(Event.body).where(Event.type == "flow.health_changed").order_by(Event.created_at)
        ).all()
    return [json.loads(b) for b in bodies]


def test_rollup_sums_every_process_and_rewrites_idempotently(db: Database) -> None:
    one, two = Rollup(db), Rollup(db)
    traffic(one, 30, 0.05)
    traffic(two, 10, 0.6, "decryption_failed", 421)
    traffic(two, 2, 12.0, "timeout")
    one.flush()  # again: absolute values, nothing doubles
    with db.session() as s:
        doc = flow_health(s, FLOW, {}, clock.now())
        rows = s.scalar(select(func.count()).select_from(FlowHealthMinute))
    assert rows == 2  # one row per process and minute
    assert doc["requests"] == 42
    assert doc["errors"] == 12  # 421s and timeouts count; successes do not
    assert doc["error_rate"] == round(12 / 42, 4)
    assert doc["availability"] == round(1 - 2 / 42, 4)  # only timeouts and 5xx
    assert 10 <= doc["latency_p50_ms"] <= 50
    clock.advance(timedelta(hours=4))
    assert one.prune() == 2


def test_thresholds_move_the_status_and_raise_events(db: Database) -> None:
    config = make_config({"FLOWGATE_DATABASE_URL": "sqlite://", "FLOWGATE_APP_SECRET": "x"})
    rollup = Rollup(db)
    traffic(rollup, 100, 0.2)
    assert evaluate(db, FLOW, config)["status"] == "ok"
    assert health_events(db) == []

    traffic(rollup, 20, 3.0)  # 20 of 120 over 1 s: the p90 is above 1 s
    doc = evaluate(db, FLOW, config)
    assert doc["status"] == "warning"
    assert doc["latency_p90_ms"] > 1000
    assert [r["rule"] for r in doc["reasons"]] == ["latency_p90_ms"]
    assert evaluate(db, FLOW, config)["status"] == "warning"  # no second event

    clock.advance(timedelta(minutes=31))  # the slow minute leaves Meta's 30-minute window
    traffic(rollup, 88, 0.1)
    traffic(rollup, 12, 0.1, "decryption_failed", 421)  # 12 % errors
    doc = evaluate(db, FLOW, config)
    assert (doc["status"], doc["error_rate"]) == ("warning", 0.12)
    assert doc["reasons"][0]["rule"] == "error_rate"

    traffic(rollup, 200, 0.1, "signature_invalid", 432)  # 212 of 312: over 50 %
    assert evaluate(db, FLOW, config)["status"] == "critical"

    clock.advance(timedelta(minutes=31))
    traffic(rollup, 50, 0.1, "token_invalid", 427)  # 427s are not errors (Meta's wording)
    doc = evaluate(db, FLOW, config)
    assert (doc["status"], doc["error_rate"]) == ("ok", 0.0)

    events = health_events(db)
    assert [(e["data"]["previous_status"], e["data"]["status"]) for e in events] == [
        ("ok", "warning"),
        ("warning", "critical"),
        ("critical", "ok"),
    ]
    assert events[0]["data"]["flow"] == FLOW
    assert events[0]["data"]["health"]["latency_p90_ms"] > 1000


def test_availability_under_90_percent_is_critical(db: Database) -> None:
    config = make_config({"FLOWGATE_DATABASE_URL": "sqlite://", "FLOWGATE_APP_SECRET": "x"})
    rollup = Rollup(db)
    traffic(rollup, 85, 0.1)
    traffic(rollup, 15, 0.1, "server_error", 500)
    doc = evaluate(db, FLOW, config)
    assert doc["status"] == "critical"
    assert {r["rule"] for r in doc["reasons"]} == {"availability", "error_rate"}


def alert(state: str, at: int, event: str = "ENDPOINT_LATENCY", flow_id: str = "777") -> dict:
    value = {"event": event, "message": f"p90 latency {state}", "flow_id": flow_id,
             "alert_state": state, "threshold": 1000, "p90_latency": 1800}  # fmt: skip
    if event == "FLOW_STATUS_CHANGE":
        value = {"event": event, "flow_id": flow_id, "old_status": "PUBLISHED",
                 "new_status": state, "message": "Flow status changed"}  # fmt: skip
    change = {"field": "flows", "value": value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "1", "time": at, "changes": [change]}]}  # fmt: skip


def test_meta_alerts_appear_and_clear_in_the_api(variant, db: Database) -> None:  # type: ignore[no-untyped-def]
    app: Flask = variant(FLOWGATE_META_FLOW_IDS=f"{FLOW}=777")
    client = app.test_client()
    at = int(T.timestamp()) - 600
    assert post(client, alert("ACTIVATED", at)).status_code == 200
    doc = client.get(f"/api/v1/flows/{FLOW}/health", headers=AUTH).get_json()
    assert doc["status"] == "warning"
    [active] = doc["alerts"]
    assert (active["event"], active["matched"], active["activated_at"]) == (
        "ENDPOINT_LATENCY", True, clock.isoformat(datetime.fromtimestamp(at, UTC)))  # fmt: skip

    assert post(client, alert("THROTTLED", at + 60, "FLOW_STATUS_CHANGE")).status_code == 200
    assert client.get(f"/api/v1/flows/{FLOW}/health", headers=AUTH).get_json()["status"] == (
        "critical"
    )
    post(client, alert("DEACTIVATED", at + 120))
    post(client, alert("PUBLISHED", at + 180, "FLOW_STATUS_CHANGE"))
    doc = client.get(f"/api/v1/flows/{FLOW}/health", headers=AUTH).get_json()
    assert (doc["status"], doc["alerts"]) == ("ok", [])
    cleared = {a["event"]: a for a in doc["cleared_alerts"]}
    assert cleared["ENDPOINT_LATENCY"]["activated_at"] == active["activated_at"]
    assert cleared["ENDPOINT_LATENCY"]["deactivated_at"] == clock.isoformat(
        datetime.fromtimestamp(at + 120, UTC)
    )
    changes = [e["data"]["status"] for e in health_events(db)]
    assert changes == ["warning", "critical", "ok"]


def test_unmatched_alert_is_shown_but_changes_nothing(client: FlaskClient) -> None:
    post(client, alert("ACTIVATED", int(T.timestamp()) - 60, flow_id="999"))
    doc = client.get(f"/api/v1/flows/{FLOW}/health", headers=AUTH).get_json()
    assert doc["status"] == "ok"
    assert [(a["meta_flow_id"], a["matched"]) for a in doc["alerts"]] == [("999", False)]


def test_api_counts_real_endpoint_requests(app: Flask, client: FlaskClient, wa) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        wa(FLOW).ping()
    doc = client.get(f"/api/v1/flows/{FLOW}/health", headers=AUTH).get_json()
    assert set(doc) >= {"flow", "status", "latency_p90_ms", "error_rate", "requests",
                        "window_minutes", "alerts"}  # fmt: skip
    assert (doc["flow"], doc["status"], doc["requests"], doc["error_rate"]) == (FLOW, "ok", 3, 0.0)
    assert doc["window_minutes"] == 30
    assert client.get("/api/v1/flows/nope/health", headers=AUTH).status_code == 404
    assert client.get(f"/api/v1/flows/{FLOW}/health").status_code == 401


def test_cli_prints_health_and_exits_by_status(runner, settings, db: Database) -> None:  # type: ignore[no-untyped-def]
    traffic(Rollup(db), 10, 0.1, "server_error", 500)
    env = {k: v for k, v in settings.items() if k.startswith("FLOWGATE_")}
    result = runner.invoke(args=["flows", "health", FLOW], env=env)
    assert result.exit_code == 2, result.output
    assert f"{FLOW}\tCRITICAL" in result.output
    result = runner.invoke(args=["flows", "health", "--json", FLOW], env=env)
    assert json.loads(result.output)[0]["error_rate"] == 1.0
    assert runner.invoke(args=["flows", "health", "nope"], env=env).exit_code == 1
