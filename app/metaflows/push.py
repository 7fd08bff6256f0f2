"""`flowgate flows push NAME`: from flows/<NAME>.json to a draft Flow on Meta.

Steps (docs/flows.md): find Meta's id (stored by an earlier push, else a Flow of the same
name on the account, else create one in DRAFT with the categories); store it at once, so a
failed upload never leaves an unknown Flow behind; set `endpoint_uri` for endpoint-powered
flows from FLOWGATE_PUBLIC_URL; upload the file's exact bytes as the `flow.json` asset; keep
Meta's validation errors as findings at the file's own lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

from app.clock import now
from app.config import Config
from app.db import Database
from app.errors import FlowgateError
from app.flowjson.findings import Finding
from app.flowjson.registry import FlowDefinition
from app.messaging.flow_ids import stored
from app.messaging.graph import GraphApiError
from app.metaflows.api import FlowsApi
from app.metaflows.remote import remote_findings
from app.models import MetaFlow

# Meta's categories for a new Flow (Flows API, "Creating a Flow").
CATEGORIES = (
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
)
_GONE = (100, 33)  # "Unsupported post request. Object with ID ... does not exist"


class PushError(FlowgateError):
    code = "push_refused"


@dataclass
class PushResult:
    name: str
    meta_flow_id: str
    created: bool
    endpoint_uri: str | None
    size: int
    findings: list[Finding] = field(default_factory=list)  # Meta's validation errors


def endpoint_uri_for(config: Config, definition: FlowDefinition) -> str | None:
    """`{FLOWGATE_PUBLIC_URL}/flows/<name>/endpoint` for endpoint-powered flows, else None."""
    if not definition.endpoint_powered:
        return None
    if not config.public_url:
        raise PushError(
            f"{definition.name} uses a data endpoint: set FLOWGATE_PUBLIC_URL (the https origin "
            "Meta reaches this server at) so its endpoint_uri can be set."
        )
    if not config.public_url.startswith("https://"):
        raise PushError(
            "FLOWGATE_PUBLIC_URL must start with https:// (Meta calls endpoints over HTTPS)."
        )
    return f"{config.public_url}/flows/{quote(definition.name, safe='')}/endpoint"


def push(
    api: FlowsApi,
    database: Database,
    definition: FlowDefinition,
    endpoint_uri: str | None,
    *,
    meta_name: str | None = None,
    categories: tuple[str, ...] = ("OTHER",),
) -> PushResult:
    """Create or update the Flow and upload its JSON (see the module docstring)."""
    text = definition.path.read_bytes()
    try:
        return _push(api, database, definition, text, endpoint_uri, meta_name, categories)
    except GraphApiError as exc:
        details = exc.details or {}
        if (details.get("code"), details.get("subcode")) != _GONE:
            raise
    # The stored id names a Flow deleted on Meta: forget it and push once more.
    with database.transaction() as session:
        row = stored(session, str(api.waba_id), definition.name)
        if row is not None:
            session.delete(row)
    return _push(api, database, definition, text, endpoint_uri, meta_name, categories)


def _push(
    api: FlowsApi,
    database: Database,
    definition: FlowDefinition,
    text: bytes,
    endpoint_uri: str | None,
    meta_name: str | None,
    categories: tuple[str, ...],
) -> PushResult:
    waba, name = str(api.waba_id), definition.name
    with database.session() as session:
        row = stored(session, waba, name)
        flow_id = row.meta_flow_id if row else None
        title = meta_name or (row.meta_name if row else name)
    created = False
    if flow_id is None:
        found = api.find_by_name(title)
        if found is not None and isinstance(found.get("id"), str):
            flow_id = found["id"]
        else:
            flow_id = api.create(title, list(categories), endpoint_uri)
            created = True
        _save(database, waba, name, flow_id=flow_id, meta_name=title)
    if endpoint_uri and not created:
        api.set_endpoint_uri(flow_id, endpoint_uri)
    errors = api.upload_flow_json(flow_id, text)
    findings = remote_findings(errors, text.decode("utf-8", "replace"), str(definition.path))
    _save(
        database,
        waba,
        name,
        flow_id=flow_id,
        meta_name=title,
        endpoint_uri=endpoint_uri,
        json_sha256=hashlib.sha256(text).hexdigest(),
        validation_errors=len(findings),
        status="DRAFT",
        pushed_at=now(),
    )
    return PushResult(name, flow_id, created, endpoint_uri, len(text), findings)


def _save(database: Database, waba: str, name: str, *, flow_id: str, **values: object) -> None:
    with database.transaction() as session:
        row = stored(session, waba, name)
        if row is None:
            row = MetaFlow(waba_id=waba, name=name, meta_flow_id=flow_id, validation_errors=0)
            session.add(row)
        row.meta_flow_id = flow_id
        for key, value in values.items():
            setattr(row, key, value)


def record_status(database: Database, waba: str, name: str, status: str | None) -> None:
    """Remember Meta's last known status (after publish or status)."""
    with database.transaction() as session:
        row = stored(session, waba, name)
        if row is not None and status:
            row.status = status[:32]
            if status == "PUBLISHED" and row.published_at is None:
                row.published_at = now()
