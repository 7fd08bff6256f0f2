"""FLOWGATE_MEDIA_* settings: defaults, durations, and bad values refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Config
from app.errors import ConfigError


def load(**values: str) -> Config:
    return Config.load(
        {f"FLOWGATE_{k}": v for k, v in values.items()}, environ={}, dotenv_path=None
    )


def test_defaults(tmp_path: Path) -> None:
    config = load(INSTANCE_PATH=str(tmp_path), TOKEN_SECRET="t")
    assert config.media_dir == tmp_path / "media"
    assert config.media_hosts == ("whatsapp.net", "fbsbx.com", "fbcdn.net")
    assert config.max_media_bytes == 26214400
    assert config.media_link_ttl == 7 * 86400
    assert config.media_types == ("image/*", "application/pdf")
    assert config.media_wait_seconds == 300
    assert config.media_link_secret == "t" and config.public_url is None


def test_values_and_durations() -> None:
    config = load(
        MEDIA_HOSTS=" .Example.net, cdn.test ",
        MEDIA_LINK_TTL="12h",
        MEDIA_WAIT_SECONDS="90",
        MEDIA_TYPES="image/png,APPLICATION/PDF",
        PUBLIC_URL="https://leads.example.com/",
    )
    assert config.media_hosts == ("example.net", "cdn.test")
    assert config.media_link_ttl == 43200 and config.media_wait_seconds == 90
    assert config.media_types == ("image/png", "application/pdf")
    assert config.public_url == "https://leads.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_MEDIA_BYTES", "lots"),
        ("MAX_MEDIA_BYTES", "0"),
        ("MEDIA_LINK_TTL", "soon"),
        ("MEDIA_LINK_TTL", "0"),
        ("MEDIA_WAIT_SECONDS", "-5"),
    ],
)
def test_bad_values_are_configuration_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        load(**{name: value})
