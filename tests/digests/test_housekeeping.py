"""The housekeeping job (bot.digests.housekeeping): real digests posted day after day through
the fake Slack, pruned with a moved clock, and still never a story twice nor a digest twice;
the job survives a failing store; it is on the bot's scheduler."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import Config, DigestConfig
from bot.digests.housekeeping import (
    AFTER_START,
    JOB_ID,
    START_JOB_ID,
    add_housekeeping_job,
    housekeep,
    prune_before,
)
from bot.runtime import Runtime
from storage.store import Store
from tests.conftest import FixedClock
from tests.digests.conftest import TEAM, add_article, digest_posts, make_runner, subscribe
from tests.fakeslack import FakeSlack

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)


def config(**digest: float) -> Config:
    return Config(digest=DigestConfig(**digest))  # type: ignore[arg-type]


def test_the_cutoff_keeps_keep_days_and_never_less_than_the_window_and_grace() -> None:
    now = DUE
    assert prune_before(now, config().digest) == now - dt.timedelta(days=14)
    assert prune_before(now, config(keep_days=30).digest) == now - dt.timedelta(days=30)
    # 2 days is less than 36 h + 2 h + a day: the floor wins
    assert prune_before(now, config(keep_days=2).digest) == now - dt.timedelta(hours=62)
    assert prune_before(now, config(keep_days=2, max_age_hours=240).digest) == now - (
        dt.timedelta(hours=242 + 24)
    )


def post_days(store: Store, fake: FakeSlack, clock: FixedClock, days: int, **settings) -> list:
    """A digest a day for ``days`` days, each with that morning's new story on solar; the
    clock left on the last morning. Returns each day's post."""
    runner = make_runner(store, fake, clock, **settings)
    for n in range(days):
        due = DUE + dt.timedelta(days=n)
        add_article(store, f"Solar story #{n:02d}", due - dt.timedelta(hours=3))
        clock.set(due + dt.timedelta(seconds=5))
        assert runner.run_channel(TEAM, "C1").status == "posted"
    return digest_posts(fake, "C1")


def test_a_digest_after_a_prune_repeats_no_story_of_its_window(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """A window of four days and digest.keep_days = 2: the job keeps the window (and grace and
    a day), so tomorrow's digest, whose window still holds the last four days' stories, sends
    none of them again."""
    subscribe(fresh_db, "C1", "solar")
    window = {"max_age_hours": 96.0}
    posts = post_days(fresh_db, fake, clock, 20, **window)
    assert all(f"#{n:02d}" in p["text"] for n, p in enumerate(posts))
    clock.advance(hours=1)
    report = housekeep(fresh_db, config(keep_days=2, **window), clock)
    assert report is not None and report.deliveries > 0  # older days did go
    add_article(fresh_db, "Solar story #20", DUE + dt.timedelta(days=20, hours=-3))
    clock.set(DUE + dt.timedelta(days=20, seconds=5))
    runner = make_runner(fresh_db, fake, clock, **window)
    assert runner.run_channel(TEAM, "C1").status == "posted"
    last = digest_posts(fake, "C1")[-1]["text"]
    assert "#20" in last
    assert not any(f"#{n:02d}" in last for n in range(20)), last


def test_the_most_recent_due_dates_run_survives_and_is_not_posted_twice(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    subscribe(fresh_db, "C1", "solar")
    post_days(fresh_db, fake, clock, 5)
    clock.advance(minutes=30)
    # the shortest keep there is, on a window of an hour and no grace to speak of
    assert housekeep(fresh_db, config(keep_days=2, max_age_hours=1, grace_hours=0.01), clock)
    today = (DUE + dt.timedelta(days=4)).date().isoformat()
    assert fresh_db.digest_run(TEAM, "C1", today)["state"] == "done"
    runner = make_runner(fresh_db, fake, clock)
    assert runner.run_channel(TEAM, "C1").status == "finished"
    assert runner.missed_channels() == [] and runner.due_channels() == []
    assert len(digest_posts(fake, "C1")) == 5


def test_the_job_prunes_by_its_clock_and_once_only(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(fresh_db, "C1", "solar")
    post_days(fresh_db, fake, clock, 20)
    runs = len(fresh_db.digest_runs(TEAM, "C1"))
    caplog.set_level(logging.INFO, "newsbot.housekeeping")
    clock.set(DUE + dt.timedelta(days=10))  # back in time: nothing is 14 days old then
    assert housekeep(fresh_db, config(), clock).rows == 0  # type: ignore[union-attr]
    clock.set(DUE + dt.timedelta(days=19, hours=1))
    # 14 days before: due on days 0 to 5
    assert housekeep(fresh_db, config(), clock).runs == 6  # type: ignore[union-attr]
    assert len(fresh_db.digest_runs(TEAM, "C1")) == runs - 6
    assert housekeep(fresh_db, config(), clock).rows == 0  # type: ignore[union-attr]
    lines = [r for r in caplog.records if r.name == "newsbot.housekeeping"]
    assert [r.levelno for r in lines] == [logging.INFO] * 3  # one line per run
    assert "6 run(s)" in lines[1].getMessage() and "WAL" in lines[1].getMessage()


class Failing:
    """A store whose database is locked for as long as ``fails`` says."""

    def __init__(self, store: Store) -> None:
        self.store, self.fails = store, True

    def prune_digest_history(self, before, **kw):
        if self.fails:
            raise sqlite3.OperationalError("database is locked\nsecond line")
        return self.store.prune_digest_history(before, **kw)

    def checkpoint_wal(self):
        return self.store.checkpoint_wal()


def test_the_job_survives_a_store_that_raises_and_tries_again(
    fresh_db: Store, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = Failing(fresh_db)
    caplog.set_level(logging.INFO, "newsbot.housekeeping")
    assert housekeep(store, config(), clock) is None  # type: ignore[arg-type]
    (line,) = caplog.records
    assert line.levelno == logging.ERROR and line.exc_info is None
    assert line.getMessage() == (
        "housekeeping failed (OperationalError: database is locked); the next run tries again"
    )
    store.fails = False
    assert housekeep(store, config(), clock) is not None  # type: ignore[arg-type]


def test_the_jobs_on_a_scheduler_daily_and_after_start(fresh_db: Store, clock: FixedClock) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)
    started = dt.datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    add_housekeeping_job(scheduler, fresh_db, config(), clock, started=started)
    scheduler.start(paused=True)
    try:
        daily, first = scheduler.get_job(JOB_ID), scheduler.get_job(START_JOB_ID)
        assert first.next_run_time == started + AFTER_START
        after = daily.trigger.get_next_fire_time(None, started)
        assert (after.hour, after.minute, after.date()) == (3, 47, dt.date(2024, 5, 3))
        assert daily.trigger.get_next_fire_time(after, after + dt.timedelta(seconds=1)) == (
            after + dt.timedelta(days=1)
        )
        assert daily.max_instances == 1 and daily.coalesce
        assert daily.func is housekeep and daily.args[2] is clock
    finally:
        scheduler.shutdown(wait=False)


def test_the_bot_registers_the_housekeeping_jobs(fresh_db: Store, clock: FixedClock) -> None:
    digests = Runtime(Config(), fresh_db, clock).start_digests(local=True)
    try:
        assert digests.scheduler.get_job(JOB_ID) is not None
        assert digests.scheduler.get_job(START_JOB_ID) is not None
    finally:
        digests.shutdown()
