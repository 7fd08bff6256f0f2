"""The served OpenAPI document: valid OpenAPI 3.1, absolute paths, every API route documented."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from app.web.api import PREFIX


def test_document_is_valid_openapi_31_and_needs_no_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_api_route_is_documented_with_absolute_paths(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    assert all(path.startswith(PREFIX + "/") for path, _ in documented)
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/") or rule.rule == PREFIX + "/openapi.json":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((_openapi_path(rule.rule), method))
    assert served == documented


def test_query_parameters_are_never_nullable(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for ops in document["paths"].values():
        for op in ops.values():
            for parameter in op.get("parameters", []):
                kind = parameter["schema"].get("type")
                assert kind != "null" and "null" not in (kind or []), parameter


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_nul_in_any_route_is_a_documented_400(app: Flask, client: FlaskClient, db) -> None:
    """The shell's NUL guard answers before any view, so every operation documents a 400."""
    document = client.get("/api/v1/openapi.json").get_json()
    for ops in document["paths"].values():
        for op in ops.values():
            assert "400" in op["responses"], op["operationId"]
    response = client.get(
        "/api/v1/contacts/%00/window", headers={"Authorization": "Bearer test-api-token"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"wa_id": ["NUL characters are not allowed."]}
