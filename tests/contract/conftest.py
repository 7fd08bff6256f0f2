"""Fixtures of the contract tests: an app that also serves a small two-screen endpoint flow."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.db import Database
from tests.conftest import ROOT, make_config

TWO_STEP_FLOW = {
    "version": "7.3",
    "data_api_version": "3.0",
    "routing_model": {"ONE": ["TWO"], "TWO": []},
    "screens": [
        {
            "id": "ONE",
            "title": "Step one",
            "data": {},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextInput", "name": "first", "label": "First", "required": True},
                    {
                        "type": "Footer",
                        "label": "Next",
                        "on-click-action": {
                            "name": "data_exchange",
                            "payload": {"first": "${form.first}"},
                        },
                    },
                ],
            },
        },
        {
            "id": "TWO",
            "title": "Step two",
            "terminal": True,
            "success": True,
            "data": {},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextInput", "name": "second", "label": "Second", "required": True},
                    {
                        "type": "Footer",
                        "label": "Send",
                        "on-click-action": {
                            "name": "data_exchange",
                            "payload": {"second": "${form.second}"},
                        },
                    },
                ],
            },
        },
    ],
}
TWO_STEP_SCHEMA = {
    "type": "object",
    "properties": {
        "first": {"type": "string", "minLength": 1},
        "second": {"type": "string", "minLength": 1},
    },
    "required": ["first", "second"],
    "additionalProperties": False,
}


@pytest.fixture
def flow_app(settings: dict[str, str], db: Database, tmp_path: Path) -> Iterator[Flask]:
    """The shipped flows plus `two_step` (two data_exchange screens, the second terminal)."""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    shutil.copytree(ROOT / "flows", flows)
    shutil.copytree(ROOT / "schemas", schemas)
    (flows / "two_step.json").write_text(json.dumps(TWO_STEP_FLOW))
    (schemas / "two_step.json").write_text(json.dumps(TWO_STEP_SCHEMA))
    config = {**settings, "FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    application = create_app(make_config(config))
    yield application
    application.extensions["flowgate"].db.dispose()


@pytest.fixture
def flow_client(flow_app: Flask) -> FlaskClient:
    return flow_app.test_client()
