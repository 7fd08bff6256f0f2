"""Leads: the filtered list (keyset pages), its CSV, and one lead with everything about it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, abort, render_template, request, stream_with_context, url_for

from app import clock
from app.export.csvfile import SubmissionCsv
from app.export.query import Key, SubmissionFilter, page
from app.flowjson.labels import field_labels
from app.leads import browse
from app.pagination import decode_time_cursor, encode_time_cursor
from app.web import db_session, runtime
from app.web.dashboard import bp

PAGE_SIZE = 50
STATUSES = ("all", "valid", "invalid", "unrouted")
FILTER_NAMES = ("flow", "status", "since", "until", "q", "wa_id", "tz")
MAX_TEXT = 200


@dataclass(frozen=True)
class Filters:
    """The leads page's query: the core filter, the form's values and what was wrong."""

    core: SubmissionFilter
    values: dict[str, str]
    problems: list[str]

    def query(self, **extra: str) -> str:
        params = {k: v for k, v in self.values.items() if v and not (k == "status" and v == "all")}
        params.update(extra)
        return urlencode(params)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _day(value: str, zone: Any, problems: list[str], label: str) -> datetime | None:
    """Midnight of a YYYY-MM-DD day in the viewer's zone (UTC without one), as aware UTC."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label} must be a date like 2026-12-31.")
        return None
    return datetime.combine(day, time(), tzinfo=zone or UTC).astimezone(UTC)


def parse_filters(args: Mapping[str, str]) -> Filters:
    values = {name: (args.get(name) or "").replace("\x00", "").strip() for name in FILTER_NAMES}
    problems: list[str] = []
    status = values["status"] or "all"
    if status not in STATUSES:
        problems.append("Status must be one of: " + ", ".join(STATUSES) + ".")
        status = "all"
    values["status"] = status
    zone = _zone(values["tz"])
    since = _day(values["since"], zone, problems, "From")
    until = _day(values["until"], zone, problems, "To")
    until = until + timedelta(days=1) if until is not None else None  # the "to" day included
    text = values["q"][:MAX_TEXT] or None
    core = SubmissionFilter(
        flow=values["flow"] or None,
        wa_id=values["wa_id"] or None,
        status=status,  # type: ignore[arg-type]
        since=since,
        until=until,
        text=text,
    )
    return Filters(core, values, problems)


@bp.get("/leads")
def leads() -> str:
    filters = parse_filters(request.args)
    cursor = request.args.get("cursor") or None
    start = Key(*decode_time_cursor(cursor)) if cursor else None
    rows, last = page(db_session(), filters.core, start=start, limit=PAGE_SIZE)
    registry = runtime().registry
    flows = [f.name for f in registry.all()] if registry is not None else []
    labels = {name: _labels(name) for name in {r.flow for r in rows if r.flow}}
    next_url = (
        url_for("dashboard.leads") + "?" + filters.query(cursor=encode_time_cursor(*_key(last)))
        if last is not None
        else None
    )
    return render_template(
        "dashboard/leads.html",
        rows=rows,
        labels=labels,
        filters=filters,
        flows=flows,
        statuses=STATUSES,
        next_url=next_url,
        first_page=cursor is None,
        csv_url=url_for("dashboard.leads_csv") + "?" + filters.query(),
        filtered=any(v for k, v in filters.values.items() if k not in ("tz", "status"))
        or filters.values["status"] != "all",
    )


def _key(last: Key) -> tuple[datetime, str]:
    return last.submitted_at, last.id


def _labels(flow: str) -> dict[str, Any]:
    registry = runtime().registry
    definition = registry.get(flow) if registry is not None else None
    return field_labels(definition.document if definition is not None else None)


@bp.get("/leads.csv")
def leads_csv() -> Response:
    """The CSV export of exactly the list's filter (the same writer as the admin API's)."""
    filters = parse_filters(request.args)
    if filters.problems:
        abort(400, " ".join(filters.problems))
    rt = runtime()

    def generate() -> Iterator[bytes]:
        with rt.db.session() as session:
            yield from SubmissionCsv(session, rt.registry, filters.core).encoded()

    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )


@bp.get("/leads/<lead_id>")
def lead(lead_id: str) -> str:
    view = browse.lead(db_session(), lead_id, clock.now())
    if view is None:
        abort(404, "No lead with that id. It may have been typed wrong or removed.")
    submission = view.submission
    registry = runtime().registry
    definition = registry.get(submission.flow) if registry and submission.flow else None
    labels = field_labels(definition.document if definition is not None else None)
    return render_template(
        "dashboard/lead.html",
        lead=view,
        submission=submission,
        labels=labels,
        flow_known=definition is not None,
    )
