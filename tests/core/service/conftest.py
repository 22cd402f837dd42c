"""Fixtures of the service's tests: a NewsService over a real SQLite Store (``fresh_db``) and
the fixed clock, with the change hook's calls recorded, and the places people ask from."""

from __future__ import annotations

import pytest

from bot.core.loader import Loader
from bot.core.service import Context, NewsService, Settings
from tests.conftest import SEED

TEAM = "T1"


def channel(user: str = "U1", channel_id: str = "C1", **kwargs) -> Context:
    """Someone asking in a channel (``is_admin``/``user_tz`` as the listener would fill them)."""
    return Context(team_id=TEAM, channel_id=channel_id, user_id=user, **kwargs)


def dm(user: str = "U1", **kwargs) -> Context:
    """Someone asking in their DM with the bot."""
    return Context(team_id=TEAM, channel_id="D" + user, user_id=user, is_dm=True, **kwargs)


class Changes(list):
    """The on_change hook: records (team_id, channel_key) of each change."""

    def __call__(self, team_id: str, channel_key: str) -> None:
        self.append((team_id, channel_key))


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def make_service(fresh_db, clock, changes):
    """``make_service(**settings)``: a NewsService with those options over ``fresh_db``."""

    def make(**options) -> NewsService:
        return NewsService(fresh_db, clock, Settings(**options), on_change=[changes])

    return make


@pytest.fixture
def service(make_service) -> NewsService:
    return make_service()


@pytest.fixture
def seeded(fresh_db, clock):
    """``fresh_db`` with the seed articles loaded (Reuters, Forbes, ...)."""
    Loader(fresh_db, clock).load([SEED])
    return fresh_db
