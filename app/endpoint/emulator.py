"""A WhatsApp-client emulator: drives a Flow like the app on a phone does (plus Meta's proxy).

`WhatsAppClient` encrypts each request as the client does (a fresh AES-128 key and IV, the
key wrapped with the business public key by RSA-OAEP SHA-256), signs the body with the app
secret as Meta's proxy does (X-Hub-Signature-256, plus a Data API 4.0 flow_token_signature
when asked), posts it through any `Transport` (the Flask test client or real HTTP), decrypts
the answer and checks it against the Flow JSON as the client does (invalid-screen-transition,
payload-schema-error). `walk` fills a flow screen by screen from an answers mapping
`{screen: {field: value}}`: component changes fire their data_exchange, footers navigate
(resolved locally, as WhatsApp does), exchange with the endpoint, or complete. An endpoint-
less flow is walked entirely on the client side to its complete payload, which
`nfm_reply_notification` wraps into the webhook Meta would send.

Used by the tests, `flowgate simulate` and the benchmark.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from app.crypto.envelope import DecryptionError, encrypt_request
from app.crypto.jwt import sign_flow_token
from app.crypto.signatures import hub_signature
from app.endpoint.checker import check_answer, check_data
from app.endpoint.protocol import BACK, DATA_EXCHANGE, INIT, PING, SUCCESS
from app.flowjson.model import FlowModel, ScreenModel

_REF = re.compile(r"\$\{(screen\.([A-Za-z0-9_]+)\.)?(form|data)\.([A-Za-z0-9_]+)\}")
MAX_STEPS = 100
Tables = dict[str, dict[str, Any]]  # screen id -> its data, or its form values
# (screen id, component, the screen's current data) -> a value, or MISSING to leave it out.
Autofill = Callable[[str, dict[str, Any], dict[str, Any]], Any]
Step = tuple[str, str, dict[str, Any]]  # ("screen" | "done", next screen, data or completion)


class Transport(Protocol):
    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]: ...


class FlaskTransport:
    """Posts through a Flask test client (no sockets)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = self.client.post(path, data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True)


