"""Which flow an nfm_reply completes. The reply carries no flow id (docs/protocol.md §9.1).

Tried in order, first match wins:
1. our signed flow token in `response_json` (`verify_token`): the token names the
   flow and the wa_id it was issued for; a reply from another wa_id is stored invalid;
2. our own `submission_id` param (the endpoint's SUCCESS params carry it) naming a stored
   endpoint submission with the same token (or none): the reply is that submission, also
   when the endpoint ran on a foreign token and deduplicated the run by its own id;
3. `context.id`, the wamid of the Flow message we sent (OutboundMessage), which also gives
   the token when the reply lacks one (the iOS case);
4. a token we cannot verify (signed with a previous FLOWGATE_TOKEN_SECRET, or foreign) that
   an earlier endpoint submission of some flow is keyed by;
5. the one flow whose handlers set `webhook_default`; when no flow sets it, the one valid
   endpoint-less flow, if there is exactly one (endpoint flows' replies carry our
   `submission_id`, step 2, so a reply nothing else explains most likely completes the flow
   that never talks to us; a misattributed reply is still kept, as an invalid lead, rather
   than lost in the raw inbox).
An expired token of ours still routes in step 1: the lead is real (the user completed the
form), only our endpoint stops accepting the token. verify_token checks the MAC before the
expiry, so a token it refuses as `expired` is genuine and its claims can be read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.tokens import TokenClaims, TokenError, verify_token
from app.flowjson.registry import FlowDefinition
from app.flowjson.submission import error
from app.leads.intake import token_key
from app.leads.notifications.reader import ProcessingContext, text
from app.models import OutboundMessage, Submission
from app.models.enums import LeadSource

MALFORMED_TOKEN = error(
    None,
    "malformed_flow_token",
    "The reply's flow token has characters no flow token has (non-ASCII); it was ignored.",
)
WRONG_CONTACT = error(
    None,
    "token_wa_id_mismatch",
    "The flow token was issued for another WhatsApp user than the one who submitted.",
)


@dataclass(frozen=True)
class Route:
    """Where an nfm_reply goes: its flow (None: nowhere), its token, and why.

    `existing` is the endpoint submission the reply belongs to, when the route found it.
    """

    flow: str | None
    token: str | None
    via: str
    errors: tuple[dict[str, Any], ...] = ()
    existing: Submission | None = None


def find_flow(
    session: Session,
    ctx: ProcessingContext,
    response: dict[str, Any],
    wa_id: str | None,
    context_id: str | None,
) -> Route:
    """The route of one nfm_reply (see the module docstring for the order).

    A token that cannot be a flow token (non-ASCII: ours are base64url) is ignored for
    routing and reported on the lead, which the other steps still route or keep unrouted.
    """
    token = text(response.get("flow_token"))
    if token is not None and not token.isascii():
        route = _find_flow(session, ctx, response, wa_id, context_id, None)
        return replace(route, errors=(*route.errors, MALFORMED_TOKEN))
    return _find_flow(session, ctx, response, wa_id, context_id, token)


def _find_flow(
    session: Session,
    ctx: ProcessingContext,
    response: dict[str, Any],
    wa_id: str | None,
    context_id: str | None,
    token: str | None,
) -> Route:
    if token is not None and ctx.token_secret:
        claims = _claims(ctx.token_secret, token)
        if claims is not None:
            mismatch = wa_id is not None and claims.wa_id != wa_id
            return Route(claims.flow, token, "token", (WRONG_CONTACT,) if mismatch else ())
    submission_id = text(response.get("submission_id"), 36)
    if submission_id is not None:
        earlier = session.get(Submission, submission_id)
        if (
            earlier is not None
            and earlier.source == LeadSource.ENDPOINT
            and (token is None or earlier.flow_token in (None, token))  # tokens agree
        ):
            mismatch = wa_id is not None and earlier.wa_id not in (None, wa_id)
            errors = (WRONG_CONTACT,) if mismatch else ()
            flow, known = earlier.flow, earlier.flow_token or token
            return Route(flow, known, "submission_id", errors, existing=earlier)
    if context_id is not None:
        sent = session.get(OutboundMessage, context_id)
        if sent is not None and sent.flow:
            return Route(sent.flow, token or sent.flow_token, "context")
    flows = ctx.registry.all()
    if token is not None and flows:
        keys = [token_key(d.name, token) for d in flows]
        earlier = session.scalars(select(Submission).where(Submission.dedup_key.in_(keys))).first()
        if earlier is not None:
            return Route(earlier.flow, token, "foreign_token")
    defaults = [d.name for d in flows if _is_default(d)]
    if len(defaults) == 1:
        return Route(defaults[0], token, "default")
    if defaults:
        return Route(None, token, "several_defaults")
    endpointless = [d.name for d in flows if d.valid and not d.endpoint_powered]
    if len(endpointless) == 1:
        return Route(endpointless[0], token, "only_endpointless_flow")
    return Route(None, token, "none")


_UNROUTED_WHY = {
    "several_defaults": "several flows set webhook_default",
    "none": "no flow token, submission id or sent message names a flow, and no single "
    "endpoint-less flow or webhook_default flow exists",
}


def unrouted_error(via: str) -> dict[str, Any]:
    """The error an unrouted lead carries: why no flow could be chosen."""
    why = _UNROUTED_WHY.get(via, via)
    return error(None, "unrouted", f"The reply matched no configured flow: {why}.")


def _claims(secret: str, token: str) -> TokenClaims | None:
    """The claims of our token, expired or not; None for anything we did not sign."""
    try:
        return verify_token(secret, token, allow_expired=True)
    except TokenError:
        return None


def _is_default(definition: FlowDefinition) -> bool:
    return definition.handlers.webhook_default
