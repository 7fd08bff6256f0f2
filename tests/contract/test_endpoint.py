"""docs/contract.md "Contract details": the Flow data endpoint, checked with an independent client.

Requests are encrypted here (wire.py, protocol.md §2) and answers decrypted with the flipped
IV (§3); nothing of the project's crypto or emulator is used.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.contract.wire import AUTH, ISO_Z, hub_signature, issue_token, post_endpoint, seal

FLOW = "two_step"
WA_ID = "447700900123"


@pytest.fixture
def pub(private_key: rsa.RSAPrivateKey) -> rsa.RSAPublicKey:
    return private_key.public_key()


def ping(pub: rsa.RSAPublicKey, **kw: object):  # type: ignore[no-untyped-def]
    return seal(pub, {"version": "3.0", "action": "ping"}, **kw)  # type: ignore[arg-type]


# --- status order: 404 before 413 before 432 before 400 before 421 -------------------------


def test_unknown_flow_is_404_before_size_and_signature(flow_client) -> None:  # type: ignore[no-untyped-def]
    huge = b"x" * (1048576 + 10)
    assert post_endpoint(flow_client, "no_such_flow", huge, signature=None).status_code == 404
    res = post_endpoint(flow_client, "no_such_flow", b"{}", signature="sha256=00")
    assert res.status_code == 404


def test_endpointless_flow_is_404(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    """lead_capture has no data_api_version/routing_model: it cannot be served."""
    sealed = ping(pub)
    assert post_endpoint(flow_client, "lead_capture", sealed.body).status_code == 404


def test_body_over_default_limit_is_413_before_signature(flow_client) -> None:  # type: ignore[no-untyped-def]
    over = b"{" + b" " * 1048576 + b"}"  # 1048578 bytes > default FLOWGATE_MAX_ENDPOINT_BODY
    assert post_endpoint(flow_client, FLOW, over, signature=None).status_code == 413
    assert post_endpoint(flow_client, FLOW, over, signature="sha256=bad").status_code == 413


def test_body_at_default_limit_is_not_413(flow_client) -> None:  # type: ignore[no-untyped-def]
    exact = b"{" + b" " * (1048576 - 2) + b"}"
    assert len(exact) == 1048576
    assert post_endpoint(flow_client, FLOW, exact, signature=None).status_code == 432


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc"])
def test_missing_or_wrong_signature_is_432_before_400(flow_client, header) -> None:  # type: ignore[no-untyped-def]
    res = post_endpoint(flow_client, FLOW, b"not json at all", signature=header)
    assert res.status_code == 432


def test_signature_by_another_secret_is_432(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub)
    wrong = hub_signature(sealed.body, "other")
    res = post_endpoint(flow_client, FLOW, sealed.body, signature=wrong)
    assert res.status_code == 432


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        json.dumps({"encrypted_flow_data": "AA==", "encrypted_aes_key": "AA=="}).encode(),
        json.dumps(
            {"encrypted_flow_data": 1, "encrypted_aes_key": "AA==", "initial_vector": "AA=="}
        ).encode(),
        json.dumps(
            {"encrypted_flow_data": "AA==", "encrypted_aes_key": None, "initial_vector": "AA=="}
        ).encode(),
    ],
)
def test_bad_envelope_is_400_before_421(flow_client, body) -> None:  # type: ignore[no-untyped-def]
    assert post_endpoint(flow_client, FLOW, body).status_code == 400


def test_undecryptable_envelope_is_421(flow_client) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(
        {"encrypted_flow_data": "AAAA", "encrypted_aes_key": "AAAA", "initial_vector": "AAAA"}
    ).encode()
    assert post_endpoint(flow_client, FLOW, body).status_code == 421


@pytest.mark.parametrize("key_size", [24, 32])
def test_aes_key_other_than_16_bytes_is_421(flow_client, pub, key_size) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub, key_size=key_size)
    assert post_endpoint(flow_client, FLOW, sealed.body).status_code == 421


@pytest.mark.parametrize("plaintext", [b"[1]", b'"ping"', b"not json", b"\xff\xfe"])
def test_plaintext_not_a_json_object_is_421(flow_client, pub, plaintext) -> None:  # type: ignore[no-untyped-def]
    sealed = seal(pub, None, plaintext=plaintext)
    assert post_endpoint(flow_client, FLOW, sealed.body).status_code == 421


def test_tampered_ciphertext_is_421(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub)
    env = json.loads(sealed.body)
    raw = bytearray(base64.b64decode(env["encrypted_flow_data"]))
    raw[0] ^= 1
    env["encrypted_flow_data"] = base64.b64encode(bytes(raw)).decode()
    assert post_endpoint(flow_client, FLOW, json.dumps(env).encode()).status_code == 421


# --- answers ---------------------------------------------------------------------------------


def test_ping_is_answered_encrypted_text_plain(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub)
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200
    assert res.mimetype == "text/plain"
    answer = sealed.open(res.get_data())
    assert answer["data"] == {"status": "active"}


def test_extra_envelope_keys_are_ignored(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub, extra={"flow_or_version_id": "123", "something": {"nested": True}})
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200
    assert sealed.open(res.get_data())["data"] == {"status": "active"}


@pytest.mark.parametrize("token", ["garbage-token", None])
def test_error_notification_is_acknowledged_even_with_bad_token(flow_client, pub, token) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "version": "3.0",
        "action": "data_exchange",
        "screen": "ONE",
        "data": {"error": "payload-schema-error", "error_message": "boom"},
    }
    if token:
        payload["flow_token"] = token
    sealed = seal(pub, payload)
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200
    assert res.mimetype == "text/plain"
    assert sealed.open(res.get_data())["data"] == {"acknowledged": True}


def _assert_427(res, sealed) -> None:  # type: ignore[no-untyped-def]
    assert res.status_code == 427
    body = sealed.open(res.get_data())
    assert isinstance(body["error_msg"], str) and body["error_msg"]


@pytest.mark.parametrize("action", ["INIT", "data_exchange", "BACK"])
def test_missing_token_is_427_with_encrypted_error_msg(flow_client, pub, action) -> None:  # type: ignore[no-untyped-def]
    payload = {"version": "3.0", "action": action, "screen": "ONE", "data": {"first": "x"}}
    sealed = seal(pub, payload)
    _assert_427(post_endpoint(flow_client, FLOW, sealed.body), sealed)


def test_forged_and_foreign_flow_tokens_are_427(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    other = issue_token(flow_client, "appointment", WA_ID)["flow_token"]
    mine = issue_token(flow_client, FLOW, WA_ID)["flow_token"]
    forged = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
    for token in (other, forged, "unused"):
        sealed = seal(pub, {"version": "3.0", "action": "INIT", "flow_token": token})
        _assert_427(post_endpoint(flow_client, FLOW, sealed.body), sealed)


def test_init_with_valid_token_answers_entry_screen(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(flow_client, FLOW, WA_ID)["flow_token"]
    sealed = seal(pub, {"version": "3.0", "action": "INIT", "flow_token": token})
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200 and res.mimetype == "text/plain"
    assert sealed.open(res.get_data())["screen"] == "ONE"


def _exchange(client, pub, token, screen, data):  # type: ignore[no-untyped-def]
    payload = {
        "version": "3.0",
        "action": "data_exchange",
        "screen": screen,
        "data": data,
        "flow_token": token,
    }
    sealed = seal(pub, payload)
    res = post_endpoint(client, FLOW, sealed.body)
    assert res.status_code == 200, res.status_code
    return sealed.open(res.get_data())


def test_success_params_and_merged_fields_of_all_screens(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(flow_client, FLOW, WA_ID)["flow_token"]
    init = seal(pub, {"version": "3.0", "action": "INIT", "flow_token": token})
    assert post_endpoint(flow_client, FLOW, init.body).status_code == 200
    assert _exchange(flow_client, pub, token, "ONE", {"first": "alpha"})["screen"] == "TWO"
    done = _exchange(flow_client, pub, token, "TWO", {"second": "beta"})
    assert done["screen"] == "SUCCESS"
    params = done["data"]["extension_message_response"]["params"]
    assert params["flow_token"] == token
    submission_id = params["submission_id"]
    assert isinstance(submission_id, str) and submission_id

    res = flow_client.get(f"/api/v1/submissions/{submission_id}", headers=AUTH)
    assert res.status_code == 200
    sub = res.get_json()
    assert sub["fields"] == {"first": "alpha", "second": "beta"}
    assert sub["source"] == "endpoint"
    assert sub["flow"] == FLOW and sub["wa_id"] == WA_ID and sub["flow_token"] == token
    assert sub["status"] == "valid" and sub["errors"] == []
    assert re.match(ISO_Z, sub["submitted_at"])


def _complete_two_step(client, pub, wa_id: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    token = issue_token(client, FLOW, wa_id)["flow_token"]
    _exchange(client, pub, token, "ONE", {"first": "a"})
    done = _exchange(client, pub, token, "TWO", {"second": "b"})
    return done["data"]["extension_message_response"]["params"]


def test_endpoint_completion_then_nfm_reply_is_one_lead(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    from tests.contract.wire import nfm_reply, post_meta

    params = _complete_two_step(flow_client, pub, WA_ID)
    assert post_meta(flow_client, nfm_reply(WA_ID, params)).status_code == 200
    items = flow_client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert [i["id"] for i in items] == [params["submission_id"]]
    assert items[0]["status"] == "valid"


def test_nfm_reply_from_another_wa_id_marks_the_endpoint_submission_invalid(  # type: ignore[no-untyped-def]
    flow_client, pub
) -> None:
    """docs/contract.md: the endpoint can only check the flow; the nfm_reply from another wa_id
    makes the submission invalid with that error."""
    from tests.contract.wire import nfm_reply, post_meta

    params = _complete_two_step(flow_client, pub, WA_ID)
    assert post_meta(flow_client, nfm_reply("447700999999", params)).status_code == 200
    items = flow_client.get("/api/v1/submissions", headers=AUTH).get_json()["items"]
    assert len(items) == 1
    assert items[0]["status"] == "invalid" and items[0]["errors"]


def test_signature_is_over_raw_bytes_not_reserialised_json(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub)
    pretty = json.dumps(json.loads(sealed.body), indent=4).encode()
    res = post_endpoint(flow_client, FLOW, pretty)
    assert res.status_code == 200
    assert (
        post_endpoint(flow_client, FLOW, pretty, signature=hub_signature(sealed.body)).status_code
        == 432
    )


def test_path_traversal_flow_name_is_404(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = ping(pub)
    for name in ("..%2Ftwo_step", "two_step.json", "TWO_STEP"):
        assert post_endpoint(flow_client, name, sealed.body).status_code == 404


def test_ping_with_a_forged_token_is_still_answered(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    sealed = seal(pub, {"version": "3.0", "action": "ping", "flow_token": "forged"})
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200
    assert sealed.open(res.get_data())["data"] == {"status": "active"}


@pytest.mark.parametrize("field", ["", "iv12"])
def test_empty_strings_or_short_iv_are_421(flow_client, pub, field) -> None:  # type: ignore[no-untyped-def]
    if field == "":
        env = {"encrypted_flow_data": "", "encrypted_aes_key": "", "initial_vector": ""}
    else:
        env = json.loads(ping(pub).body)
        env["initial_vector"] = base64.b64encode(b"\x01" * 12).decode()
    assert post_endpoint(flow_client, FLOW, json.dumps(env).encode()).status_code == 421


def test_non_utf8_body_is_400(flow_client) -> None:  # type: ignore[no-untyped-def]
    assert post_endpoint(flow_client, FLOW, b"\xff\xfe{}").status_code == 400


def test_chunked_body_over_limit_is_413_and_small_one_served(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    """Without a Content-Length the limit still holds (the body is read at most limit + 1)."""
    import io

    big = b"{" + b" " * 1048600 + b"}"
    res = flow_client.post(
        f"/flows/{FLOW}/endpoint",
        input_stream=io.BytesIO(big),
        headers={"Transfer-Encoding": "chunked", "X-Hub-Signature-256": hub_signature(big)},
    )
    assert res.status_code == 413
    sealed = ping(pub)
    res = flow_client.post(
        f"/flows/{FLOW}/endpoint",
        input_stream=io.BytesIO(sealed.body),
        headers={"Transfer-Encoding": "chunked", "X-Hub-Signature-256": hub_signature(sealed.body)},
    )
    assert res.status_code == 200


def _hs256(payload: dict, secret: str) -> str:  # type: ignore[type-arg]
    import hashlib
    import hmac

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_data_api_4_request_with_genuine_flow_token_signature_is_served(flow_client, pub) -> None:  # type: ignore[no-untyped-def]
    """protocol.md §7.2: an HS256 JWT signed with the app secret holding the flow token."""
    from tests.conftest import APP_SECRET

    token = issue_token(flow_client, FLOW, WA_ID)["flow_token"]
    payload = {
        "version": "4.0",
        "action": "INIT",
        "flow_token": token,
        "flow_token_signature": _hs256({"flow_token": token}, APP_SECRET),
    }
    sealed = seal(pub, payload)
    res = post_endpoint(flow_client, FLOW, sealed.body)
    assert res.status_code == 200
    assert sealed.open(res.get_data())["screen"] == "ONE"


def test_invalid_flow_is_unservable_404_and_reported(  # type: ignore[no-untyped-def]
    settings, db, tmp_path, pub
) -> None:
    """docs/contract.md: "unknown or unservable flow 404"; the flows API shows the report."""
    import shutil

    from app import create_app
    from tests.conftest import ROOT, make_config

    flows = tmp_path / "flows_broken"
    shutil.copytree(ROOT / "flows", flows)
    broken = json.loads((ROOT / "flows" / "appointment.json").read_text())
    broken["routing_model"]["SUMMARY"] = ["NO_SUCH_SCREEN"]
    (flows / "broken.json").write_text(json.dumps(broken))
    app = create_app(make_config({**settings, "FLOWGATE_FLOWS_DIR": str(flows)}))
    client = app.test_client()
    try:
        sealed = ping(pub)
        assert post_endpoint(client, "broken", sealed.body).status_code == 404
        assert post_endpoint(client, "appointment", sealed.body).status_code == 200
        one = client.get("/api/v1/flows/broken", headers=AUTH)
        assert one.status_code == 200
        assert "NO_SUCH_SCREEN" in one.get_data(as_text=True)
    finally:
        app.extensions["flowgate"].db.dispose()


def test_flow_accepting_foreign_tokens(settings, db, tmp_path, pub) -> None:  # type: ignore[no-untyped-def]
    """docs/contract.md: a missing token is 427 "unless the flow accepts foreign tokens"; such a
    flow (flows/<name>.py `handlers = FlowHandlers(accept_foreign_tokens=True)`, docs/endpoint.md)
    serves static template tokens and none, and SUCCESS still carries flow_token and
    submission_id. A Flowgate-format token that fails its MAC stays refused."""
    import shutil

    from app import create_app
    from tests.conftest import ROOT, make_config
    from tests.contract.conftest import TWO_STEP_FLOW, TWO_STEP_SCHEMA

    flows, schemas = tmp_path / "ff", tmp_path / "fs"
    shutil.copytree(ROOT / "flows", flows)
    shutil.copytree(ROOT / "schemas", schemas)
    (flows / "open_step.json").write_text(json.dumps(TWO_STEP_FLOW))
    (flows / "open_step.py").write_text(
        "from app.flows_api import FlowHandlers\n"
        "handlers = FlowHandlers(accept_foreign_tokens=True)\n"
    )
    (schemas / "open_step.json").write_text(json.dumps(TWO_STEP_SCHEMA))
    config = {**settings, "FLOWGATE_FLOWS_DIR": str(flows), "FLOWGATE_SCHEMAS_DIR": str(schemas)}
    app = create_app(make_config(config))
    client = app.test_client()
    try:

        def send(payload: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
            sealed = seal(pub, {"version": "3.0", **payload})
            res = post_endpoint(client, "open_step", sealed.body)
            return res.status_code, sealed.open(res.get_data())

        assert send({"action": "INIT"})[0] == 200  # no token at all
        status, answer = send({"action": "INIT", "flow_token": "unused"})
        assert status == 200 and answer["screen"] == "ONE"
        mine = issue_token(client, "open_step", WA_ID)["flow_token"]
        forged = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
        assert send({"action": "INIT", "flow_token": forged})[0] == 427
        final = {"second": "y", "first": "x"}
        status, answer = send(
            {"action": "data_exchange", "screen": "TWO", "data": final, "flow_token": "unused"}
        )
        assert status == 200 and answer["screen"] == "SUCCESS", answer
        params = answer["data"]["extension_message_response"]["params"]
        assert params["flow_token"] == "unused" and params["submission_id"]
        sub = client.get(f"/api/v1/submissions/{params['submission_id']}", headers=AUTH)
        assert sub.status_code == 200 and sub.get_json()["source"] == "endpoint"
    finally:
        app.extensions["flowgate"].db.dispose()
