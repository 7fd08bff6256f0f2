"""A Graph API client for Meta's Flows API and the business public key.

Shapes (Meta, "Flows API",
https://developers.facebook.com/docs/whatsapp/flows/reference/flowsapi):
- `GET /{WABA_ID}/flows` -> `{"data": [{"id", "name", "status", "categories",
  "validation_errors"}], "paging": {"next"?}}`;
- `POST /{WABA_ID}/flows` JSON `{"name", "categories": [...], "endpoint_uri"?}` ->
  `{"id", "success"?, "validation_errors"?}` (created in DRAFT);
- `POST /{FLOW_ID}` JSON `{"endpoint_uri"}` (metadata update) -> `{"success": true}`;
- `POST /{FLOW_ID}/assets` multipart `file` (flow.json), `name=flow.json`,
  `asset_type=FLOW_JSON` -> `{"success": true, "validation_errors": [{"error",
  "error_type", "message", "line_start", "line_end", "column_start", "column_end",
  "pointers": [{"line_start", ..., "path"}]}]}`;
- `POST /{FLOW_ID}/publish` -> `{"success": true}`;
- `GET /{FLOW_ID}?fields=...` (`status`, `validation_errors`, `health_status`, `preview`
  with `preview.invalidate(false)`) -> the requested fields.
Business public key (Meta, "WhatsApp Business Encryption",
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/whatsapp-business-encryption):
`POST /{PHONE_NUMBER_ID}/whatsapp_business_encryption` form `business_public_key=<PEM>` ->
`{"success": true}`; `GET` the same path -> `{"data": [{"business_public_key",
"business_public_key_signature_status": "VALID" | "MISMATCH"}]}`.

Errors are those of app/messaging/graph.py: Meta's error object is a `GraphApiError`, no
usable answer a `GraphUnreachable`. The access token travels only in the Authorization
header; redirects are not followed and `paging.next` is followed only on the same base URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from app.config import Config
from app.leads.notifications.statuses import error_code
from app.messaging.graph import GraphApiError, GraphUnreachable, SendingNotConfigured

TIMEOUT_SECONDS = 30.0  # an asset upload is validated by Meta before it answers
MAX_ANSWER_BYTES = 4_194_304
MAX_PAGES = 50
STATUS_FIELDS = (
    "id,name,status,categories,validation_errors,json_version,data_api_version,"
    "endpoint_uri,health_status"
)


@dataclass(frozen=True)
class FlowsApi:
    base_url: str
    access_token: str = field(repr=False)
    waba_id: str | None = None
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, config: Config, *, need_waba: bool = True) -> FlowsApi:
        missing = [] if config.access_token else ["FLOWGATE_ACCESS_TOKEN"]
        if need_waba and not config.waba_id:
            missing.append("FLOWGATE_WABA_ID")
        if missing:
            raise SendingNotConfigured(f"Meta's API is not configured: set {', '.join(missing)}.")
        assert config.access_token is not None
        return cls(config.graph_api_url.rstrip("/"), config.access_token, config.waba_id)

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, *(quote(p, safe="") for p in parts)])

    def request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One call; Meta's JSON answer, or GraphApiError / GraphUnreachable."""
        headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        try:
            with (
                httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client,
                client.stream(method, url, headers=headers, **kwargs) as response,
            ):
                raw = b""
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_ANSWER_BYTES:
                        raise GraphUnreachable("The Graph API's answer is too large.")
                status = response.status_code
        except httpx.TimeoutException:
            raise GraphUnreachable("The Graph API did not answer in time.") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise SendingNotConfigured("FLOWGATE_GRAPH_API_URL is not a usable URL.") from None
        except (httpx.HTTPError, OSError) as exc:
            raise GraphUnreachable(
                f"The Graph API could not be reached ({type(exc).__name__})."
            ) from None
        try:
            answer = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise GraphUnreachable(f"The Graph API answered HTTP {status} without a JSON object.")
        error = answer.get("error")
        if 200 <= status < 300 and error is None:
            return answer
        if not isinstance(error, dict):
            raise GraphUnreachable(f"The Graph API answered HTTP {status} without an error object.")
        details = {
            "http_status": status,
            "code": error_code(error.get("code")),
            "subcode": error_code(error.get("error_subcode")),
            "message": _text(error.get("message")),
            "user_msg": _text(error.get("error_user_msg")),
            "fbtrace_id": _text(error.get("fbtrace_id")),
        }
        text = details["user_msg"] or details["message"] or "no message"
        raise GraphApiError(
            f"Meta refused the request: {text} (code {details['code']}).", details=details
        )

    # --- Flows -----------------------------------------------------------------------------

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        """The account's Flow called `name`, following `paging.next` on this base URL only."""
        url: str | None = self._url(str(self.waba_id), "flows")
        params: dict[str, str] | None = {"fields": "id,name,status", "limit": "100"}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = self.request("GET", url, params=params)
            for flow in page.get("data") or []:
                if isinstance(flow, dict) and flow.get("name") == name:
                    return flow
            following = (page.get("paging") or {}).get("next")
            same_host = isinstance(following, str) and following.startswith(self.base_url + "/")
            url, params = (following, None) if same_host else (None, None)
        return None

    def create(self, name: str, categories: list[str], endpoint_uri: str | None) -> str:
        body: dict[str, Any] = {"name": name, "categories": categories}
        if endpoint_uri:
            body["endpoint_uri"] = endpoint_uri
        answer = self.request("POST", self._url(str(self.waba_id), "flows"), json=body)
        flow_id = answer.get("id")
        if not isinstance(flow_id, str) or not flow_id:
            raise GraphUnreachable("Meta created the Flow but named no id.")
        return flow_id

    def set_endpoint_uri(self, flow_id: str, endpoint_uri: str) -> None:
        self.request("POST", self._url(flow_id), json={"endpoint_uri": endpoint_uri})

    def upload_flow_json(self, flow_id: str, text: bytes) -> list[dict[str, Any]]:
        """Upload `text` as the flow.json asset; Meta's validation errors (empty: valid)."""
        answer = self.request(
            "POST",
            self._url(flow_id, "assets"),
            data={"name": "flow.json", "asset_type": "FLOW_JSON"},
            files={"file": ("flow.json", text, "application/json")},
        )
        errors = answer.get("validation_errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []

    def publish(self, flow_id: str) -> None:
        self.request("POST", self._url(flow_id, "publish"))

    def get(self, flow_id: str, fields: str = STATUS_FIELDS) -> dict[str, Any]:
        return self.request("GET", self._url(flow_id), params={"fields": fields})

    def preview(self, flow_id: str, invalidate: bool = False) -> dict[str, Any]:
        """`{"preview_url", "expires_at"}`; `invalidate` asks Meta for a new link."""
        fields = f"preview.invalidate({'true' if invalidate else 'false'})"
        preview = self.get(flow_id, fields).get("preview")
        if not isinstance(preview, dict) or not isinstance(preview.get("preview_url"), str):
            raise GraphUnreachable("Meta's answer has no preview_url.")
        return preview

    # --- Business public key ----------------------------------------------------------------

    def set_public_key(self, phone_number_id: str, pem: str) -> None:
        url = self._url(phone_number_id, "whatsapp_business_encryption")
        self.request("POST", url, data={"business_public_key": pem})

    def get_public_key(self, phone_number_id: str) -> dict[str, Any]:
        url = self._url(phone_number_id, "whatsapp_business_encryption")
        data = self.request("GET", url).get("data")
        first = data[0] if isinstance(data, list) and data else None
        return first if isinstance(first, dict) else {}


def _text(value: Any) -> str | None:
    return value[:2000] if isinstance(value, str) and value else None