class HttpTransport:
    """Posts over real HTTP to `base_url` (keep-alive connection, 10 s like Meta)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = self.client.post(path, content=body, headers=headers)
        return response.status_code, response.text

    def close(self) -> None:
        self.client.close()


class ClientError(Exception):
    """What the real client would show as an error (bad status, undecryptable or invalid answer)."""

    def __init__(self, message: str, *, status: int | None = None, error_msg: str | None = None):
        super().__init__(message)
        self.status = status
        self.error_msg = error_msg


@dataclass
class ClientReply:
    status: int
    body: str
    payload: Any = None  # the decrypted answer (200 and a non-empty 427)
    elapsed: float = 0.0


@dataclass
class WalkResult:
    completion: dict[str, Any]  # SUCCESS params (endpoint) or the complete payload
    screens: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class WhatsAppClient:
    """One user running one flow (one flow token)."""

    def __init__(
        self,
        *,
        flow: str,
        document: dict[str, Any],
        public_key: rsa.RSAPublicKey,
        app_secret: str,
        transport: Transport,
        flow_token: str | None = None,
        sign_flow_token: bool | None = None,
        path: str | None = None,
        autofill: Autofill | None = None,
    ) -> None:
        self.flow = flow
        self.model: FlowModel = FlowModel(document)
        self.public_key = public_key
        self.app_secret = app_secret
        self.transport = transport
        self.flow_token = flow_token
        self.version = self.model.data_api_version or "3.0"
        # Meta adds flow_token_signature only with Data API 4.0 (protocol.md §4.1).
        self.sign = self.version == "4.0" if sign_flow_token is None else sign_flow_token
        self.path = path or f"/flows/{flow}/endpoint"
        # Answers for fields the caller left out (`flowgate simulate`); None: leave them out.
        self.autofill = autofill

    # -- one request -------------------------------------------------------------------
    def request_payload(self, action: str, screen: str | None, data: Mapping[str, Any]) -> dict:
        payload: dict[str, Any] = {"version": self.version, "action": action}
        if action != PING:
            payload.update(screen=screen or "", data=dict(data))
            if self.flow_token is not None:
                payload["flow_token"] = self.flow_token
                if self.sign:
                    payload["flow_token_signature"] = sign_flow_token(
                        self.flow_token, self.app_secret
                    )
        return payload

    def send(self, payload: Mapping[str, Any], *, secret: str | None = None) -> ClientReply:
        """Encrypt, sign, post and decrypt (200 and 427 bodies); no Flow JSON checks."""
        envelope, cipher = encrypt_request(self.public_key, payload)
        body = json.dumps(envelope.to_dict()).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": hub_signature(secret or self.app_secret, body),
        }
        started = time.perf_counter()
        status, text = self.transport.post(self.path, body, headers)
        reply = ClientReply(status, text, elapsed=time.perf_counter() - started)
        if status in (200, 427) and text:
            try:
                reply.payload = cipher.decrypt(text)
            except DecryptionError as exc:
                raise ClientError(f"response-decryption-error: {exc}", status=status) from None
        elif status == 200:
            raise ClientError("response-decryption-error: empty 200 body", status=status)
        return reply

    def _answer(self, action: str, screen: str | None, data: Mapping[str, Any]) -> dict:
        reply = self.send(self.request_payload(action, screen, data))
        if reply.status == 427:
            message = reply.payload.get("error_msg") if isinstance(reply.payload, dict) else None
            raise ClientError(f"427: {message}", status=427, error_msg=message)
        if reply.status != 200:
            raise ClientError(f"endpoint answered HTTP {reply.status}", status=reply.status)
        problems = check_answer(self.model, action, screen, reply.payload)
        if problems:
            raise ClientError("; ".join(problems), status=200)
        answer: dict[str, Any] = reply.payload
        return answer

    def ping(self) -> dict[str, Any]:
        reply = self.send(self.request_payload(PING, None, {}))
        if reply.status != 200 or reply.payload != {"data": {"status": "active"}}:
            raise ClientError(f"health check failed: HTTP {reply.status}", status=reply.status)
        return dict(reply.payload)

    def init(self) -> dict[str, Any]:
        return self._answer(INIT, None, {})

    def exchange(self, screen: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return self._answer(DATA_EXCHANGE, screen, data)

    def back(self, screen: str) -> dict[str, Any]:
        return self._answer(BACK, screen, {})

    def report_error(self, screen: str, error: str, message: str = "") -> ClientReply:
        """An error notification, as the client sends after rejecting an answer."""
        return self.send(
            self.request_payload(DATA_EXCHANGE, screen, {"error": error, "error_message": message})
        )

    # -- a whole run -------------------------------------------------------------------
    def walk(
        self,
        answers: Mapping[str, Mapping[str, Any]],
        *,
        initial_data: Mapping[str, Any] | None = None,
        on_screen: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> WalkResult:
        """Fill the flow from `answers`; returns SUCCESS params or the complete payload.

        Endpoint-powered flows start with INIT (flow_action data_exchange); endpoint-less
        ones start on the entry screen with `initial_data` (flow_action_payload.data) or the
        data model's examples, and never contact the endpoint.
        """
        result = WalkResult(completion={})
        forms: dict[str, dict[str, Any]] = {}
        datas: dict[str, dict[str, Any]] = {}
        if self.model.endpoint_powered and initial_data is None:
            answer = self.init()
            screen_id, data = answer["screen"], answer["data"]
        else:
            screen_id = self.model.entry_screen or ""
            screen0 = self.model.screen(screen_id)
            data = dict(initial_data or (screen0.examples if screen0 else {}))
        for _ in range(MAX_STEPS):
            screen = self.model.screen(screen_id)
            if screen is None:
                raise ClientError(f"no screen {screen_id!r}")
            problems = check_data(self.model, screen_id, data)
            if problems:
                raise ClientError("payload-schema-error: " + "; ".join(problems))
            if data.get("error_message"):
                raise ClientError(f"{screen_id}: {data['error_message']}")
            result.screens.append((screen_id, dict(data)))
            if on_screen is not None:
                on_screen(screen_id, dict(data))
            form: dict[str, Any] = forms.setdefault(screen_id, {})
            datas[screen_id] = data
            step = self._fill(screen, answers.get(screen_id, {}), form, datas, forms)
            if step is not None:
                kind, screen_id, data = step
            else:
                kind, screen_id, data = self._submit(screen, datas, forms)
            if kind == "done":
                result.completion = data
                return result
        raise ClientError(f"no completion after {MAX_STEPS} screens")

    def _fill(
        self,
        screen: ScreenModel,
        values: Mapping[str, Any],
        form: dict[str, Any],
        datas: Tables,
        forms: Tables,
    ) -> Step | None:
        """Enter `values`; a component's data_exchange may refresh or leave the screen."""
        for comp in list(screen.components()):
            name = comp.get("name")
            if not isinstance(name, str):
                continue
            if name in values:
                value = values[name]
            elif self.autofill is not None:
                value = self.autofill(screen.id, comp, datas[screen.id])
                if value is _MISSING:
                    continue
            else:
                continue
            form[name] = value
            self._check_option(screen.id, comp, value, datas[screen.id])
            for event in ("on-select-action", "on-change-action"):
                action = comp.get(event)
                if isinstance(action, dict) and action.get("name") == DATA_EXCHANGE:
                    payload = resolve(action.get("payload") or {}, screen.id, datas, forms)
                    answer = self.exchange(screen.id, payload)
                    if answer["screen"] == SUCCESS:
                        return "done", SUCCESS, _params(answer)
                    if answer["data"].get("error_message"):
                        raise ClientError(f"{screen.id}: {answer['data']['error_message']}")
                    if answer["screen"] != screen.id:
                        return "screen", answer["screen"], answer["data"]
                    datas[screen.id] = answer["data"]
        return None

    def _submit(self, screen: ScreenModel, datas: Tables, forms: Tables) -> Step:
        """Tap the screen's footer (or first on-click action)."""
        clicks = [a for a in screen.actions if a.event == "on-click-action"]
        footer = [a for a in clicks if a.component.get("type") == "Footer"] or clicks
        if not footer:
            raise ClientError(f"{screen.id} has nothing to tap")
        action = footer[0]
        payload = resolve(action.payload, screen.id, datas, forms)
        if action.name == "complete":
            return "done", "", payload
        if action.name == "navigate":
            target = (action.next or {}).get("name", "")
            if self.model.routing and target not in self.model.next_screens(screen.id):
                raise ClientError(f"invalid-screen-transition: {screen.id} -> {target}")
            return "screen", target, payload
        if action.name == DATA_EXCHANGE:
            answer = self.exchange(screen.id, payload)
            if answer["screen"] == SUCCESS:
                return "done", "", _params(answer)
            return "screen", answer["screen"], answer["data"]
        raise ClientError(f"{screen.id}: unsupported action {action.name!r}")

    @staticmethod
    def _check_option(
        screen_id: str, comp: dict[str, Any], value: Any, data: dict[str, Any]
    ) -> None:
        """A choice must be one of the component's options, as on a phone."""
        source = comp.get("data-source")
        if isinstance(source, str):
            match = _REF.fullmatch(source)
            source = data.get(match.group(4)) if match and match.group(3) == "data" else None
        if not isinstance(source, list):
            return
        ids = {o.get("id") for o in source if isinstance(o, dict)}
        chosen = value if isinstance(value, list) else [value]
        if any(v not in ids for v in chosen):
            offered = ", ".join(repr(i) for i in ids if i is not None) or "none"
            raise ClientError(
                f"{screen_id}: {value!r} is not an option of {comp.get('name')} "
                f"(offered now: {offered})"
            )


