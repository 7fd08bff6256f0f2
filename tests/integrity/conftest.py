"""The endpoint tests' fixtures (an emulated WhatsApp client) for the integrity tests."""

from tests.endpoint.conftest import flows_dir, other_key, variant, wa  # noqa: F401
