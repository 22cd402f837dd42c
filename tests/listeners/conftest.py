from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.fakeslack import FakeSlack
from tests.slackhttp import Bot, start_bot

NOW = dt.datetime(2020, 2, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.add_user("U1", tz="Europe/London")
    fake.add_user("UADMIN", tz="America/New_York", is_admin=True)
    yield fake
    fake.close()


@pytest.fixture
def bot(tmp_path, slack) -> Iterator[Bot]:
    b = start_bot(tmp_path, slack, lambda: NOW)
    yield b
    b.close()