def _params(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(answer["data"]["extension_message_response"]["params"])


def resolve(value: Any, screen_id: str, datas: Tables, forms: Tables) -> Any:
    """Substitute `${form.x}`, `${data.x}` and `${screen.S.form|data.x}` like the client.

    A payload key whose form field was left empty is dropped (nothing to send).
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            resolved = resolve(item, screen_id, datas, forms)
            if resolved is not _MISSING:
                out[key] = resolved
        return out
    if isinstance(value, list):
        return [resolve(v, screen_id, datas, forms) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> Any:
        source = match.group(2) or screen_id
        table = (forms if match.group(3) == "form" else datas).get(source, {})
        return table.get(match.group(4), _MISSING)

    whole = _REF.fullmatch(value)
    if whole:
        return lookup(whole)
    return _REF.sub(lambda m: "" if (v := lookup(m)) is _MISSING else str(v), value)


_MISSING: Any = object()
MISSING: Any = _MISSING  # what an Autofill returns for "leave this field out"


def nfm_reply_notification(
    completion: Mapping[str, Any],
    *,
    wa_id: str,
    message_id: str,
    context_id: str | None = None,
    contact_name: str | None = None,
    timestamp: int | None = None,
    phone_number_id: str = "100000000000001",
) -> dict[str, Any]:
    """The `messages` webhook Meta sends when a flow completes (protocol.md §9.1)."""
    message: dict[str, Any] = {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(int(timestamp if timestamp is not None else time.time())),
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(completion)},
        },
    }
    if context_id:
        message["context"] = {"from": "15550000000", "id": context_id}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": contact_name or ""}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "100000000000000", "changes": [{"field": "messages", "value": value}]}],
    }
