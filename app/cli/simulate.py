"""`flowgate simulate FLOW --url URL --answers FILE`: walk a running endpoint like a phone.

A smoke test against a deployed server: the WhatsApp-client emulator (app/endpoint/emulator.py)
pings the endpoint, then fills the flow screen by screen from the answers file
(`{"SCREEN": {"field": value}}`), printing each screen and its data, and finally the
completion (the SUCCESS params, or the complete payload of an endpoint-less flow). It uses this
instance's configuration: the public half of the current private key (or --public-key), the
first app secret, and a fresh flow token (or --flow-token).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.cli import with_appcontext

from app.crypto.tokens import issue_token
from app.endpoint.emulator import ClientError, HttpTransport, WhatsAppClient
from app.runtime import Runtime
from app.web import runtime


def _public_key(rt: Runtime, path: Path | None) -> rsa.RSAPublicKey:
    if path is None:
        if not rt.private_keys:
            raise click.ClickException("no private key loaded; pass --public-key")
        return rt.private_keys[0].public_key()
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise click.ClickException(f"{path} is not an RSA public key")
    return key


def _answers(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read answers from {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise click.ClickException('answers must be {"SCREEN": {"field": value, ...}, ...}')
    return data


@click.command("simulate")
@click.argument("flow")
@click.option("--url", required=True, help="Server base URL, or the full endpoint URL.")
@click.option(
    "--answers",
    "answers_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON file {"SCREEN": {"field": value}}.',
)
@click.option("--wa-id", default="15550000001", show_default=True, help="Contact of the run.")
@click.option("--flow-token", default=None, help="Use this token instead of issuing one.")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The business public key PEM (default: from this instance's private key).",
)
@with_appcontext
def simulate_command(
    flow: str,
    url: str,
    answers_file: Path,
    wa_id: str,
    flow_token: str | None,
    public_key: Path | None,
) -> None:
    """Walk FLOW through the endpoint at URL, printing each screen and its data."""
    rt = runtime()
    definition = rt.registry.get(flow)
    if definition is None or not isinstance(definition.document, dict):
        raise click.ClickException(f"no flow named {flow!r} in {rt.config.flows_dir}")
    if not rt.config.app_secrets:
        raise click.ClickException("FLOWGATE_APP_SECRET is not set")
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path if parts.path.rstrip("/").endswith("/endpoint") else None
    token = (
        flow_token or issue_token(rt.config.token_secret or "", flow=flow, wa_id=wa_id).flow_token
    )
    transport = HttpTransport(base)
    client = WhatsAppClient(
        flow=flow,
        document=definition.document,
        public_key=_public_key(rt, public_key),
        app_secret=rt.config.app_secrets[0],
        transport=transport,
        flow_token=token,
        path=path,
    )

    def show(screen: str, data: dict[str, Any]) -> None:
        click.echo(f"screen {screen}")
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))

    try:
        if client.model.endpoint_powered:
            client.ping()
            click.echo("ping: active")
        result = client.walk(_answers(answers_file), on_screen=show)
    except (ClientError, OSError) as exc:
        raise click.ClickException(f"simulation failed: {exc}") from None
    finally:
        transport.close()
    click.echo("completed")
    click.echo(json.dumps(result.completion, indent=2, ensure_ascii=False))
