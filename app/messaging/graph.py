"""A small WhatsApp Cloud API client: `POST {graph}/{phone_number_id}/messages` and nothing else.

Why so small: Flowgate sends three message kinds and needs exactly one call. The client is
built from `Config` (FLOWGATE_GRAPH_API_URL, FLOWGATE_ACCESS_TOKEN, FLOWGATE_PHONE_NUMBER_ID)
and maps every failure to a typed error the admin API turns into a 502:

- Meta answered with an error object (`{"error": {"code", "message", "type",
  "error_subcode", "error_data": {"details"}, "fbtrace_id"}}`): `GraphApiError` with those
  values in `details` (131047 is how the caller learns the window is closed);
- no usable answer (connection refused, timeout, non-JSON, no message id): `GraphUnreachable`.

Security: the access token only ever travels in the `Authorization` header; it is never
logged, never put in an error, and `repr` hides it. `trust_env=False` keeps proxy variables
and .netrc out of it; redirects are not followed (a redirect would carry the bearer token
elsewhere). A fresh `httpx.Client` per send: sending is low volume, and nothing is left open
between requests.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from app.config import Config
from app.errors import FlowgateError
from app.leads.notifications.statuses import error_code

log = logging.getLogger("flowgate.messaging")

TIMEOUT_SECONDS = 15.0  # Meta answers a send in well under a second; 15 s is generous
CONNECT_TIMEOUT_SECONDS = 5.0
MAX_ANSWER_BYTES = 1_048_576  # Meta's answers are tiny; never buffer an unbounded body


class SendingNotConfigured(FlowgateError):
    """FLOWGATE_ACCESS_TOKEN or FLOWGATE_PHONE_NUMBER_ID is missing: nothing can be sent."""

    code = "sending_not_configured"
    status = 503


class GraphApiError(FlowgateError):
    """Meta refused the message; `details` carries Meta's own code and message."""

    code = "graph_api_error"
    status = 502

    @property
    def meta_code(self) -> int | None:
        value = (self.details or {}).get("code")
        return value if isinstance(value, int) else None


class GraphUnreachable(FlowgateError):
    """No usable answer from the Graph API (network, timeout, malformed answer).

    After a timeout the message may still have been delivered: Flowgate does not retry on
    its own, so a caller that retries accepts a possible duplicate.
    """

    code = "graph_api_unreachable"
    status = 502


@dataclass(frozen=True)
class GraphClient:
    """Sends one message body to the Cloud API and returns Meta's JSON answer."""

    base_url: str
    phone_number_id: str
    access_token: str = field(repr=False)
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, config: Config) -> GraphClient | None:
        """The client for `config`, or None when sending is not configured."""
        if not (config.graph_api_url and config.access_token and config.phone_number_id):
            return None
        return cls(config.graph_api_url, config.phone_number_id, config.access_token)

    @property
    def _timeouts(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_TIMEOUT_SECONDS))

    def http_client(self, max_connections: int = 1) -> httpx.Client:
        """The httpx client sends go through: no proxies or .netrc, no redirects."""
        limits = httpx.Limits(max_connections=max_connections)
        return httpx.Client(
            timeout=self._timeouts, trust_env=False, follow_redirects=False, limits=limits
        )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{quote(self.phone_number_id, safe='')}/messages"

    def send(self, body: dict[str, Any], http: httpx.Client | None = None) -> dict[str, Any]:
        """POST `body`; Meta's answer as a dict, or GraphApiError / GraphUnreachable.

        `http`: a long-lived client built by `http_client()` (the automations worker reuses
        its connections); by default a fresh one per send."""
        headers = {
            "Authorization": f"Bearer {self.access_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            with (
                self.http_client() if http is None else _borrowed(http) as c,
                c.stream("POST", self.messages_url, content=data, headers=headers) as response,
            ):
                raw = _read_bounded(response)
                status = response.status_code
        except httpx.TimeoutException:
            raise self._unreachable(
                "did not answer in time; the message may or may not have been sent", "timeout"
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError):
            raise SendingNotConfigured(
                "FLOWGATE_GRAPH_API_URL is not a usable http(s) URL."
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise self._unreachable(f"could not be reached ({exc})", type(exc).__name__) from None
        answer = _json_object(raw)
        if 200 <= status < 300 and answer is not None and "error" not in answer:
            return answer
        raise _error_from(status, answer)

    def _unreachable(self, what: str, reason: str) -> GraphUnreachable:
        """The error naming the URL tried (FLOWGATE_GRAPH_API_URL), logged for the operator."""
        url = self.messages_url
        log.warning("Graph API unreachable: POST %s %s", url, what)
        return GraphUnreachable(
            f"The Graph API at {url} {what}. Check FLOWGATE_GRAPH_API_URL and the network.",
            details={"reason": reason, "url": url},
        )


def _borrowed(client: httpx.Client) -> contextlib.nullcontext[httpx.Client]:
    return contextlib.nullcontext(client)


def _read_bounded(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise GraphUnreachable(
                "The Graph API's answer is too large.", details={"reason": "answer_too_large"}
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _error_from(status: int, answer: dict[str, Any] | None) -> FlowgateError:
    """The typed error for a non-2xx (or error-carrying) answer."""
    error = answer.get("error") if answer is not None else None
    if not isinstance(error, dict):
        return GraphUnreachable(
            f"The Graph API answered HTTP {status} without an error object.",
            details={"reason": "unexpected_answer", "http_status": status},
        )
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    details = {
        "http_status": status,
        "code": error_code(error.get("code")),
        "subcode": error_code(error.get("error_subcode")),
        "type": _str(error.get("type")),
        "message": _str(error.get("message")),
        "details": _str(error_data.get("details")),
        "fbtrace_id": _str(error.get("fbtrace_id")),
    }
    meta_message = details["message"] or "no message"
    log.warning(
        "Graph API refused a message: HTTP %s, code %s (%s)", status, details["code"], meta_message
    )
    return GraphApiError(
        f"The Graph API refused the message: {meta_message} (code {details['code']}).",
        details=details,
    )


def _str(value: Any) -> str | None:
    return value[:2000] if isinstance(value, str) else None


def sent_message_id(answer: dict[str, Any]) -> str:
    """The wamid in a success answer (`{"messages": [{"id": "wamid..."}]}`), else an error."""
    messages = answer.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    if not isinstance(wamid, str) or not 0 < len(wamid) <= 128 or "\x00" in wamid:
        raise GraphUnreachable(
            "The Graph API accepted the request but named no message id.",
            details={"reason": "no_message_id"},
        )
    return wamid
