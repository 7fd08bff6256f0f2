"""`/api/v1/submissions`: the leads as JSON (list, one) and as a streamed CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context

from app.api.schemas.common import list_of
from app.api.schemas.submissions import (
    SubmissionCsvQuerySchema,
    SubmissionListQuerySchema,
    SubmissionSchema,
)
from app.clock import now
from app.errors import NotFound
from app.export.csvfile import SubmissionCsv
from app.export.query import Key, page
from app.media.links import signer_from
from app.media.records import annotate
from app.models import Submission
from app.pagination import decode_time_cursor, encode_time_cursor
from app.web import db_session, runtime
from app.web.api import route


@route(
    "/submissions",
    summary="List submissions, newest first, with filters and a cursor",
    tag="submissions",
    query=SubmissionListQuerySchema,
    response=list_of(SubmissionSchema),
    errors=(400,),
)
def list_submissions(query: dict[str, Any]) -> dict[str, Any]:
    start = Key(*decode_time_cursor(query["cursor"])) if query["cursor"] else None
    rows, last = page(db_session(), query["filters"], start=start, limit=query["limit"])
    cursor = encode_time_cursor(last.submitted_at, last.id) if last is not None else None
    annotate(db_session(), rows, signer_from(runtime().config), now())
    return {"items": rows, "next_cursor": cursor}


@route(
    "/submissions.csv",
    summary="Export submissions as CSV (streamed, same filters as the list)",
    tag="submissions",
    query=SubmissionCsvQuerySchema,
    errors=(400,),
    content_type="text/csv",
)
def export_submissions(query: dict[str, Any]) -> Response:
    rt = runtime()
    filters, excel = query["filters"], query["excel"]

    def generate() -> Iterator[bytes]:
        # Its own session: the snapshot must outlive the view while the body streams.
        with rt.db.session() as session:
            export = SubmissionCsv(session, rt.registry, filters, excel=excel, raw=query["raw"])
            yield from export.encoded()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="submissions.csv"'},
    )


@route(
    "/submissions/<submission_id>",
    summary="One submission",
    tag="submissions",
    response=SubmissionSchema,
    errors=(404,),
)
def get_submission(submission_id: str) -> Submission:
    submission = db_session().get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission {submission_id!r}")
    annotate(db_session(), [submission], signer_from(runtime().config), now())
    return submission
