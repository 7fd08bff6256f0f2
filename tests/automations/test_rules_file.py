"""The rules file: located findings, `flowgate flows validate`, start-up, rules that run."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

from app import create_app
from app.automations.evaluate import fill, matches
from app.automations.rules import Rule, check_text, load_rules
from app.crypto.tokens import verify_token
from app.flowjson.registry import FlowRegistry
from tests.automations.conftest import AT, HOURS_RULE, WA, drain, inbound, sends
from tests.conftest import ROOT, make_config

REGISTRY = FlowRegistry.load(ROOT / "flows", ROOT / "schemas")

BROKEN = """{
  "rules": [
    {"name": "a", "on": "message.recieved", "send": {"type": "text", "text": "hi"}},
    {"name": "b", "on": "flow.submitted", "when": {"flow": "nosuch"},
     "send": {"type": "template", "name": "x"}},
    {"name": "c", "on": "window.expiring", "delay_seconds": 3600,
     "send": {"type": "text", "text": "too late"}},
    {"name": "d", "on": "message.received", "when": {"keywords": ["hi"]},
     "send": {"type": "flow", "flow": "lead_capture", "body": "Form", "cta": "Open"}},
    {"name": "d", "on": "message.received", "colour": "red",
     "send": {"type": "text", "text": "{nickname}"}}
  ]
}
"""


def codes(text: str) -> list[tuple[str, str, int, int]]:
    found = check_text(text, "automations.json", REGISTRY).findings
    return [(f.level.value, f.code, f.line or 0, f.column or 0) for f in found]


def test_findings_are_located_like_a_flows() -> None:
    assert codes(BROKEN) == [
        ("ERROR", "UNKNOWN_TRIGGER", 3, 19),  # each at its key's opening quote
        ("ERROR", "UNKNOWN_FLOW", 4, 52),
        ("ERROR", "TEMPLATE_WITHOUT_LANGUAGE", 5, 6),
        ("ERROR", "FREE_FORM_AFTER_WINDOW", 7, 15),
        ("ERROR", "UNKNOWN_KEY", 10, 45),
        ("WARNING", "UNKNOWN_PLACEHOLDER", 11, 31),
        ("ERROR", "DUPLICATE_RULE_NAME", 10, 6),
    ]
    rules = check_text(BROKEN, "automations.json", REGISTRY).rules
    assert [r.name for r in rules] == ["d"]  # rules with errors do not run; the others do


def test_unparseable_file_is_one_finding_and_no_rules() -> None:
    result = check_text('{"rules": [', "automations.json", REGISTRY)
    assert [f.code for f in result.findings] == ["INVALID_AUTOMATIONS_JSON"]
    assert result.rules == () and result.findings[0].line == 1


def test_flows_validate_checks_the_rules_file(runner, tmp_path: Path) -> None:
    bad = tmp_path / "automations.json"
    bad.write_text(BROKEN)
    result = runner.invoke(["flows", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3:19: ERROR UNKNOWN_TRIGGER" in result.output
    shipped = runner.invoke(["flows", "validate", str(ROOT / "flows" / "automations.json")])
    assert shipped.exit_code == 0, shipped.output


def test_the_shipped_rules_are_clean_and_documented() -> None:
    rules = load_rules(ROOT / "flows" / "automations.json", REGISTRY)
    assert rules.findings == () and {r.on for r in rules.rules} == {
        "flow.submitted",
        "message.received",
    }
    docs = (ROOT / "docs" / "automations.md").read_text()
    for rule in rules.rules:
        assert rule.name in docs


def test_startup_logs_the_findings(settings, db, tmp_path, caplog) -> None:
    path = tmp_path / "automations.json"
    path.write_text(BROKEN)
    with caplog.at_level(logging.INFO, logger="flowgate.automations"):
        app = create_app(make_config({**settings, "FLOWGATE_AUTOMATIONS_FILE": str(path)}))
    app.extensions["flowgate"].db.dispose()
    assert "UNKNOWN_TRIGGER" in caplog.text and "1 rule(s) will run" in caplog.text


def test_matching_and_placeholders() -> None:
    rule = Rule("r", "message.received", {"type": "text", "text": "x"}, keywords=("price list",))
    assert matches(rule, {"text": "Send me the PRICE  list please"})
    assert not matches(rule, {"text": "pricelist"})
    first = Rule("f", "message.received", {"type": "text", "text": "x"}, first_in_window=True)
    assert matches(first, {"first_in_window": True}) and not matches(
        first, {"first_in_window": False}
    )
    data = {"contact_name": "Ana", "fields": {"date": "2026-12-01"}}
    assert fill("Hi {contact_name}, {fields.date} {fields.none} {other}", data) == (
        "Hi Ana, 2026-12-01  {other}"
    )


def test_flow_send_carries_a_fresh_token_for_the_contact(
    web, db, cloud, make_runner, rules_file
) -> None:
    rules_file(
        {
            "name": "form",
            "on": "message.received",
            "when": {"keywords": ["quote"], "first_in_window": True},
            "send": {"type": "flow", "flow": "lead_capture", "body": "Tell us more", "cta": "Open"},
        },
        HOURS_RULE,
    )
    inbound(web, "a quote please", message_id="wamid.0")
    inbound(web, "another quote", message_id="wamid.1", at=AT + timedelta(minutes=1))
    drain(make_runner)
    assert cloud.shape_errors == []
    [body] = cloud.bodies()  # the second message was not the first in the window
    params = body["interactive"]["action"]["parameters"]
    claims = verify_token("test-token-secret", params["flow_token"])
    assert (claims.flow, claims.wa_id) == ("lead_capture", WA)
    assert params["flow_name"] == "lead_capture" and params["flow_cta"] == "Open"
    [send] = sends(db)
    assert send.flow_token == params["flow_token"]


def test_business_hours_condition() -> None:
    from datetime import UTC, datetime

    hours = {"timezone": "America/Sao_Paulo", "start": "09:00", "end": "18:00"}
    closed = Rule(
        "closed",
        "message.received",
        {"type": "text", "text": "x"},
        hours={**hours, "match": "outside"},
    )
    open_rule = Rule("open", "message.received", {"type": "text", "text": "x"}, hours=hours)
    monday_10_local = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # UTC-3: 10:00 on a Monday
    monday_20_local = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    saturday_10_local = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    assert matches(open_rule, {}, monday_10_local) and not matches(closed, {}, monday_10_local)
    assert matches(closed, {}, monday_20_local) and matches(closed, {}, saturday_10_local)
    night = Rule(
        "night",
        "message.received",
        {"type": "text", "text": "x"},
        hours={"timezone": "UTC", "start": "22:00", "end": "06:00", "days": ["fri"]},
    )
    assert matches(night, {}, datetime(2026, 12, 4, 23, 0, tzinfo=UTC))  # Friday night
    assert matches(night, {}, datetime(2026, 12, 5, 5, 0, tzinfo=UTC))  # Saturday early: Friday's
    assert not matches(night, {}, datetime(2026, 12, 6, 5, 0, tzinfo=UTC))  # Sunday early


def test_business_hours_findings() -> None:
    text = json.dumps(
        {
            "rules": [
                {
                    "name": "h",
                    "on": "message.received",
                    "when": {"hours": {"timezone": "Mars/Olympus", "start": "9", "end": "18:00"}},
                    "send": {"type": "text", "text": "x"},
                }
            ]
        }
    )
    result = check_text(text, "automations.json", REGISTRY)
    assert [(f.code, f.pointer) for f in result.findings] == [
        ("INVALID_HOURS", "/rules/0/when/hours/timezone"),
        ("INVALID_HOURS", "/rules/0/when/hours/start"),
    ]
    assert result.rules == ()
