"""bot.feeds.poller: rounds over real HTTP to our own feed server (tests/fakefeeds.py), a real
SQLite file, and a clock the tests move (no test waits for a schedule)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.feeds.fetch import FetchSettings
from bot.feeds.poller import FAILING_FOR, QUIET_FOR, Poller, PollSettings
from storage.sources import Source
from storage.store import Store
from tests.conftest import FIXTURES, FixedClock
from tests.fakefeeds import Answer, FakeFeeds

FEEDS = FIXTURES / "feeds"
START = dt.datetime(2020, 1, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def feeds() -> Iterator[FakeFeeds]:
    server = FakeFeeds()
    yield server
    server.close()


@pytest.fixture
def told() -> list[tuple[int, str]]:
    return []


@pytest.fixture
def poller(fresh_db: Store, told: list[tuple[int, str]]) -> Iterator[Poller]:
    clock = FixedClock(START)

    def notify(source: Source, text: str) -> bool:
        told.append((source.id, text))
        return True

    settings = PollSettings(fetch=FetchSettings(deadline=5.0, allow_private=True), concurrency=3)
    p = Poller(fresh_db, clock, settings, rng=random.Random(7), notify=notify)
    yield p
    p.close()


def add(store: Store, url: str, *topics: str) -> Source:
    source, created = store.add_source("feed", url, topics, "T1:U1", START, 1800)
    assert created
    return source


def body(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def later(poller: Poller, **delta: float) -> dt.datetime:
    clock = poller.clock
    assert isinstance(clock, FixedClock)
    clock.advance(**delta)
    return clock()


def test_a_round_brings_a_feeds_items_in_and_schedules_the_next(poller, feeds):
    store = poller.store
    source = add(store, feeds.serve("/rss", body=body("rss2.xml"), etag='"v1"'), "chips")
    done = poller.run_round()
    (polled,) = done.polled
    assert polled.outcome == "ok" and polled.new >= 2 and polled.error is None
    now = store.source(source.id)
    assert now is not None
    assert now.etag == '"v1"' and now.title and now.last_success_at == START
    assert now.next_poll_at is not None and now.next_poll_at - START >= dt.timedelta(minutes=10)
    assert store.items_last_7_days(source.id, START) == polled.new
    # the articles are searchable and carry the source's topic
    titles = [r["title"] for r in store._rows("SELECT title, topics FROM articles")]
    assert any("Chipmaker" in t for t in titles)
    assert all("chips" in r["topics"] for r in store._rows("SELECT topics FROM articles"))


def test_nothing_is_polled_before_it_is_due_and_a_304_is_a_quiet_success(poller, feeds):
    store = poller.store
    url = feeds.serve("/rss", body=body("rss2.xml"), etag='"v1"')
    source = add(store, url)
    first = poller.run_round()
    assert first.polled[0].new > 0
    assert poller.run_round().polled == []  # not due yet
    due = store.source(source.id)
    assert due is not None and due.next_poll_at is not None
    poller.clock.set(due.next_poll_at)  # type: ignore[attr-defined]
    second = poller.run_round()
    assert [p.outcome for p in second.polled] == ["not_modified"]
    assert feeds.requests_to("/rss")[-1].header("If-None-Match") == '"v1"'
    assert store.count_articles() == first.polled[0].new


def test_failures_back_off_and_are_told_once_after_a_day(poller, feeds, told):
    store = poller.store
    url = feeds.serve("/down", status=503)
    source = add(store, url)
    gaps = []
    for _ in range(8):
        s = store.source(source.id)
        assert s is not None and s.next_poll_at is not None
        poller.clock.set(s.next_poll_at)  # type: ignore[attr-defined]
        (polled,) = poller.run_round().polled
        assert polled.outcome == "failed" and polled.error == "server error (503)"
        assert polled.next_poll_at is not None
        gaps.append(polled.next_poll_at - s.next_poll_at)
    assert max(gaps) <= dt.timedelta(hours=6, minutes=1)
    s = store.source(source.id)
    assert s is not None and s.consecutive_failures == 8
    # past a day of failures: one notice, not one per round
    poller.clock.set(s.failing_since + FAILING_FOR)  # type: ignore[attr-defined,operator]
    poller.run_round()
    poller.run_round()
    assert [t for t in told if "has failed since" in t[1]] == [
        (source.id, told[0][1])
    ] and "server error (503)" in told[0][1]
    # a success resets it: the next run of failures is told again
    feeds.serve("/down", body=body("rss2.xml"))
    assert poller.run_round(only=source.id).polled[0].outcome == "ok"
    s = store.source(source.id)
    assert s is not None and s.consecutive_failures == 0 and s.notified_failing_at is None


def test_a_body_that_is_no_feed_is_a_failure_in_plain_words(poller, feeds):
    source = add(poller.store, feeds.serve("/page", body=body("html-page.html")))
    (polled,) = poller.run_round().polled
    assert polled.outcome == "failed" and polled.error
    s = poller.store.source(source.id)
    assert s is not None and s.last_error == polled.error and s.etag is None
    assert poller.store.count_articles() == 0


def test_gone_stops_polling_and_tells_whoever_added_it(poller, feeds, told):
    source = add(poller.store, feeds.serve("/old", status=410))
    (polled,) = poller.run_round().polled
    assert polled.outcome == "gone"
    s = poller.store.source(source.id)
    assert s is not None and s.state == "gone"
    assert told == [(source.id, told[0][1])] and "gone" in told[0][1]
    later(poller, days=2)
    assert poller.run_round().polled == []


def test_throttled_waits_at_least_retry_after(poller, feeds):
    source = add(poller.store, feeds.serve("/busy", status=429, headers={"Retry-After": "7200"}))
    (polled,) = poller.run_round().polled
    assert polled.outcome == "throttled"
    assert polled.next_poll_at is not None and polled.next_poll_at - START >= dt.timedelta(hours=2)
    s = poller.store.source(source.id)
    assert s is not None and s.consecutive_failures == 1


def test_a_quiet_feed_is_told_once(poller, feeds, told):
    store = poller.store
    source = add(store, feeds.serve("/rss", body=body("rss2.xml")))
    poller.run_round()
    later(poller, days=QUIET_FOR.days, hours=1)
    poller.run_round(only=source.id)  # the same items: nothing new
    poller.run_round(only=source.id)
    quiet = [t for t in told if "nothing new" in t[1]]
    assert len(quiet) == 1 and quiet[0][0] == source.id


def test_many_feeds_in_one_round_a_few_at_a_time(poller, feeds):
    store = poller.store
    names = ["rss2.xml", "atom.xml", "jsonfeed.json", "google-alerts.xml", "rdf.xml"]
    for i, name in enumerate(names):
        add(store, feeds.serve(f"/f{i}", body=body(name)))
    add(store, feeds.serve("/bad", body=b"<html>nope</html>"))
    add(store, feeds.serve("/missing", status=404))
    done = poller.run_round()
    outcomes = sorted(p.outcome for p in done.polled)
    assert outcomes == ["failed", "failed", "ok", "ok", "ok", "ok", "ok"]
    assert all(p.new > 0 for p in done.polled if p.outcome == "ok")
    # each article once, whatever number of feeds carried it
    urls = [r["url"] for r in store._rows("SELECT url FROM articles")]
    assert len(urls) == len(set(urls))


def test_a_second_round_over_the_same_items_adds_nothing(poller, feeds):
    store = poller.store
    source = add(store, feeds.serve("/rss", body=body("churn-before.xml")))
    first = poller.run_round().polled[0]
    count = store.count_articles()
    feeds.serve("/rss", body=body("churn-after.xml"))  # new GUIDs, https, utm_, an edited title
    (second,) = poller.run_round(only=source.id).polled
    assert second.outcome == "ok" and second.new == 0
    assert store.count_articles() == count and first.new == count


def test_a_folder_source_is_scanned(poller, tmp_path: Path):
    store = poller.store
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.md").write_text((FIXTURES / "seed" / "000_73ad8a6e389ae6e4.txt").read_text())
    source, _ = store.add_source("folder", str(folder), (), "cli", START, 1800)
    (polled,) = poller.run_round().polled
    assert polled.outcome == "scanned" and polled.new > 0 and polled.error is None
    later(poller, hours=1)
    (again,) = poller.run_round(only=source.id).polled
    assert again.new == 0


def test_a_permanent_redirect_seen_three_times_moves_the_address(poller, feeds):
    store = poller.store
    new = feeds.serve("/new", body=body("rss2.xml"))
    old = feeds.redirect("/old", new, status=301)
    source = add(store, old)
    for _ in range(3):
        poller.run_round(only=source.id)
    s = store.source(source.id)
    assert s is not None and s.address == new


def test_a_round_survives_a_notify_that_raises(fresh_db, feeds):
    def broken(source: Source, text: str) -> bool:
        raise RuntimeError("slack is down")

    clock = FixedClock(START)
    p = Poller(
        fresh_db,
        clock,
        PollSettings(fetch=FetchSettings(allow_private=True)),
        rng=random.Random(1),
        notify=broken,
    )
    try:
        add(fresh_db, feeds.serve("/old", status=410))
        (polled,) = p.run_round().polled
        assert polled.outcome == "gone"
    finally:
        p.close()


@pytest.mark.parametrize("status", [200, 301, 404, 500, 503])
def test_random_answers_never_crash_a_round(poller, feeds, status):
    rng = random.Random(status)
    for i in range(12):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        headers = {
            "Retry-After": rng.choice(["x", "-1", "99999999999", ""]),
            "Cache-Control": rng.choice(["max-age=abc", "max-age=-5", ""]),
        }
        add(poller.store, feeds.serve(f"/r{i}", Answer(status=status, body=junk, headers=headers)))
    done = poller.run_round()
    assert len(done.polled) == 12
