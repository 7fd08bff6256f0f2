"""Fixtures shared by the first-run tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.firstrun.repo import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    """Processes a test starts (servers, workers, receivers), stopped when it ends."""
    started = Processes()
    yield started
    started.stop_all()
