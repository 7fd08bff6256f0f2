"""`flowgate links create --text ... [--ref campaign]`: a wa.me link and its QR code."""

from __future__ import annotations

from pathlib import Path

import click

from app.automations.links import make_link
from app.cli.instance import load_config
from app.errors import InvalidRequest


@click.group("links")
def links_group() -> None:
    """wa.me links (and QR codes) that make customers write first."""


@links_group.command("create")
@click.option("--text", required=True, help="The message the chat is pre-filled with.")
@click.option("--ref", help="Campaign ref, kept on the contact when the user sends the text.")
@click.option("--number", help="Business number, international digits [FLOWGATE_BUSINESS_NUMBER].")
@click.option("--png", type=click.Path(path_type=Path), help="Write the QR code as PNG here.")
@click.option("--svg", type=click.Path(path_type=Path), help="Write the QR code as SVG here.")
def create_command(
    text: str, ref: str | None, number: str | None, png: Path | None, svg: Path | None
) -> None:
    """Print a wa.me link (and write its QR code with --png/--svg)."""
    try:
        link = make_link(number or load_config().business_number, text, ref)
    except InvalidRequest as exc:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in (exc.details or {}).items())
        raise click.ClickException(f"{exc.message}: {reasons}") from None
    if png is not None:
        png.write_bytes(link.qr_png())
    if svg is not None:
        svg.write_text(link.qr_svg(), encoding="utf-8")
    click.echo(link.url)
