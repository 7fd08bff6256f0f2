"""`flowgate keys upload` against the fake, and sending a Flow by name with the stored id."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from app.crypto.keys import public_pem
from app.db import Database
from app.messaging.flow_ids import meta_flow_id_for
from app.models import MetaFlow
from tests.messaging.conftest import WA, graph, open_window, sender, sending_app  # noqa: F401
from tests.messaging.fake_graph import FakeGraph
from tests.metaflows.conftest import PHONE, TOKEN, WABA, flowgate
from tests.metaflows.fake_meta import FakeMeta


def test_keys_upload_posts_the_public_key_form_encoded_and_reads_it_back(
    env: dict[str, str], meta: FakeMeta, private_key: rsa.RSAPrivateKey
) -> None:
    result = flowgate(env, "keys", "upload")
    assert result.exit_code == 0, result.output
    assert f"phone number {PHONE}" in result.stdout and "signature status VALID" in result.stdout
    post, get = meta.calls
    assert (post.method, post.path) == ("POST", f"/{PHONE}/whatsapp_business_encryption")
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert post.body["business_public_key"] == public_pem(private_key).decode()
    assert (get.method, get.path) == ("GET", f"/{PHONE}/whatsapp_business_encryption")
    assert "PRIVATE" not in str(post.body) and TOKEN not in result.output


def test_keys_upload_fails_when_meta_does_not_confirm(env: dict[str, str], meta: FakeMeta) -> None:
    meta.key_status = "MISMATCH"
    result = flowgate(env, "keys", "upload")
    assert result.exit_code == 1 and "MISMATCH" in result.output
    del env["FLOWGATE_PHONE_NUMBER_ID"]
    unset = flowgate(env, "keys", "upload")
    assert unset.exit_code == 1 and "FLOWGATE_PHONE_NUMBER_ID" in unset.output


def test_keys_upload_needs_no_waba_but_a_token(env: dict[str, str], meta: FakeMeta) -> None:
    del env["FLOWGATE_WABA_ID"]
    assert flowgate(env, "keys", "upload").exit_code == 0
    del env["FLOWGATE_ACCESS_TOKEN"]
    refused = flowgate(env, "keys", "upload")
    assert refused.exit_code == 1 and "FLOWGATE_ACCESS_TOKEN" in refused.output


def test_a_flow_sent_by_name_goes_with_the_id_push_stored(
    env: dict[str, str],
    meta: FakeMeta,
    db: Database,
    sender: FlaskClient,  # noqa: F811
    graph: FakeGraph,  # noqa: F811
    api_headers: dict[str, str],
) -> None:
    assert flowgate(env, "flows", "push", "lead_capture").exit_code == 0
    (flow,) = meta.flows.values()
    open_window(sender)
    body = {"wa_id": WA, "type": "flow", "flow": "lead_capture", "body": "Hi", "cta": "Open"}
    response = sender.post("/api/v1/messages", json=body, headers=api_headers)
    assert response.status_code == 201, response.get_json()
    sent = graph.requests[-1].body
    assert sent["interactive"]["action"]["parameters"]["flow_id"] == flow.id
    explicit = {**body, "meta_flow_id": "777"}  # the caller's own id still wins
    assert sender.post("/api/v1/messages", json=explicit, headers=api_headers).status_code == 201
    assert graph.requests[-1].body["interactive"]["action"]["parameters"]["flow_id"] == "777"


def test_an_unpushed_flow_sent_by_name_is_a_400_that_says_push(
    db: Database,
    sender: FlaskClient,  # noqa: F811
    graph: FakeGraph,  # noqa: F811
    api_headers: dict[str, str],
) -> None:
    open_window(sender)
    body = {"wa_id": WA, "type": "flow", "flow": "lead_capture", "body": "Hi", "cta": "Open"}
    response = sender.post("/api/v1/messages", json=body, headers=api_headers)
    assert response.status_code == 400
    assert "flowgate flows push" in str(response.get_json())
    assert graph.requests == []


def test_the_stored_id_is_found_by_account_or_when_unambiguous(db: Database) -> None:
    with db.transaction() as session:
        for waba, flow_id in ((WABA, "1"), ("other-account", "2")):
            session.add(MetaFlow(waba_id=waba, name="f", meta_flow_id=flow_id, meta_name="f"))
        session.add(MetaFlow(waba_id=WABA, name="g", meta_flow_id="3", meta_name="g"))
    with db.session() as session:
        assert meta_flow_id_for(session, "f", WABA) == "1"
        assert meta_flow_id_for(session, "f") is None  # two accounts: ambiguous
        assert meta_flow_id_for(session, "g") == "3"
        assert meta_flow_id_for(session, "nope") is None
