"""Fixtures for the digest tests: the shared ``fresh_db`` and ``clock`` (tests/conftest.py),
the clock starting on a digest's morning (2024-05-02 08:00:05 UTC), the fake Slack Web API over
HTTP, a sleep that moves the clock, and a runner wired to them; helpers to add stories and
subscriptions. No test waits for a schedule: jobs are called directly with the clock set to
the moment under test."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.core.digest import DigestSettings
from storage.store import Store, time_key
from tests.conftest import FixedClock
from tests.fakeslack import FakeSlack

UTC = dt.UTC
TEAM = "T1"


class Sleeps(list):
    """An injectable sleep that writes down what it was asked to wait and, given the test's
    clock, moves it on by that much (no test waits in real time)."""

    def __init__(self, clock: FixedClock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.hooks: list[Any] = []  # called with the seconds before the clock moves on

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        for hook in self.hooks:
            hook(seconds)
        if self.clock is not None:
            self.clock.advance(seconds=seconds)


_seq: dict[int, int] = {}


def add_article(
    store: Store,
    title: str,
    when: dt.datetime,
    *,
    provider: str = "Reuters",
    story: int | None = None,
    topics: tuple[str, ...] = (),
    excerpt: str = "",
    quality: int | None = 100,
    url: str | None = None,
) -> int:
    """Insert one article (its own story unless ``story`` names another's id); returns its id."""
    ts = int(when.timestamp())
    seq = _seq.get(ts, 0)
    while store._scalar("SELECT 1 FROM articles WHERE id = ?", (time_key(ts, seq),)):
        seq += 1
    _seq[ts] = seq + 1
    article_id = time_key(ts, seq)
    domain = provider.lower().replace(" ", "") + ".example"
    link = url or f"https://{domain}/{article_id}"
    with store.transaction():
        store.insert_article(
            {
                "id": article_id,
                "url": link,
                "web_url": link,
                "title": title,
                "excerpt": excerpt,
                "provider": provider,
                "domain": domain,
                "published": when.astimezone(UTC).isoformat(),
                "published_ts": ts,
                "quality": quality,
                "topics": json.dumps(list(topics)),
                "story_id": story if story is not None else article_id,
            }
        )
    return article_id


def subscribe(
    store: Store,
    channel: str,
    topic: str,
    *,
    hour: int = 8,
    minute: int = 0,
    tz: str = "UTC",
    user: str = "U1",
    kind: str = "channel",
    at: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=UTC),
) -> None:
    store.subscribe(
        TEAM, channel, topic, user_id=user, hour=hour, minute=minute, tz=tz, now=at, kind=kind
    )


@pytest.fixture
def clock_start() -> dt.datetime:
    """The digest tests' clock starts just after a digest's usual time (08:00 UTC)."""
    return dt.datetime(2024, 5, 2, 8, 0, 5, tzinfo=UTC)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    f = FakeSlack(clock=lambda: clock().timestamp())  # Slack's clock is the test's
    yield f
    f.close()


@pytest.fixture
def sleeps(clock: FixedClock) -> Sleeps:
    return Sleeps(clock)


def make_runner(
    store: Store,
    fake: FakeSlack | None,
    clock: FixedClock,
    sleeps: Sleeps | None = None,
    **settings: Any,
) -> Any:
    from bot.digests.runner import DigestRunner, digest_client

    client = digest_client(fake.bot_token, fake.base_url, timeout=5) if fake else None
    return DigestRunner(
        store,
        client,
        DigestSettings(**settings),
        clock=clock,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


@pytest.fixture
def runner(fresh_db: Store, fake: FakeSlack, clock: FixedClock, sleeps: Sleeps) -> Any:
    return make_runner(fresh_db, fake, clock, sleeps)


def digest_posts(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.posts(channel)
        if (m.get("metadata") or {}).get("event_type") == "news_digest"
    ]
