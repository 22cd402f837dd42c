"""The APScheduler side: one job per channel, rebuilt from the database, following changes.
Jobs are inspected (ids, triggers, next run times) and called directly with a moved clock;
the scheduler is started paused, so nothing runs on its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.core import schedule
from bot.digests.scheduler import CATCH_UP_JOB, DigestScheduler, retry_job_id
from storage.store import Store
from tests.conftest import FixedClock
from tests.digests.conftest import TEAM, add_article, digest_posts, make_runner, subscribe
from tests.fakeslack import FakeSlack

UTC = dt.UTC


@pytest.fixture
def digests(fresh_db: Store, fake: FakeSlack, clock: FixedClock) -> Iterator[DigestScheduler]:
    subscribe(fresh_db, "C1", "solar", hour=8, tz="Europe/London")
    subscribe(fresh_db, "C2", "wind", hour=7, minute=30, tz="America/New_York")
    subscribe(fresh_db, "C3", "tides", hour=9, tz="UTC")
    fresh_db.pause_channel(TEAM, "C3", "not_in_channel", clock())
    d = DigestScheduler(make_runner(fresh_db, fake, clock, grace_hours=2))
    yield d
    d.shutdown()


def local_next_run(job, tz: str) -> dt.datetime:
    return job.next_run_time.astimezone(schedule.zone(tz))


def test_build_makes_one_job_per_active_channel(digests: DigestScheduler) -> None:
    assert digests.build() == 2
    digests.start(paused=True)
    jobs = {j.id: j for j in digests.jobs()}
    assert set(jobs) == {"digest:T1:C1", "digest:T1:C2"}  # C3 is paused
    assert digests.scheduler.timezone == UTC
    c1 = local_next_run(jobs["digest:T1:C1"], "Europe/London")
    c2 = local_next_run(jobs["digest:T1:C2"], "America/New_York")
    assert (c1.hour, c1.minute, c2.hour, c2.minute) == (8, 0, 7, 30)
    assert jobs["digest:T1:C1"].misfire_grace_time == 7200
    assert digests.scheduler.get_job(CATCH_UP_JOB) is not None
    # Rebuilding changes nothing.
    assert digests.build(catch_up=False) == 2
    assert {j.id for j in digests.jobs()} == set(jobs)


def test_sync_follows_subscription_changes(
    digests: DigestScheduler, fresh_db: Store, clock: FixedClock
) -> None:
    digests.build(catch_up=False)
    digests.start(paused=True)
    # A new channel.
    subscribe(fresh_db, "C4", "moon", hour=6, tz="Asia/Tokyo")
    assert digests.sync_channel(TEAM, "C4") == "digest:T1:C4"
    assert local_next_run(digests.scheduler.get_job("digest:T1:C4"), "Asia/Tokyo").hour == 6
    # A new time for C1 (subscribing "at" moves every topic of the channel).
    subscribe(fresh_db, "C1", "rain", hour=6, minute=45, tz="Europe/London")
    digests.sync_channel(TEAM, "C1")
    c1 = local_next_run(digests.scheduler.get_job("digest:T1:C1"), "Europe/London")
    assert (c1.hour, c1.minute) == (6, 45)
    # Unsubscribed from everything: no job.
    for topic in ("solar", "rain"):
        fresh_db.unsubscribe(TEAM, "C1", topic)
    assert digests.sync_channel(TEAM, "C1") is None
    assert digests.scheduler.get_job("digest:T1:C1") is None
    # Resumed: a job again.
    fresh_db.resume(TEAM, "C3", "tides")
    assert digests.sync_channel(TEAM, "C3") == "digest:T1:C3"


def test_the_job_posts_when_called_at_its_time(
    digests: DigestScheduler, fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    digests.build(catch_up=False)
    add_article(fresh_db, "Solar output peaks", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    clock.set(dt.datetime(2024, 7, 1, 7, 0, 1, tzinfo=UTC))  # 08:00:01 BST
    job = digests.scheduler.get_job("digest:T1:C1")
    result = job.func(*job.args)
    assert result.status == "posted" and result.local_date == dt.date(2024, 7, 1)
    assert len(digest_posts(fake, "C1")) == 1


def test_autumn_repeated_hour_posts_once(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """A 01:30 London digest on 27 Oct 2024: due at the first 01:30 (BST); had the job fired
    at the second 01:30 (GMT) too, nothing more is posted."""
    subscribe(fresh_db, "C9", "solar", hour=1, minute=30, tz="Europe/London")
    add_article(fresh_db, "Solar at night", dt.datetime(2024, 10, 26, 22, tzinfo=UTC))
    d = DigestScheduler(make_runner(fresh_db, fake, clock))
    d.build(catch_up=False)
    trigger = d.scheduler.get_job("digest:T1:C9").trigger
    first = trigger.get_next_fire_time(None, dt.datetime(2024, 10, 26, 12, tzinfo=UTC))
    assert first.timestamp() == dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC).timestamp()
    clock.set(first.astimezone(UTC))
    assert d.run_job(TEAM, "C9").status == "posted"
    clock.set(dt.datetime(2024, 10, 27, 1, 30, tzinfo=UTC))  # the second 01:30
    assert d.run_job(TEAM, "C9").status == "finished"
    assert len(digest_posts(fake, "C9")) == 1
    nxt = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1))
    assert nxt.astimezone(UTC) == dt.datetime(2024, 10, 28, 1, 30, tzinfo=UTC)  # GMT now


def test_spring_gap_still_posts_that_day(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """A 02:30 New York digest on 10 Mar 2024 (02:00 -> 03:00): posted at 03:30 EDT."""
    subscribe(fresh_db, "C8", "wind", hour=2, minute=30, tz="America/New_York")
    add_article(fresh_db, "Wind picks up", dt.datetime(2024, 3, 10, 5, tzinfo=UTC))
    d = DigestScheduler(make_runner(fresh_db, fake, clock))
    d.build(catch_up=False)
    trigger = d.scheduler.get_job("digest:T1:C8").trigger
    fire = trigger.get_next_fire_time(None, dt.datetime(2024, 3, 10, 6, 0, tzinfo=UTC))
    assert fire.astimezone(UTC) == dt.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    clock.set(fire.astimezone(UTC))
    result = d.run_job(TEAM, "C8")
    assert result.status == "posted" and result.local_date == dt.date(2024, 3, 10)


def test_catch_up_at_start(
    digests: DigestScheduler, fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    add_article(fresh_db, "Solar news", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    add_article(fresh_db, "Wind news", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    # Back at 12:45 UTC: C1's 08:00 BST (07:00 UTC) is 5.75 h late, beyond the 2 h grace;
    # C2's 07:30 EDT (11:30 UTC) is 75 minutes late, within it.
    clock.set(dt.datetime(2024, 7, 1, 12, 45, tzinfo=UTC))
    digests.build()
    results = {r.channel_id: r.status for r in digests.catch_up()}
    assert results == {"C1": "skipped", "C2": "posted"}
    assert fake.posts("C1") == [] and len(digest_posts(fake, "C2")) == 1
    # Started again a minute later: nothing more.
    clock.set(dt.datetime(2024, 7, 1, 12, 46, tzinfo=UTC))
    assert digests.catch_up() == []


def test_a_busy_run_is_retried_when_the_lease_ends(
    digests: DigestScheduler, fresh_db: Store, clock: FixedClock
) -> None:
    digests.build(catch_up=False)
    digests.start(paused=True)
    clock.set(dt.datetime(2024, 7, 1, 7, 0, 1, tzinfo=UTC))
    fresh_db.claim_digest_run(
        TEAM,
        "C1",
        "2024-07-01",
        dt.datetime(2024, 7, 1, 7, tzinfo=UTC),
        owner="other-host|ns|7|t",
        now=clock(),
        lease=dt.timedelta(minutes=10),
    )
    assert digests.run_job(TEAM, "C1").status == "busy"
    retry = digests.scheduler.get_job(retry_job_id(TEAM, "C1"))
    assert retry is not None
    assert retry.next_run_time == dt.datetime(2024, 7, 1, 7, 10, 6, tzinfo=UTC)


def test_paused_by_slack_removes_the_job(
    digests: DigestScheduler, fake: FakeSlack, fresh_db: Store, clock: FixedClock
) -> None:
    from tests.fakeslack import Fail

    digests.build(catch_up=False)
    add_article(fresh_db, "Solar news", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    fake.script("chat.postMessage", Fail(error="is_archived"))
    clock.set(dt.datetime(2024, 7, 1, 7, 0, 1, tzinfo=UTC))
    assert digests.run_job(TEAM, "C1").status == "paused"
    assert digests.scheduler.get_job("digest:T1:C1") is None


def test_start_digests_from_config(fresh_db: Store, fake: FakeSlack, clock: FixedClock) -> None:
    """What serve/run call: jobs from the database, the catch-up queued, posting to Slack."""
    from bot.config import load_config
    from bot.digests.scheduler import start_digests

    subscribe(fresh_db, "C5", "solar", hour=7, tz="UTC")
    add_article(fresh_db, "Solar news", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    config = load_config(env={"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_API_URL": fake.base_url})
    clock.set(dt.datetime(2024, 7, 1, 8, 0, tzinfo=UTC))
    d = start_digests(fresh_db, config, clock=clock, start=False)
    try:
        assert {j.id for j in d.jobs()} == {"digest:T1:C5"}
        assert d.scheduler.get_job(CATCH_UP_JOB) is not None
        assert [r.status for r in d.catch_up()] == ["posted"]
        assert len(digest_posts(fake, "C5")) == 1
    finally:
        d.shutdown()


def test_without_a_token_digests_go_to_the_local_sink(fresh_db: Store, clock: FixedClock) -> None:
    """The local shell: no Slack, the digest is handed to a printer, and counts as sent."""
    from bot.config import load_config
    from bot.digests.scheduler import start_digests
    from bot.render.text import digest_text

    subscribe(fresh_db, "shell", "solar", hour=7, tz="UTC")
    add_article(fresh_db, "Solar news", dt.datetime(2024, 7, 1, 5, tzinfo=UTC))
    printed: list[str] = []
    d = start_digests(
        fresh_db,
        load_config(env={}),
        clock=clock,
        start=False,
        local_sink=lambda digest: printed.append(digest_text(digest)),
    )
    clock.set(dt.datetime(2024, 7, 1, 7, 0, 1, tzinfo=UTC))
    assert d.run_job(TEAM, "shell").status == "posted"
    assert "Solar news" in printed[0]
    assert d.run_job(TEAM, "shell").status == "finished"
    assert len(printed) == 1


# -- the shell's channel and Slack's, apart (issue 14) -----------------------------------------


def test_the_slack_scheduler_never_takes_the_shells_channel(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """A database the shell used holds team "local"'s channel "shell": the bot serving Slack
    once posted its digest to Slack (channel_not_found) and paused it."""
    from bot.core.service.base import Context
    from bot.digests.runner import LOCAL_TEAM

    assert Context().team_id == LOCAL_TEAM  # the shell's stand-in team is the runner's
    subscribe(fresh_db, "C1", "solar")
    fresh_db.subscribe(
        LOCAL_TEAM,
        "shell",
        "solar",
        user_id="you",
        hour=8,
        minute=0,
        tz="UTC",
        now=dt.datetime(2024, 1, 1, tzinfo=UTC),
    )
    add_article(fresh_db, "Solar farm opens", clock() - dt.timedelta(hours=2))
    d = DigestScheduler(make_runner(fresh_db, fake, clock, grace_hours=2))
    try:
        assert d.build(catch_up=False) == 1
        assert {j.id for j in d.jobs()} == {"digest:T1:C1"}
        results = d.catch_up(clock())
    finally:
        d.shutdown()
    assert [(r.channel_id, r.status) for r in results] == [("C1", "posted")]
    assert len(fake.posts("C1")) == 1 and len(fake.posts()) == 1
    assert fresh_db.active_subscriptions(LOCAL_TEAM, "shell")  # not paused


def test_the_shells_scheduler_takes_only_its_own_channel(
    fresh_db: Store, clock: FixedClock
) -> None:
    from bot.digests.runner import LOCAL_TEAM, DigestRunner

    subscribe(fresh_db, "C1", "solar")
    fresh_db.subscribe(
        LOCAL_TEAM,
        "shell",
        "solar",
        user_id="you",
        hour=8,
        minute=0,
        tz="UTC",
        now=dt.datetime(2024, 1, 1, tzinfo=UTC),
    )
    add_article(fresh_db, "Solar farm opens", clock() - dt.timedelta(hours=2))
    printed: list[object] = []
    runner = DigestRunner(fresh_db, None, clock=clock, local_sink=printed.append)
    d = DigestScheduler(runner)
    try:
        assert d.build(catch_up=False) == 1
        assert {j.id for j in d.jobs()} == {"digest:local:shell"}
        results = d.catch_up(clock())
    finally:
        d.shutdown()
    # the real channel's morning is not failed by a shell on the bot's database
    assert [(r.channel_id, r.status) for r in results] == [("shell", "posted")]
    assert len(printed) == 1
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02") is None


def test_a_one_off_job_ending_as_the_scheduler_stops_is_not_an_error() -> None:
    """The race behind "Exception in thread APScheduler ... JobLookupError: 'No job by the id
    of digest-catch-up'" on quitting the shell at once: the scheduler's thread removes a
    one-off job that has run after shutdown() marked the scheduler stopped."""
    from apscheduler.jobstores.base import JobLookupError

    from bot.digests.scheduler import Scheduler

    s = Scheduler(timezone=UTC)
    s.start(paused=True)
    s.add_job(print, "date", run_date=dt.datetime(2030, 1, 1, tzinfo=UTC), id="once")
    s.shutdown(wait=False)
    s.remove_job("once")  # what the scheduler's thread does next: no exception
    s2 = Scheduler(timezone=UTC)
    s2.start(paused=True)
    try:
        with pytest.raises(JobLookupError):  # while running, a missing job is still an error
            s2.remove_job("never-added")
    finally:
        s2.shutdown(wait=False)
