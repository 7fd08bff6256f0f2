"""Submission filters and keyset batches, shared by the JSON list and the CSV export.

Rows are ordered by `(submitted_at, id)` (an index covers it) and a page continues strictly
after the last key it saw, so no OFFSET scan grows with the page number and concurrent
inserts never shift or repeat rows on later pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, String, func, literal, select, tuple_
from sqlalchemy.orm import Session

from app.leads.search import text_condition
from app.models import Submission
from app.pagination import trim

Status = Literal["valid", "invalid", "unrouted", "all"]


@dataclass(frozen=True)
class SubmissionFilter:
    """The filters of `GET /submissions`, `submissions.csv` and `flowgate export`.

    `since` is inclusive and `until` exclusive, so consecutive windows never overlap.
    `text` (the dashboard's search) matches field values, contact name and wa_id.
    """

    flow: str | None = None
    wa_id: str | None = None
    status: Status = "all"
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.flow is not None:
            where.append(Submission.flow == self.flow)
        if self.wa_id is not None:
            where.append(Submission.wa_id == self.wa_id)
        if self.status != "all":
            where.append(Submission.status == self.status)
        if self.since is not None:
            where.append(Submission.submitted_at >= self.since)
        if self.until is not None:
            where.append(Submission.submitted_at < self.until)
        if self.text:
            where.append(text_condition(self.text))
        return where


@dataclass(frozen=True)
class Key:
    """The position after which the next page starts."""

    submitted_at: datetime
    id: str


def after(key: Key | None, *, descending: bool) -> list[ColumnElement[bool]]:
    """The keyset condition "strictly after `key`" in the given order."""
    if key is None:
        return []
    row = tuple_(Submission.submitted_at, Submission.id)
    bound = tuple_(
        literal(key.submitted_at, Submission.submitted_at.type), literal(key.id, String())
    )
    return [row < bound] if descending else [row > bound]


def ordered(stmt: Select[Any], *, descending: bool) -> Select[Any]:
    if descending:
        return stmt.order_by(Submission.submitted_at.desc(), Submission.id.desc())
    return stmt.order_by(Submission.submitted_at, Submission.id)


def page(
    session: Session,
    filters: SubmissionFilter,
    *,
    start: Key | None,
    limit: int,
    descending: bool = True,
) -> tuple[Sequence[Submission], Key | None]:
    """One page of submissions and the key to continue from (None on the last page).

    Reads `limit + 1` rows so the last page is known without a second query.
    """
    stmt = select(Submission).where(*filters.conditions(), *after(start, descending=descending))
    rows = session.scalars(ordered(stmt, descending=descending).limit(limit + 1)).all()
    page, last = trim(rows, limit)
    return page, Key(last.submitted_at, last.id) if last is not None else None


def count(session: Session, filters: SubmissionFilter) -> int:
    """How many submissions match (the export's progress estimate)."""
    stmt = select(func.count()).select_from(Submission).where(*filters.conditions())
    return int(session.scalar(stmt) or 0)


def flows(session: Session, filters: SubmissionFilter) -> list[str]:
    """The distinct flows among the matching submissions, sorted (unrouted leads have none)."""
    stmt = select(Submission.flow).where(*filters.conditions()).distinct()
    return sorted(flow for flow in session.scalars(stmt) if flow is not None)


def batches(
    session: Session,
    filters: SubmissionFilter,
    columns: Sequence[Any],
    *,
    size: int,
    order: tuple[Any, Any],
    key: Callable[[Sequence[Any]], tuple[Any, Any]],
) -> Iterator[Sequence[Any]]:
    """All matching rows of `columns`, in `order` (the submitted_at and id columns, oldest
    first), `size` rows per query, each query continuing strictly after the previous batch's
    last key. `key(row)` gives that key from a row, as values or SQL expressions comparable
    with `order` (e.g. a timestamp read as text and cast back)."""
    base = select(*columns).where(*filters.conditions()).order_by(*order).limit(size)
    stmt = base
    while True:
        result = session.execute(stmt)
        # Plain DBAPI tuples: every column here is read raw, so Row objects would only add
        # per-row cost on the export's hot path.
        rows = result.cursor.fetchall() if hasattr(result, "cursor") else result.all()
        result.close()
        if rows:
            yield rows
        if len(rows) < size:
            return
        # A row-value comparison, which both databases answer with an index range scan
        # (an OR of the two conditions makes them rescan from the start on every batch).
        stmt = base.where(tuple_(*order) > tuple_(*key(rows[-1])))
