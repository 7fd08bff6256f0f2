"""Fixtures shared with the endpoint and delivery tests: the emulated WhatsApp client, app
variants, loopback webhook receivers."""

from tests.delivery.conftest import receiver  # noqa: F401
from tests.endpoint.conftest import variant, wa  # noqa: F401
