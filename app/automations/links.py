"""Links that make customers write first: `https://wa.me/<number>?text=...` and its QR code.

wa.me is WhatsApp's documented click-to-chat link (https://faq.whatsapp.com/5913398998672934):
the number in international format without `+`, and the URL-encoded text the user's message
is pre-filled with. A campaign `ref` travels in that text as `(ref: <ref>)`; an inbound
message that still carries it records the campaign (app/leads/attribution.py). QR codes
are drawn by segno (PNG and SVG).
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from urllib.parse import quote

import segno

from app.errors import InvalidRequest
from app.leads.attribution import REF_CHARS

NUMBER = re.compile(r"^[1-9][0-9]{6,14}$")  # E.164 without "+": at most 15 digits
MAX_TEXT = 1000


@dataclass(frozen=True)
class Link:
    url: str
    number: str
    text: str
    ref: str | None

    def qr_png(self, scale: int = 8) -> bytes:
        buffer = io.BytesIO()
        segno.make(self.url, error="m").save(buffer, kind="png", scale=scale, border=4)
        return buffer.getvalue()

    def qr_svg(self, scale: int = 8) -> str:
        buffer = io.BytesIO()
        segno.make(self.url, error="m").save(
            buffer, kind="svg", scale=scale, border=4, xmldecl=False
        )
        return buffer.getvalue().decode()

    def to_dict(self) -> dict[str, str | None]:
        return {
            "url": self.url,
            "number": self.number,
            "text": self.text,
            "ref": self.ref,
            "qr_svg": self.qr_svg(),
            "qr_png_base64": base64.b64encode(self.qr_png()).decode(),
        }


def make_link(number: str | None, text: str, ref: str | None = None) -> Link:
    """A wa.me link to `number` pre-filled with `text` (and the ref), or InvalidRequest."""
    problems: dict[str, list[str]] = {}
    digits = re.sub(r"[\s()+.-]", "", number or "")
    if not number:
        problems["number"] = ["set FLOWGATE_BUSINESS_NUMBER or give the number"]
    elif not NUMBER.match(digits):
        problems["number"] = ["the business number in international format, 7-15 digits"]
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        problems["text"] = [f"1 to {MAX_TEXT} characters"]
    if ref is not None and not REF_CHARS.match(ref):
        problems["ref"] = ["1 to 64 letters, digits, _ . -"]
    if problems:
        raise InvalidRequest("cannot make the link", details=problems)
    prefilled = f"{text} (ref: {ref})" if ref else text
    url = f"https://wa.me/{digits}?text={quote(prefilled, safe='')}"
    return Link(url, digits, prefilled, ref)
