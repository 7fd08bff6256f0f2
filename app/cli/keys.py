"""`flowgate keys generate` and `flowgate keys public`: the endpoint's RSA key pair."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from app.cli.instance import load_config
from app.crypto.keys import (
    generate_private_key,
    load_private_key,
    private_pem,
    public_pem,
    write_private_file,
)
from app.errors import ConfigError


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


@keys_group.command("public")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (default: the current FLOWGATE_PRIVATE_KEY_FILE).",
)
def public(key_file: Path | None) -> None:
    """Print the public key (SPKI PEM) to upload to Meta."""
    config = load_config()
    try:
        key = load_private_key(
            key_file or config.private_key_files[0], config.private_key_passphrase
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(public_pem(key).decode(), nl=False)
