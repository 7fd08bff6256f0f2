"""Fixtures of the media tests: the loopback Meta fake, flows with pickers, a fast worker.

The flows in tests/media/flows/ get their schemas from `generate_schema` at setup, so every
lead here is also checked against what schema generation says a picker sends.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.db import Database
from app.flowjson.schema_gen import generate_schema
from app.leads.intake import Intake, record_submission
from app.media.worker import MediaWorker
from app.models import Submission
from tests.conftest import ROOT, make_config
from tests.delivery.receiver import Receiver
from tests.media.fakes import ACCESS_TOKEN, FakeMeta

HERE = Path(__file__).parent
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + os.urandom(3000)
    + b"\xff\xd9"
)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + os.urandom(2000) + b"\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + os.urandom(500)


@pytest.fixture
def fake() -> Iterator[FakeMeta]:
    server = FakeMeta()
    yield server
    server.close()


@pytest.fixture
def settings(
    settings: dict[str, str], fake: FakeMeta, tmp_path: Path, database_url: str
) -> dict[str, str]:
    """The suite's settings plus flows with pickers, the fake Graph API, a media folder.
    (`database_url` is named so that pytest keeps the backend parametrisation.)"""
    flows, schemas = tmp_path / "flows", tmp_path / "schemas"
    shutil.copytree(ROOT / "flows", flows)
    shutil.copytree(ROOT / "schemas", schemas)
    for source in (HERE / "flows").glob("*.json"):
        shutil.copy(source, flows / source.name)
        doc = json.loads(source.read_text())
        schema = generate_schema(doc, source.stem)
        (schemas / source.name).write_text(json.dumps(schema, indent=2))
    return {
        **settings,
        "FLOWGATE_FLOWS_DIR": str(flows),
        "FLOWGATE_SCHEMAS_DIR": str(schemas),
        "FLOWGATE_MEDIA_DIR": str(tmp_path / "media"),
        "FLOWGATE_MEDIA_HOSTS": "127.0.0.1",
        "FLOWGATE_GRAPH_API_URL": fake.graph_url,
        "FLOWGATE_ACCESS_TOKEN": ACCESS_TOKEN,
        "FLOWGATE_PUBLIC_URL": "http://flowgate.test",
    }


def media_worker(db: Database, settings: dict[str, str], **overrides: Any) -> MediaWorker:
    """A worker with compressed timing: retries 50 ms apart, 5 s fetch deadline."""
    from dataclasses import replace

    worker = MediaWorker.from_config(
        db, make_config(settings), retry_delays=(0.05, 0.05), poll_interval=0.05
    )
    worker.settings.fetch = replace(worker.settings.fetch, deadline=5.0, **overrides)
    return worker


def run_media(db: Database, settings: dict[str, str], **overrides: Any) -> MediaWorker:
    worker = media_worker(db, settings, **overrides)
    worker.run(drain=True, max_seconds=30)
    return worker


def submit(app: Flask, flow: str, fields: dict[str, Any], source: str = "endpoint") -> str:
    """Store a lead through intake (as both paths do); its id."""
    rt = app.extensions["flowgate"]
    with rt.db.transaction() as session:
        submission, created = record_submission(
            session,
            rt.registry,
            Intake(
                flow=flow,
                fields=fields,
                source=source,
                wa_id="447700900123",
                flow_token=None,
                message_id=f"wamid.{os.urandom(4).hex()}",
            ),
        )
        assert created
        return submission.id


def lead(db: Database, submission_id: str) -> Submission:
    with db.session() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Loopback webhook receivers, closed after the test."""
    started: list[Receiver] = []

    def start(script: Any = None) -> Receiver:
        started.append(Receiver(script))
        return started[-1]

    yield start
    for r in started:
        r.close()
