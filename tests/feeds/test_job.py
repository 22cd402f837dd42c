"""The poller's scheduler job (bot.feeds.job): registered beside the digests, a tick polls, a
failing round never raises, health notices reach the adder as a Slack DM (our fake Slack over
HTTP). Ticks are called directly: no test waits for the scheduler."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import load_config
from bot.feeds import job
from bot.slack.client import make_client
from storage.store import Store
from tests.conftest import FixedClock
from tests.fakefeeds import FakeFeeds
from tests.fakeslack import Fail, FakeSlack
from tests.slackhttp import BOT_TOKEN

START = dt.datetime(2020, 1, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def feeds() -> Iterator[FakeFeeds]:
    server = FakeFeeds()
    yield server
    server.close()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def config():
    return load_config(path=None, env={"NEWSBOT_SOURCES_ALLOW_PRIVATE": "true"})


def test_the_job_is_registered_and_a_tick_polls(fresh_db: Store, feeds: FakeFeeds, slack):
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    client = make_client(BOT_TOKEN, slack.base_url)
    poller = job.add_poll_job(scheduler, fresh_db, FixedClock(START), config(), client)
    try:
        scheduled = scheduler.get_job(job.JOB_ID)
        assert scheduled is not None and scheduled.max_instances == 1
        fresh_db.add_source("feed", feeds.serve("/old", status=410), (), "T1:U7", START, 1800)
        assert scheduled.func(*scheduled.args) == 1
        (dm,) = slack.posts("U7")
        assert "is gone" in dm["text"] and "410" in dm["text"]
    finally:
        poller.close()


def test_a_notice_slack_refuses_is_tried_again_next_tick(fresh_db: Store, feeds, slack):
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    clock = FixedClock(START)
    client = make_client(BOT_TOKEN, slack.base_url)
    poller = job.add_poll_job(scheduler, fresh_db, clock, config(), client)
    try:
        source, _ = fresh_db.add_source(
            "feed", feeds.serve("/down", status=503), (), "T1:U7", START, 1800
        )
        job.run_round(poller)
        slack.script("chat.postMessage", Fail(error="channel_not_found"))
        clock.advance(hours=25)
        job.run_round(poller)  # a day of failures: told, but Slack refused
        assert slack.posts("U7") == []
        after = fresh_db.source(source.id)
        assert after is not None and after.notified_failing_at is None
        clock.advance(hours=7)
        job.run_round(poller)
        (dm,) = slack.posts("U7")
        assert "has failed since" in dm["text"]
        job.run_round(poller)
        assert len(slack.posts("U7")) == 1  # once
    finally:
        poller.close()


def test_a_round_that_fails_never_raises_into_the_scheduler(fresh_db: Store, feeds):
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    poller = job.add_poll_job(scheduler, fresh_db, FixedClock(START), config(), None)
    try:
        fresh_db.add_source("feed", feeds.serve("/x", body=b"<rss/>"), (), "cli", START, 1800)
        fresh_db.close()  # the database gone under it
        assert job.run_round(poller) == 0
    finally:
        poller.close()


def test_a_notice_holds_nothing_slack_would_act_on(fresh_db: Store, feeds, slack):
    """A feed's address is not ours: its <!channel> or <@U1> is shown, never acted on."""
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    client = make_client(BOT_TOKEN, slack.base_url)
    clock = FixedClock(START)
    poller = job.add_poll_job(scheduler, fresh_db, clock, config(), client)
    try:
        url = feeds.url("/nothing-here") + "?x=<!channel>&y=<@U1>"  # a 404: it fails
        fresh_db.add_source("feed", url, (), "T1:U7", START, 1800)
        job.run_round(poller)
        clock.advance(hours=25)
        job.run_round(poller)  # a day of failures: told, naming the address
        (call,) = slack.calls_to("chat.postMessage")
        assert "<!channel>" not in call.params["text"] and "<@U1>" not in call.params["text"]
        assert "&lt;!channel&gt;" in call.params["text"]
        assert call.params["mrkdwn"] is False
    finally:
        poller.close()


def test_the_regroup_job_groups_what_rounds_wrote(fresh_db: Store, feeds):
    """A round writes and leaves the stories to the regroup job (a round must not wait for
    a week's regroup); the job's tick groups them."""
    from tests.conftest import FIXTURES

    scheduler = BackgroundScheduler(timezone=dt.UTC)
    poller = job.add_poll_job(scheduler, fresh_db, FixedClock(START), config(), None)
    try:
        assert scheduler.get_job(job.REGROUP_JOB_ID) is not None
        body = (FIXTURES / "feeds" / "syndicated.xml").read_bytes()
        fresh_db.add_source("feed", feeds.serve("/wire", body=body), (), "cli", START, 1800)
        assert job.run_round(poller) == 1
        assert fresh_db.grouping_state()["pending"] > 0
        job.regroup_pending(fresh_db)
        assert fresh_db.grouping_state()["pending"] == 0
    finally:
        poller.close()
