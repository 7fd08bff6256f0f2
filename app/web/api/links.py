"""`POST /api/v1/links`: a wa.me link with a QR code (docs/automations.md, "Links")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.automations.links import MAX_TEXT, make_link
from app.web import runtime
from app.web.api import route


class LinkRequestSchema(Schema):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEXT),
        metadata={"description": "The message the user's chat is pre-filled with."},
    )
    ref = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$"),
        metadata={"description": "Campaign ref, carried in the text as `(ref: <ref>)`."},
    )
    number = fields.String(
        validate=validate.Length(min=7, max=20),
        metadata={"description": "Business number (default FLOWGATE_BUSINESS_NUMBER)."},
    )


class LinkSchema(Schema):
    url = fields.String(required=True, metadata={"description": "https://wa.me/<number>?text=..."})
    number = fields.String(required=True)
    text = fields.String(required=True)
    ref = fields.String(required=True, allow_none=True)
    qr_svg = fields.String(required=True, metadata={"description": "QR code of `url`, SVG."})
    qr_png_base64 = fields.String(required=True, metadata={"description": "QR code, PNG."})


@route(
    "/links",
    "POST",
    summary="A wa.me link that opens a chat pre-filled with a text (and a campaign ref), "
    "with its QR code as SVG and PNG",
    tag="links",
    body=LinkRequestSchema,
    response=LinkSchema,
    status=201,
    errors=(400,),
)
def create_link(body: dict[str, Any]) -> dict[str, Any]:
    number = body.get("number") or runtime().config.business_number
    return make_link(number, body["text"], body.get("ref")).to_dict()
