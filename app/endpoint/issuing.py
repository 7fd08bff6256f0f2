"""Issue a flow token for a known flow: the one rule the API and the CLI share."""

from __future__ import annotations

from app.crypto.tokens import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, IssuedToken, issue_token
from app.errors import ConfigError, InvalidRequest
from app.flowjson.registry import FlowRegistry
from app.leads.contacts import ADDRESSABLE_WA_ID_HELP, addressable_wa_id


def issue_for_flow(
    registry: FlowRegistry,
    secret: str | None,
    *,
    flow: str,
    wa_id: str,
    ttl_seconds: int | None = None,
) -> IssuedToken:
    """A token for `wa_id` to fill `flow`; InvalidRequest names the offending field.

    The flow must exist in the registry (endpoint-powered or not: the token also travels in
    the nfm_reply of endpoint-less flows); wa_id is the contact's WhatsApp id (digits).
    """
    if not secret:
        raise ConfigError("FLOWGATE_TOKEN_SECRET is not set")
    ttl = DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    problems: dict[str, list[str]] = {}
    if registry.get(flow) is None:
        problems["flow"] = [f"no flow named {flow!r}"]
    if not addressable_wa_id(wa_id):
        problems["wa_id"] = [f"a WhatsApp id is {ADDRESSABLE_WA_ID_HELP}"]
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        problems["ttl_seconds"] = [f"between 1 and {MAX_TTL_SECONDS} seconds"]
    if problems:
        raise InvalidRequest("cannot issue a flow token", details=problems)
    return issue_token(secret, flow=flow, wa_id=wa_id, ttl_seconds=ttl)
