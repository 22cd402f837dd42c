"""Shared fixtures: a fresh database per test (``fresh_db``), the tests' clock (``clock``, a
:class:`FixedClock`), and the example corpus.

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
    """The tests' clock: it says the moment it was given (``NOW`` unless told otherwise) until a
    test moves it (``set``, ``advance``; the digest tests' ``Sleeps`` moves it by what it was
    asked to sleep). No test waits in real time.

    (``tests.faults.VirtualClock`` is another thing: a clock that runs at real speed from a
    chosen moment, as the campaign's ``newsbot`` processes' ``--start-at`` clocks do.)"""

    def __init__(self, moment: dt.datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment

    def set(self, moment: dt.datetime) -> None:
        self.moment = moment

    def advance(self, **delta: float) -> None:
        """Move on by ``dt.timedelta(**delta)``: ``clock.advance(minutes=5)``."""
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock_start() -> dt.datetime:
    """The moment the ``clock`` fixture starts at: ``NOW``. A folder's conftest may override
    this fixture to start its tests' clock elsewhere (``tests/digests``: a digest's morning)."""
    return NOW


@pytest.fixture
def clock(clock_start: dt.datetime) -> FixedClock:
    return FixedClock(clock_start)


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Store]:
    """A Store on a new SQLite file (like sqlite-utils' own ``fresh_db``), closed afterwards."""
    store = Store(tmp_path / "test.db")
    yield store
    store.close()
