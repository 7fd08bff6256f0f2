"""From a trigger to intended sends: which rules match, and the exact body each would send.

Runs in the worker inside one transaction per batch of triggers: the trigger is marked done,
its sends are inserted (each keyed `rule:<rule>:<trigger key>`, unique) and the rules'
throttles are updated together, so a crash replays the whole batch or none of it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.automations.hours import holds
from app.automations.rules import PLACEHOLDER, Rule, RuleSet
from app.clock import isoformat
from app.clock import now as clock_now
from app.errors import FlowgateError
from app.ids import new_id
from app.leads.triggers import earlier_in_window, has_subscriber, warning_row
from app.leads.window import WINDOW, window_state
from app.messaging.payloads import MessageRequest, TemplateSpec
from app.messaging.prepare import prepare
from app.models import (
    AutomationThrottle,
    Contact,
    ContactAutomation,
    MessageSend,
)
from app.models.enums import EventType
from app.models.outbox import enqueue_event

log = logging.getLogger("flowgate.automations")
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def words(text: str | None) -> set[str]:
    """The whole words of `text`, case-folded (keywords match whole words only)."""
    return {w.casefold() for w in re.findall(r"\w+", text or "")}


def matches(rule: Rule, data: dict[str, Any], now: datetime | None = None) -> bool:
    """Does `rule`'s `when` hold for the trigger's data (and, for `hours`, at `now`)?"""
    if rule.hours is not None and not holds(rule.hours, now or clock_now()):
        return False
    if rule.keywords:
        said = data.get("text") or ""
        found = words(said)
        ok = False
        for keyword in rule.keywords:
            parts = [p.casefold() for p in re.findall(r"\w+", keyword)]
            if (len(parts) == 1 and parts[0] in found) or (
                len(parts) > 1
                and re.search(
                    r"(?<!\w)" + r"\W+".join(map(re.escape, parts)) + r"(?!\w)", said.casefold()
                )
            ):
                ok = True
        if not ok:
            return False
    if (
        rule.first_in_window is not None
        and bool(data.get("first_in_window")) != rule.first_in_window
    ):
        return False
    return rule.flow is None or data.get("flow") == rule.flow


def fill(text: str, data: dict[str, Any]) -> str:
    """Placeholders (`{contact_name}`, `{fields.date}`...) filled from the trigger's data;
    unknown ones stay as written; a missing contact name becomes an empty string."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("fields."):
            fields = data.get("fields") or {}
            found = fields.get(name[7:]) if isinstance(fields, dict) else None
            return "" if found is None else str(found)
        if name in data and not isinstance(data[name], dict | list):
            return "" if data[name] is None else str(data[name])
        return match.group(0)

    return PLACEHOLDER.sub(value, text)


def build_request(rule: Rule, wa_id: str, data: dict[str, Any]) -> MessageRequest:
    """The API-shaped request for `rule`'s send (the same checks as POST /api/v1/messages)."""
    send = rule.send
    kind = send["type"]
    if kind == "text":
        return MessageRequest(
            wa_id=wa_id,
            type="text",
            text=fill(send["text"], data)[:4096],
            preview_url=send.get("preview_url"),
        )
    if kind == "flow":
        meta_id, meta_name = send.get("meta_flow_id"), send.get("meta_flow_name")
        return MessageRequest(
            wa_id=wa_id,
            type="flow",
            flow=send["flow"],
            meta_flow_id=meta_id,
            meta_flow_name=meta_name if (meta_id or meta_name) else send["flow"],
            body=fill(send["body"], data)[:1024],
            cta=send["cta"],
            header=send.get("header"),
            footer=send.get("footer"),
        )
    spec = TemplateSpec(send["name"], send["language"], tuple(send.get("components") or ()))
    return MessageRequest(wa_id=wa_id, type="template", template=spec)


def send_key(rule: str, trigger_key: str) -> str:
    key = f"rule:{rule}:{trigger_key}"
    return key if len(key) <= 255 else "rule:sha256:" + hashlib.sha256(key.encode()).hexdigest()


@cache
def _insert_send(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(MessageSend.__table__).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )


