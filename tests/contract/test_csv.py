"""docs/contract.md CSV rules: one leading `'` for = + - @ tab CR LF; NUL removed on intake;
`submissions.csv` with the list's filters; `?excel=1` BOM (docs/api.md); `flowgate export`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.contract.wire import (
    AUTH,
    LEAD_FIELDS,
    assert_error_shape,
    issue_token,
    nfm_reply,
    post_meta,
)

FIXED = ["submission_id", "submitted_at", "flow", "wa_id", "contact_name", "source", "status"]
LEAD_COLUMNS = ["name", "phone", "email", "service", "preferred_date"]
DANGEROUS = ["=1+2", "+12", "-12", "@SUM(A1)", "\tab", "\rcr", "\nlf"]


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _lead(client, wa_id: str, name: str, contact: str = "Ada") -> None:  # type: ignore[no-untyped-def]
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    fields = {"flow_token": token, **LEAD_FIELDS, "name": name}
    assert post_meta(client, nfm_reply(wa_id, fields, name=contact)).status_code == 200


def test_csv_header_order_and_formula_prefix(client) -> None:  # type: ignore[no-untyped-def]
    for n, value in enumerate(DANGEROUS):
        _lead(client, f"44770050{n:04d}", value, contact=value)
    _lead(client, "447700509999", "Plain Name", contact="Plain")
    res = client.get("/api/v1/submissions.csv", query_string={"flow": "lead_capture"}, headers=AUTH)
    assert res.status_code == 200
    assert res.mimetype == "text/csv"
    data = res.get_data()
    assert not data.startswith(b"\xef\xbb\xbf")
    header, *rows = _rows(data)
    assert header == FIXED + LEAD_COLUMNS
    assert len(rows) == len(DANGEROUS) + 1
    by_wa = {row[3]: dict(zip(header, row, strict=True)) for row in rows}
    for n, value in enumerate(DANGEROUS):
        row = by_wa[f"44770050{n:04d}"]
        assert row["name"] == "'" + value, (value, row["name"])
        assert row["contact_name"] == "'" + value
    plain = by_wa["447700509999"]
    assert plain["name"] == "Plain Name" and plain["contact_name"] == "Plain"
    assert plain["status"] == "valid" and plain["source"] == "webhook"
    assert plain["email"] == LEAD_FIELDS["email"]


def test_csv_excel_bom_and_filters(client) -> None:  # type: ignore[no-untyped-def]
    _lead(client, "447700600001", "First Lead")
    _lead(client, "447700600002", "Second Lead")
    res = client.get("/api/v1/submissions.csv", query_string={"excel": "1"}, headers=AUTH)
    assert res.status_code == 200
    assert res.get_data().startswith(b"\xef\xbb\xbf")
    assert len(_rows(res.get_data()[3:])) == 3
    one = client.get(
        "/api/v1/submissions.csv", query_string={"wa_id": "447700600002"}, headers=AUTH
    )
    rows = _rows(one.get_data())
    assert len(rows) == 2 and rows[1][3] == "447700600002"
    none = client.get("/api/v1/submissions.csv", query_string={"status": "invalid"}, headers=AUTH)
    assert len(_rows(none.get_data())) == 1


@pytest.mark.parametrize("query", [{"since": "nope"}, {"status": "x"}, {"limit": "abc"}])
def test_csv_bad_filter_is_400_error_shape(client, query) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions.csv", query_string=query, headers=AUTH)
    assert_error_shape(res, 400)


def test_csv_needs_token(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/api/v1/submissions.csv")
    assert res.status_code in (401, 403)
    assert_error_shape(res, res.status_code)


def test_cli_export_writes_same_csv(client, runner) -> None:  # type: ignore[no-untyped-def]
    _lead(client, "447700700001", "=cmd|' /C calc'!A0")
    api = client.get("/api/v1/submissions.csv", headers=AUTH).get_data()
    result = runner.invoke(["export"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == api
    excel = runner.invoke(["export", "--excel"])
    assert excel.stdout_bytes == b"\xef\xbb\xbf" + api


def test_user_supplied_field_names_and_numbers_are_protected(client) -> None:  # type: ignore[no-untyped-def]
    """Unknown keys of a reply are kept (the lead is invalid) in the one `extra` column, as
    compact JSON (they do not multiply the columns); schema cells such as a phone starting with
    `+` get the guard."""
    wa_id = "447700908001"
    token = issue_token(client, "lead_capture", wa_id)["flow_token"]
    extra = {'=HYPERLINK("x")': "-2+3", "@x": 5, "neg": -7}
    assert (
        post_meta(
            client, nfm_reply(wa_id, {"flow_token": token, **LEAD_FIELDS, **extra})
        ).status_code
        == 200
    )
    header, row = _rows(client.get("/api/v1/submissions.csv", headers=AUTH).get_data())
    cells = dict(zip(header, row, strict=True))
    assert cells["status"] == "invalid"
    assert json.loads(cells["extra"]) == extra  # `{` first: not a formula start
    assert cells["phone"] == "'" + LEAD_FIELDS["phone"]
    assert not any(cell[:1] in "=+-@\t\r\n" for cell in header + row if cell)
