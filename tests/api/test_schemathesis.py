"""Property-based check of the whole admin API against its own OpenAPI document.

schemathesis reads /api/v1/openapi.json from the app in-process (WSGI), generates requests
for every documented operation (valid and invalid input), sends them with a valid token and
checks: no 5xx, status codes, content types and bodies match what the document declares,
invalid input is refused. It covers every area's routes, whatever is registered.

`positive_data_acceptance` is left out on purpose: an opaque cursor, an RFC 3339 leap second
or an SSRF-blocked URL is schema-valid text that the API must still refuse with a 400.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

from app.db import Database
from tests.conftest import API_TOKEN
from tests.export.factory import T0, add, add_series, submission


@pytest.fixture
def api_schema(app: Flask, db: Database) -> schemathesis.BaseSchema:
    # Tests only ever talk to loopback: without a Cloud API token, POST /messages answers
    # "not configured" and never opens a connection to Meta.
    assert app.extensions["flowgate"].config.access_token is None
    # A few rows so list, one and CSV responses have bodies to check.
    add_series(db, 3, fields={"name": "=1+2", "nested": {"a": [1, None]}})
    add(
        db,
        submission(status="invalid", errors=[{"message": "x"}], submitted_at=T0 + timedelta(1)),
    )
    # The token goes through the document's `bearer` scheme, so schemathesis knows which
    # requests carry it (and can test that leaving it out is refused).
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": API_TOKEN}}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_openapi_document(case: schemathesis.Case) -> None:
    response = case.call_and_validate(
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
    if case.meta is not None and case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE:
        assert response.status_code != 401, "the token must reach the API"