@cache
def _insert_throttle(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(AutomationThrottle.__table__).on_conflict_do_nothing()


def _throttle_ok(session: Session, wa_id: str, rule: Rule, now: datetime) -> bool:
    """Take the rule's `once_per_seconds` slot for `wa_id`, or say it is taken.

    The row is created if missing, then locked (FOR UPDATE on PostgreSQL; SQLite's write
    transaction is exclusive already), so two workers cannot both take the slot.
    """
    if not rule.once_per_seconds:
        return True
    dialect = session.get_bind().dialect.name
    session.execute(
        _insert_throttle(dialect), {"wa_id": wa_id, "rule": rule.name, "last_at": NEVER}
    )
    held = session.scalars(
        select(AutomationThrottle)
        .where(AutomationThrottle.wa_id == wa_id, AutomationThrottle.rule == rule.name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if held.last_at > now - timedelta(seconds=rule.once_per_seconds):
        return False
    held.last_at = now
    return True


@dataclass
class TriggerRow:
    """A due trigger as the worker evaluates it; `status`/`note` are written back in bulk."""

    id: str
    key: str
    event: str
    wa_id: str | None
    data: dict[str, Any]
    status: str = "done"
    note: str | None = None


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except (AttributeError, ValueError):
        return None


def paused_contacts(session: Session, wa_ids: set[str], now: datetime) -> set[str]:
    """The contacts a person wrote to recently (human takeover), among `wa_ids`."""
    if not wa_ids:
        return set()
    table = ContactAutomation.__table__.c
    query = select(table.wa_id).where(table.wa_id.in_(wa_ids), table.paused_until > now)
    return set(session.scalars(query))


def run_trigger(
    session: Session,
    trigger: TriggerRow,
    rules: RuleSet,
    registry: Any,
    token_secret: str | None,
    now: datetime,
    paused: set[str],
    warnings: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Evaluate `trigger` (locked by the caller): the send rows it asks for."""
    data = dict(trigger.data or {})
    wa_id = trigger.wa_id
    if trigger.event == EventType.WINDOW_EXPIRING:
        contact = session.get(Contact, wa_id) if wa_id else None
        state = window_state(contact, now)
        if not state.open or isoformat(state.expires_at) != data.get("expires_at"):
            trigger.status, trigger.note = "skipped", "the window was reset or is closed"
            return []
        name = contact.profile_name if contact is not None else None
        data = {"wa_id": wa_id, "contact_name": name, "window": state.to_dict()}
        if has_subscriber(session, EventType.WINDOW_EXPIRING):
            enqueue_event(session, EventType.WINDOW_EXPIRING, data)
        data["expires_at"] = isoformat(state.expires_at)
    if wa_id is None:
        return []
    if trigger.event == EventType.MESSAGE_RECEIVED:
        at = _parse_time(data.get("at"))
        if any(r.first_in_window is not None for r in rules.for_event(trigger.event)):
            batch = any(  # earlier messages of this batch are not inserted yet
                w["wa_id"] == wa_id and at < w["due_at"] < at + WINDOW for w in warnings
            )
            data["first_in_window"] = at is None or not (
                batch or earlier_in_window(session, wa_id, at)
            )
        if at is not None:
            warnings.append(warning_row(wa_id, at))
    out = []
    for rule in rules.for_event(trigger.event):
        if not matches(rule, data, now):
            continue
        if trigger.event == EventType.MESSAGE_RECEIVED and wa_id in paused:
            log.info("rule %s skipped for %s: paused by a person's message", rule.name, wa_id)
            continue
        if not _throttle_ok(session, wa_id, rule, now):
            log.info("rule %s skipped for %s: once_per_seconds", rule.name, wa_id)
            continue
        out.append(_send_row(rule, trigger, wa_id, data, registry, token_secret, now))
    return out


def insert_sends(session: Session, rows: list[dict[str, Any]]) -> None:
    """The sends, each unless its idempotency key exists (one statement)."""
    if rows:
        session.execute(_insert_send(session.get_bind().dialect.name), rows)


def _send_row(
    rule: Rule,
    trigger: TriggerRow,
    wa_id: str,
    data: dict[str, Any],
    registry: Any,
    token_secret: str | None,
    now: datetime,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": new_id(),
        "idempotency_key": send_key(rule.name, trigger.key),
        "origin": "rule",
        "rule": rule.name,
        "trigger_event": trigger.event,
        "wa_id": wa_id,
        "kind": rule.send["type"],
        "flow": None,
        "flow_token": None,
        "body": {},
        "fallback": None,
        "pausable": trigger.event == EventType.MESSAGE_RECEIVED,
        "status": "pending",
        "due_at": now + timedelta(seconds=rule.delay_seconds),
        "attempts": 0,
        "error": None,
        "created_at": now,
    }
    try:
        prepared = prepare(registry, token_secret, build_request(rule, wa_id, data))
    except FlowgateError as exc:  # e.g. the flow is no longer served: recorded, not sent
        log.warning("rule %s cannot send to %s: %s", rule.name, wa_id, exc)
        values.update(status="failed", error=f"{exc.code}: {exc}"[:2000])
        return values
    values.update(body=prepared.body, flow=prepared.flow, flow_token=prepared.flow_token)
    return values
