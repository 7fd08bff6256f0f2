"""`flowgate keys generate` and `flowgate keys public`: the endpoint's RSA key pair."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric import rsa

from app.cli.instance import load_config
from app.config import Config
from app.crypto.keys import (
    generate_private_key,
    load_private_key,
    private_pem,
    public_pem,
    write_private_file,
)
from app.errors import ConfigError, FlowgateError


@click.group("keys")
def keys_group() -> None:
    """The RSA-2048 key pair WhatsApp encrypts endpoint requests to."""


@keys_group.command("generate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (default: the first FLOWGATE_PRIVATE_KEY_FILE).",
)
@click.option(
    "--passphrase",
    envvar="FLOWGATE_PRIVATE_KEY_PASSPHRASE",
    default=None,
    help="Encrypts the key (default: FLOWGATE_PRIVATE_KEY_PASSPHRASE, else a new one "
    "printed once on stderr).",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def generate(out: Path | None, passphrase: str | None, force: bool) -> None:
    """Write a new PKCS#8 private key (mode 0600) encrypted with a passphrase."""
    path = out or load_config().private_key_files[0]
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to replace it")
    generated = passphrase is None
    passphrase = passphrase or secrets.token_urlsafe(24)
    key = generate_private_key()
    write_private_file(path, private_pem(key, passphrase))
    click.echo(f"wrote {path}")
    if generated:
        click.echo(f"passphrase (set FLOWGATE_PRIVATE_KEY_PASSPHRASE): {passphrase}", err=True)


# `--key` of `public` and `upload`: which private key's public half to use.
KEY_OPTION = click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (default: the current FLOWGATE_PRIVATE_KEY_FILE).",
)


def _current_key(config: Config, key_file: Path | None) -> rsa.RSAPrivateKey:
    """The key in `key_file`, else the current FLOWGATE_PRIVATE_KEY_FILE (ConfigError if
    it cannot be read)."""
    return load_private_key(key_file or config.private_key_files[0], config.private_key_passphrase)


@keys_group.command("public")
@KEY_OPTION
def public(key_file: Path | None) -> None:
    """Print the public key (SPKI PEM) to upload to Meta."""
    config = load_config()
    try:
        key = _current_key(config, key_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(public_pem(key).decode(), nl=False)


@keys_group.command("upload")
@KEY_OPTION
def upload(key_file: Path | None) -> None:
    """Upload the public key to Meta for FLOWGATE_PHONE_NUMBER_ID and read it back.

    Needed once per phone number, and again after re-registering the number, after a key
    rotation, or when Meta alerts that the public key is missing (docs/flows.md).
    """
    from app.metaflows.api import FlowsApi

    config = load_config()
    try:
        key = _current_key(config, key_file)
        if not config.phone_number_id:
            raise ConfigError("set FLOWGATE_PHONE_NUMBER_ID (the number the key is for)")
        api = FlowsApi.from_config(config, need_waba=False)
        pem = public_pem(key).decode()
        api.set_public_key(config.phone_number_id, pem)
        held = api.get_public_key(config.phone_number_id)
    except (ConfigError, FlowgateError) as exc:
        raise click.ClickException(str(exc)) from None
    if "".join(str(held.get("business_public_key", "")).split()) != "".join(pem.split()):
        raise click.ClickException(
            "Meta answered the upload, but the key it holds is not this one; try again."
        )
    status = held.get("business_public_key_signature_status", "unknown")
    click.echo(
        f"uploaded the public key for phone number {config.phone_number_id}; Meta holds it "
        f"(signature status {status})"
    )
    if status != "VALID":
        raise click.ClickException(f"Meta reports signature status {status}, not VALID.")
