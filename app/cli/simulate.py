"""`flowgate simulate FLOW [--url URL] [--answers FILE]`: run a flow like a phone, end to end.

A smoke test against a running server: the WhatsApp-client emulator (app/endpoint/emulator.py)
pings the endpoint, fills the flow screen by screen from the answers file
(`{"SCREEN": {"field": value}}`), printing each screen and its data, and then the completion
(the SUCCESS params, or the complete payload of an endpoint-less flow). Fields the answers
leave out are filled as app/endpoint/autofill.py explains (a choice takes the first option
offered today, an optional text is sent empty), so examples work on any day.

With a URL the run is finished as WhatsApp finishes it: the completion is posted as a signed
nfm_reply notification to the server's `/webhooks/whatsapp` (app/endpoint/completion.py).
For an endpoint-less flow that is what stores the lead. `--no-send-webhook` skips it.

It needs this instance's app secret (it signs like Meta), token secret (it issues a token,
unless --flow-token) and private key (its public half encrypts, unless --public-key). A
refused request is explained (app/endpoint/diagnosis.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.cli.needs import command_runtime
from app.crypto.tokens import issue_token
from app.endpoint.autofill import make_autofill
from app.endpoint.completion import completion_notification, latest_lead, post_notification
from app.endpoint.diagnosis import explain
from app.endpoint.emulator import ClientError, HttpTransport, WhatsAppClient
from app.runtime import Runtime
from app.settings_check import Need


def _public_key(runtime: Runtime, path: Path | None) -> rsa.RSAPublicKey:
    if path is None:
        if not runtime.private_keys:
            raise click.ClickException("no private key loaded; pass --public-key")
        return runtime.private_keys[0].public_key()
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise click.ClickException(f"{path} is not an RSA public key")
    return key


def _answers(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read answers from {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise click.ClickException('answers must be {"SCREEN": {"field": value, ...}, ...}')
    return data


def _needs(flow_token: str | None, public_key: Path | None) -> tuple[Need, ...]:
    needs = [Need.APP_SECRET]
    if flow_token is None:
        needs.append(Need.TOKEN_SECRET)
    if public_key is None:
        needs.append(Need.PRIVATE_KEY)
    return tuple(needs)


@click.command("simulate")
@click.argument("flow")
@click.option(
    "--url",
    default=None,
    help="Server base URL (or the full endpoint URL). Needed for endpoint flows; without it "
    "an endpoint-less flow is only walked locally.",
)
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='JSON file {"SCREEN": {"field": value}}; fields left out are filled in.',
)
@click.option("--wa-id", default="15550000001", show_default=True, help="Contact of the run.")
@click.option("--name", "contact_name", default="Simulated User", show_default=True)
@click.option("--flow-token", default=None, help="Use this token instead of issuing one.")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The business public key PEM (default: from this instance's private key).",
)
@click.option(
    "--send-webhook/--no-send-webhook",
    default=None,
    help="Post the completion to URL/webhooks/whatsapp as Meta's signed nfm_reply "
    "(default: on when --url is given).",
)
def simulate_command(
    flow: str,
    url: str | None,
    answers_file: Path | None,
    wa_id: str,
    contact_name: str,
    flow_token: str | None,
    public_key: Path | None,
    send_webhook: bool | None,
) -> None:
    """Walk FLOW through the endpoint at URL, printing each screen and its data."""
    runtime = command_runtime(*_needs(flow_token, public_key), flows=True)
    definition = runtime.registry.get(flow)
    if definition is None or not isinstance(definition.document, dict):
        known = ", ".join(d.name for d in runtime.registry.all())
        raise click.ClickException(
            f"no flow named {flow!r} in {runtime.config.flows_dir} (known: {known or 'none'})"
        )
    send_webhook = bool(url) if send_webhook is None else send_webhook
    if send_webhook and not url:
        raise click.ClickException("--send-webhook needs --url (the server to post it to)")
    answers = _answers(answers_file)
    token = (
        flow_token
        or issue_token(runtime.config.token_secret or "", flow=flow, wa_id=wa_id).flow_token
    )
    parts = urlsplit(url or "http://127.0.0.1:5000")
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path if parts.path.rstrip("/").endswith("/endpoint") else None
    transport = HttpTransport(base)
    client = WhatsAppClient(
        flow=flow,
        document=definition.document,
        public_key=_public_key(runtime, public_key),
        app_secret=runtime.config.app_secrets[0],
        transport=transport,
        flow_token=token,
        path=path,
        autofill=make_autofill(
            lambda screen, name, value: click.echo(
                f"  {screen}.{name} = {json.dumps(value)} (not in the answers: filled in)"
            )
        ),
    )
    if client.model.endpoint_powered and not url:
        raise click.ClickException(f"{flow} is an endpoint flow: pass --url of the server")

    def show(screen: str, data: dict[str, Any]) -> None:
        click.echo(f"screen {screen}")
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))

    try:
        if client.model.endpoint_powered:
            client.ping()
            click.echo("ping: active")
        result = client.walk(answers, on_screen=show)
    except ClientError as exc:
        hint = explain(exc.status, flow=flow, token=token, token_secret=runtime.config.token_secret)
        raise click.ClickException(f"simulation failed: {hint or exc}") from None
    except OSError as exc:
        raise click.ClickException(f"simulation failed: cannot reach {base}: {exc}") from None
    finally:
        transport.close()
    click.echo("completed")
    click.echo(json.dumps(result.completion, indent=2, ensure_ascii=False))
    if send_webhook:
        _finish(runtime, base, flow, result.completion, wa_id, contact_name, token)


def _finish(
    runtime: Runtime,
    base: str,
    flow: str,
    completion: dict[str, Any],
    wa_id: str,
    contact_name: str,
    token: str,
) -> None:
    """Post the nfm_reply and show the stored lead (through the admin API when we can)."""
    body = completion_notification(
        completion, wa_id=wa_id, flow_token=token, contact_name=contact_name
    )
    try:
        answer = post_notification(base, body, runtime.config.app_secrets[0])
    except OSError as exc:
        raise click.ClickException(f"cannot post the nfm_reply to {base}: {exc}") from None
    if answer.status_code in (401, 403):
        raise click.ClickException(
            f"the server refused the nfm_reply ({answer.status_code}): the app secret differs "
            "from the server's. Use the same FLOWGATE_APP_SECRET here as on the server."
        )
    if answer.status_code != 200:
        raise click.ClickException(
            f"the server answered the nfm_reply with HTTP {answer.status_code}: {answer.text}"
        )
    click.echo(f"nfm_reply posted to {base}/webhooks/whatsapp: 200")
    lead = None
    if runtime.config.api_tokens:
        lead = latest_lead(base, runtime.config.api_tokens[0], flow=flow, wa_id=wa_id)
    if lead is None:
        click.echo(f"see the lead: GET {base}/api/v1/submissions?flow={flow}")
        return
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in lead.get("errors") or [])
    click.echo(f"lead {lead['id']} stored: {lead['status']}" + (f" ({errors})" if errors else ""))
    if lead["status"] == "valid":
        click.echo("a flow.submitted event is queued for every subscribed webhook endpoint")
