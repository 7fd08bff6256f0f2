"""`/api/v1/submissions`: list shape, cursor, filters, validation, one, the CSV route."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask.testing import FlaskClient

from app.db import Database
from app.pagination import encode_cursor
from tests.export.factory import T0, add, add_series, submission

KEYS = {
    "id",
    "flow",
    "wa_id",
    "contact_name",
    "flow_token",
    "source",
    "status",
    "fields",
    "errors",
    "submitted_at",
}


def test_list_shape_and_newest_first(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    older, newer = add_series(db, 2, step=timedelta(microseconds=1500))
    add(
        db,
        submission(
            status="invalid",
            errors=[{"path": "email", "message": "bad"}],
            fields={"x": {"y": [1]}},
            submitted_at=T0 - timedelta(days=1),
        ),
    )
    response = client.get("/api/v1/submissions", headers=api_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    assert [item["id"] for item in body["items"]][:2] == [newer.id, older.id]
    for item in body["items"]:
        assert set(item) == KEYS
    assert body["items"][0]["submitted_at"] == "2026-03-01T12:00:00.001500Z"
    assert body["items"][1]["submitted_at"] == "2026-03-01T12:00:00Z"
    invalid = body["items"][2]
    assert invalid["status"] == "invalid" and invalid["fields"] == {"x": {"y": [1]}}
    assert invalid["errors"] == [{"path": "email", "message": "bad"}]


def test_cursor_walks_all_pages_without_repeats(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    stored = add_series(db, 5, step=timedelta(0)) + add_series(db, 2)
    seen: list[str] = []
    url = "/api/v1/submissions?limit=2"
    while url:
        body = client.get(url, headers=api_headers).get_json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        url = f"/api/v1/submissions?limit=2&cursor={cursor}" if cursor else ""
    expected = sorted(stored, key=lambda s: (s.submitted_at, s.id), reverse=True)
    assert seen == [s.id for s in expected]


def test_filters(client: FlaskClient, db: Database, api_headers: dict[str, str]) -> None:
    add_series(db, 3)
    add(
        db,
        submission(
            flow="appointment", wa_id="49", status="invalid", submitted_at=T0 + timedelta(hours=5)
        ),
    )

    def count(query: str) -> int:
        response = client.get(f"/api/v1/submissions?{query}", headers=api_headers)
        assert response.status_code == 200, response.get_json()
        return len(response.get_json()["items"])

    assert count("") == 4
    assert count("flow=appointment") == 1
    assert count("wa_id=49") == 1
    assert count("status=valid") == 3
    assert count("status=invalid") == 1
    assert count("status=all") == 4
    assert count("since=2026-03-01T12:01:00Z") == 3
    assert count("since=2026-03-01T13:01:00%2B01:00") == 3  # offsets are honoured
    assert count("until=2026-03-01T12:01:00Z") == 1
    assert count("since=2026-03-01&until=2026-03-02") == 4
    assert count("flow=nope") == 0


def test_bad_filters_are_400_naming_the_field(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    for query, field in [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=0001-01-01T00:00:00%2B01:00", "since"),
        ("status=maybe", "status"),
        ("stauts=valid", "stauts"),  # a typo must not silently widen the result
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJ0IjoieCIsImlkIjoxfQ", "cursor"),  # {"t":"x","id":1}
        ("cursor=" + encode_cursor({"t": "2026-03-01T12:00:00+00:00", "id": "\x00"}), "cursor"),
        ("flow=%00", "flow"),  # PostgreSQL cannot compare NUL: a 400, not a 500
    ]:
        response = client.get(f"/api/v1/submissions?{query}", headers=api_headers)
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid_request"
        assert field in error["details"], (query, error)
    csv_response = client.get("/api/v1/submissions.csv?since=nope", headers=api_headers)
    assert csv_response.status_code == 400
    assert "since" in csv_response.get_json()["error"]["details"]


def test_one_submission_and_not_found(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    (lead,) = add_series(db, 1, flow_token="tok", source="endpoint")
    body = client.get(f"/api/v1/submissions/{lead.id}", headers=api_headers).get_json()
    assert set(body) == KEYS
    assert (body["id"], body["flow_token"], body["source"]) == (lead.id, "tok", "endpoint")
    nul = client.get("/api/v1/submissions/a%00b", headers=api_headers)
    assert nul.status_code == 400 and "submission_id" in nul.get_json()["error"]["details"]
    missing = client.get("/api/v1/submissions/nope", headers=api_headers)
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "details"}


def test_csv_route_is_not_shadowed_and_streams(
    client: FlaskClient, db: Database, api_headers: dict[str, str]
) -> None:
    add_series(db, 3, contact_name="=HYPERLINK(1)")
    response = client.get("/api/v1/submissions.csv?status=valid", headers=api_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert 'filename="submissions.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert len(rows) == 3 and rows[0]["contact_name"] == "'=HYPERLINK(1)"
    excel = client.get("/api/v1/submissions.csv?excel=1", headers=api_headers)
    assert excel.get_data().startswith(b'\xef\xbb\xbf"submission_id"')


def test_token_required(client: FlaskClient, db: Database) -> None:
    for path in ("/api/v1/submissions", "/api/v1/submissions.csv", "/api/v1/submissions/x"):
        response = client.get(path, headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
