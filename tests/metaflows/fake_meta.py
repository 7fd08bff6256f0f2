"""A loopback fake of Meta's Flows API and business-encryption endpoints (127.0.0.1).

It keeps Flows in memory and refuses, with Meta's error object, any request whose shape
differs from Meta's docs (app/metaflows/api.py cites them): JSON bodies for create and
metadata update, a multipart upload with `file` (flow.json), `name=flow.json` and
`asset_type=FLOW_JSON`, a form-encoded `business_public_key`, a bearer token on every call.
Every request is recorded for the tests to inspect.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "v23.0"
CATEGORIES = {
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
}


@dataclass
class Call:
    method: str
    path: str  # without the version prefix, e.g. "/123/assets"
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # JSON, form fields, or multipart parts {name: (filename, content_type, bytes)}


@dataclass
class Flow:
    id: str
    name: str
    categories: list[str]
    status: str = "DRAFT"
    endpoint_uri: str | None = None
    flow_json: bytes | None = None
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    preview: int = 1


class MetaError(Exception):
    def __init__(self, status: int, code: int, message: str, subcode: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.subcode = status, code, message, subcode


class FakeMeta:
    """`with FakeMeta(token, waba) as meta:`; `meta.url` is FLOWGATE_GRAPH_API_URL."""

    def __init__(self, token: str, waba_id: str, page_size: int = 100) -> None:
        self.token, self.waba_id, self.page_size = token, waba_id, page_size
        self.calls: list[Call] = []
        self.flows: dict[str, Flow] = {}
        self.keys: dict[str, str] = {}
        self.next_errors: list[dict[str, Any]] = []  # validation errors for the next upload
        self.key_status = "VALID"
        self._ids = 1_000_000_000_000
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{VERSION}"

    def __enter__(self) -> FakeMeta:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls_to(self, method: str, suffix: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    # --- request handling ------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        path = parts.path.removeprefix(f"/{VERSION}")
        try:
            body = _parse(headers.get("content-type", ""), raw)
            with self._lock:
                self.calls.append(Call(method, path, query, headers, body))
                if headers.get("authorization") != f"Bearer {self.token}":
                    raise MetaError(401, 190, "Invalid OAuth access token.")
                if not parts.path.startswith(f"/{VERSION}/"):
                    raise MetaError(400, 100, "Unknown API version.")
                status, answer = self._route(method, path.strip("/").split("/"), query, body)
        except MetaError as exc:
            error: dict[str, Any] = {"message": exc.message, "type": "OAuthException"}
            error.update(code=exc.code, fbtrace_id="Afake")
            if exc.subcode is not None:
                error["error_subcode"] = exc.subcode
            status, answer = exc.status, {"error": error}
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(
        self, method: str, segments: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        if segments == [self.waba_id, "flows"]:
            return (200, self._list(query)) if method == "GET" else self._create(body)
        if len(segments) == 2 and segments[1] == "whatsapp_business_encryption":
            return self._encryption(method, segments[0], body)
        flow = self.flows.get(segments[0])
        if flow is None:
            raise MetaError(
                400,
                100,
                f"Unsupported post request. Object with ID '{segments[0]}' does not exist.",
                33,
            )
        if len(segments) == 1 and method == "GET":
            return 200, self._fields(flow, query.get("fields", "id"))
        if len(segments) == 1:
            return self._update(flow, body)
        if segments[1] == "assets" and method == "POST":
            return self._upload(flow, body)
        if segments[1] == "publish" and method == "POST":
            if flow.validation_errors or flow.flow_json is None:
                raise MetaError(400, 139002, "Publishing failed: the Flow JSON is not valid.")
            flow.status = "PUBLISHED"
            return 200, {"success": True}
        raise MetaError(400, 100, "Unknown path components.")

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("after") or 0)
        flows = list(self.flows.values())[start : start + self.page_size]
        page: dict[str, Any] = {
            "data": [{"id": f.id, "name": f.name, "status": f.status} for f in flows]
        }
        if start + self.page_size < len(self.flows):
            after = start + self.page_size
            page["paging"] = {"next": f"{self.url}/{self.waba_id}/flows?after={after}"}
        return page

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or body.get("_kind") != "json":
            raise MetaError(400, 100, "Create expects a JSON body.")
        name, categories = body.get("name"), body.get("categories")
        if not isinstance(name, str) or not name:
            raise MetaError(400, 100, "The parameter name is required.")
        if not isinstance(categories, list) or not categories or set(categories) - CATEGORIES:
            raise MetaError(400, 100, "Param categories must be a non-empty list of categories.")
        if set(body) - {"_kind", "name", "categories", "endpoint_uri", "flow_json", "publish"}:
            raise MetaError(400, 100, "Unknown parameter.")
        if any(f.name == name for f in self.flows.values()):
            raise MetaError(400, 100, "Flow name is not unique.")
        self._ids += 1
        flow = Flow(str(self._ids), name, categories, endpoint_uri=body.get("endpoint_uri"))
        self.flows[flow.id] = flow
        return 200, {"id": flow.id, "success": True}

    def _update(self, flow: Flow, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or body.get("_kind") != "json":
            raise MetaError(400, 100, "Update expects a JSON body.")
        if set(body) - {"_kind", "name", "categories", "endpoint_uri", "application_id"}:
            raise MetaError(400, 100, "Unknown parameter.")
        if "endpoint_uri" in body:
            flow.endpoint_uri = body["endpoint_uri"]
        return 200, {"success": True}

    def _upload(self, flow: Flow, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or body.get("_kind") != "multipart":
            raise MetaError(400, 100, "The asset must be uploaded as multipart/form-data.")
        name, kind, file = body.get("name"), body.get("asset_type"), body.get("file")
        if name is None or name[2] != b"flow.json" or kind is None or kind[2] != b"FLOW_JSON":
            raise MetaError(400, 100, "name=flow.json and asset_type=FLOW_JSON are required.")
        if file is None or file[0] != "flow.json":
            raise MetaError(400, 100, "The file part (flow.json) is missing.")
        if flow.status != "DRAFT":
            raise MetaError(400, 139001, "Can't update a Flow that is not in DRAFT.")
        json.loads(file[2])  # Meta refuses a non-JSON asset
        flow.flow_json = file[2]
        flow.validation_errors, self.next_errors = self.next_errors, []
        return 200, {"success": True, "validation_errors": flow.validation_errors}

    def _fields(self, flow: Flow, fields: str) -> dict[str, Any]:
        doc = json.loads(flow.flow_json) if flow.flow_json else {}
        answer: dict[str, Any] = {"id": flow.id}
        for name in fields.split(","):
            if name.startswith("preview"):
                if name == "preview.invalidate(true)":
                    flow.preview += 1
                url = f"https://business.facebook.com/wa/manage/flows/{flow.id}/preview/?token=t{flow.preview}"
                answer["preview"] = {"preview_url": url, "expires_at": "2026-12-31T00:00:00+0000"}
            elif name == "health_status":
                answer["health_status"] = {
                    "can_send_message": "AVAILABLE",
                    "entities": [
                        {"entity_type": "FLOW", "id": flow.id, "can_send_message": "AVAILABLE"}
                    ],
                }
            elif name == "json_version":
                answer[name] = doc.get("version")
            elif name == "data_api_version":
                answer[name] = doc.get("data_api_version")
            elif name in ("name", "status", "categories", "validation_errors", "endpoint_uri"):
                answer[name] = getattr(flow, name)
        return answer

    def _encryption(self, method: str, phone: str, body: Any) -> tuple[int, dict[str, Any]]:
        if method == "GET":
            key = self.keys.get(phone)
            status = self.key_status
            entry = {"business_public_key": key, "business_public_key_signature_status": status}
            return 200, {"data": [entry] if key else []}
        if not isinstance(body, dict) or body.get("_kind") != "form":
            raise MetaError(400, 100, "business_public_key is sent form-encoded.")
        key = body.get("business_public_key")
        if not isinstance(key, str) or "BEGIN PUBLIC KEY" not in key:
            raise MetaError(400, 100, "Param business_public_key must be a PEM public key.")
        self.keys[phone] = key
        return 200, {"success": True}


def _parse(content_type: str, raw: bytes) -> Any:
    kind = content_type.split(";")[0].strip().lower()
    if not raw:
        return None
    if kind == "application/json":
        body = json.loads(raw)
        return {"_kind": "json", **body} if isinstance(body, dict) else body
    if kind == "application/x-www-form-urlencoded":
        fields = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        return {"_kind": "form", **fields}
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        parts: dict[str, Any] = {"_kind": "multipart"}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            parts[str(name)] = (part.get_filename(), part.get_content_type(), payload)
        return parts
    return raw
