"""Fixtures shared with the endpoint tests: the emulated WhatsApp client and app variants."""

from tests.endpoint.conftest import variant, wa  # noqa: F401
