"""Signed, expiring download links: a receiver fetches a file without an admin token.

A link is `/media/<id>?expires=<unix seconds>&signature=<hex>` where the signature is
HMAC-SHA256 over `flowgate-media-link.v1.<id>.<expires>` with FLOWGATE_MEDIA_LINK_SECRET
(default: the token secret), checked in constant time (RFC 2104). Whoever holds the link can
fetch that one file until it expires (FLOWGATE_MEDIA_LINK_TTL, default 7 days); treat links
like the lead data they accompany. Rotating the secret revokes every link.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from app.config import Config

LINK_PATH = "/media/"


@dataclass(frozen=True)
class LinkSigner:
    secret: str
    ttl: float
    public_url: str | None = None

    def _signature(self, media_id: str, expires: int) -> str:
        message = f"flowgate-media-link.v1.{media_id}.{expires}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()

    def url(self, media_id: str, now: datetime) -> str:
        """A link valid for `ttl` seconds from `now`; absolute when FLOWGATE_PUBLIC_URL is set."""
        expires = int(now.timestamp() + self.ttl)
        query = urlencode({"expires": expires, "signature": self._signature(media_id, expires)})
        return f"{self.public_url or ''}{LINK_PATH}{media_id}?{query}"

    def valid(self, media_id: str, expires: str, signature: str, now: datetime) -> bool:
        """The link is genuine and not expired."""
        if not expires.isdigit() or len(expires) > 12 or len(signature) != 64:
            return False
        good = hmac.compare_digest(self._signature(media_id, int(expires)), signature.lower())
        return good and int(expires) >= now.timestamp()


def signer_from(config: Config) -> LinkSigner | None:
    """The configured signer, or None when no secret is set (links are then omitted)."""
    if not config.media_link_secret:
        return None
    return LinkSigner(config.media_link_secret, config.media_link_ttl, config.public_url)
