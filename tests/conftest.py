"""Shared fixtures: a fresh database per test, a fixed clock, and the example corpus.

The corpus under ``tests/fixtures`` is a copy of the real files in ``shared/corpus`` (the seed
file, 23 articles; and the Power Apps folder, 192 files holding 191 articles), so the suite runs
on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed"
SEED_FILE = SEED / "000_73ad8a6e389ae6e4.txt"
POWER_APPS = FIXTURES / "power-apps"

# A week after the seed file's stories (they run from 26 Jan to 6 Feb 2020).
NOW = dt.datetime(2020, 2, 6, 12, 0, tzinfo=dt.UTC)


class FixedClock:
    """A clock that says what it is told: ``NOW`` until moved with ``advance``."""

    def __init__(self, moment: dt.datetime = NOW) -> None:
        self.moment = moment
        self.calls = 0

    def __call__(self) -> dt.datetime:
        self.calls += 1
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Store]:
    """A Store on a new SQLite file (like sqlite-utils' own ``fresh_db``), closed afterwards."""
    store = Store(tmp_path / "test.db")
    yield store
    store.close()
