"""The digest job against the fake Slack Web API over HTTP, with a clock moved by hand."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest

from bot.digests.runner import DigestRunner
from storage.store import Store
from tests.conftest import FixedClock
from tests.digests.conftest import (
    TEAM,
    Sleeps,
    add_article,
    digest_posts,
    make_runner,
    subscribe,
)
from tests.fakeslack import Fail, FakeSlack, block_errors

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def news(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar", user="U1")
    subscribe(fresh_db, "C1", "wind", user="U2")
    add_article(fresh_db, "Solar farm opens", DUE - dt.timedelta(hours=3))
    add_article(fresh_db, "Wind turbines <!channel> record", DUE - dt.timedelta(hours=5))


def test_posts_once_with_metadata_and_records_deliveries(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, clock: FixedClock
) -> None:
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "posted", result
    (post,) = fake.posts("C1")
    payload = post["metadata"]["event_payload"]
    assert post["metadata"]["event_type"] == "news_digest"
    assert (payload["date"], payload["run_id"]) == ("2024-05-02", 1)
    assert len(payload["post"]) == 16  # each post's own mark (see _lost)
    assert post["unfurl_links"] is False and post["unfurl_media"] is False
    assert block_errors(post["blocks"]) == []
    assert "<!channel>" not in str(post["blocks"]) + post["text"]
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "done" and run["message_ts"] == post["ts"] == result.message_ts
    assert {d["topic_key"] for d in fresh_db.deliveries(TEAM, "C1")} == {"solar", "wind"}
    # The job again the same morning (a second fire, a manual run): nothing.
    clock.set(DUE + dt.timedelta(minutes=30))
    assert runner.run_channel(TEAM, "C1").status == "finished"
    assert len(fake.posts("C1")) == 1
    # A first post needs no history check: nothing can be in Slack yet.
    assert fake.calls_to("conversations.history") == []


def test_next_day_posts_only_new_stories(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, clock: FixedClock
) -> None:
    runner.run_channel(TEAM, "C1")
    add_article(fresh_db, "Solar panels cheaper", DUE + dt.timedelta(hours=6))
    clock.set(DUE + dt.timedelta(days=1, seconds=5))
    assert runner.run_channel(TEAM, "C1").status == "posted"
    second = fake.posts("C1")[1]
    assert "Solar panels cheaper" in second["text"]
    assert "Solar farm opens" not in second["text"]
    # Day three: nothing new, no post.
    clock.set(DUE + dt.timedelta(days=2, seconds=5))
    assert runner.run_channel(TEAM, "C1").status == "empty"
    assert len(fake.posts("C1")) == 2
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-04")["state"] == "empty"


def test_post_when_empty(fresh_db: Store, fake: FakeSlack, clock: FixedClock) -> None:
    clock.set(DUE + dt.timedelta(days=5))
    runner = make_runner(fresh_db, fake, clock, post_when_empty=True)
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert "Nothing new" in str(fake.posts("C1")[0]["blocks"])


def test_429_waits_retry_after_in_the_runner_and_needs_no_history(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, sleeps: Sleeps
) -> None:
    fake.script("chat.postMessage", Fail(429, headers={"Retry-After": "7"}))
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(digest_posts(fake, "C1")) == 1
    # The runner waited out Retry-After itself (slack_sdk's handler would have waited where
    # the lease cannot be checked), and a 429 stores nothing: no history look-up.
    assert sleeps == [7.0]
    assert fake.calls_to("conversations.history") == []
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["post_attempts"] == 2


def test_timeout_after_slack_stored_the_post(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, sleeps: Sleeps
) -> None:
    fake.script("chat.postMessage", Fail(drop_after_store=True))
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "adopted", result
    (post,) = fake.posts("C1")
    assert result.message_ts == post["ts"]
    assert len(fake.calls_to("chat.postMessage")) == 1
    (history,) = fake.calls_to("conversations.history")
    assert str(history.params["include_all_metadata"]).lower() in ("1", "true")
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "done" and run["message_ts"] == post["ts"]
    assert len(fresh_db.deliveries(TEAM, "C1")) == 2
    assert len(sleeps) == 1


def test_server_errors_retry_with_backoff_then_succeed(
    runner: DigestRunner, fake: FakeSlack, sleeps: Sleeps
) -> None:
    fake.script("chat.postMessage", Fail(500), Fail(503))
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert len(digest_posts(fake, "C1")) == 1
    assert sleeps == [2.0, 4.0]
    # Each retry first looked whether the failed post had been stored after all (a 5xx may
    # come after Slack stored it), in the attempts' window, a small page.
    history = fake.calls_to("conversations.history")
    assert len(history) == 2
    for call in history:
        assert float(call.params["oldest"]) < DUE.timestamp() + 5 < float(call.params["latest"])
        assert float(call.params["latest"]) - float(call.params["oldest"]) < 600
        assert int(call.params["limit"]) <= 50


def test_a_short_outage_at_the_due_time_does_not_lose_the_day(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, sleeps: Sleeps
) -> None:
    """Failure 1 of issue 8: Slack answering 503 for ~35 s from the due moment ended the run
    'failed' after 4 attempts, and nothing tried again though the grace is 2 hours."""
    fake.script("chat.postMessage", *[Fail(503)] * 4)  # down from 08:00:05 to 08:00:30
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "posted", result
    assert sleeps == [2.0, 4.0, 8.0, 16.0]
    assert len(digest_posts(fake, "C1")) == 1
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["state"] == "done"


def test_a_longer_outage_hands_the_retry_on_then_posts(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, clock: FixedClock, sleeps: Sleeps
) -> None:
    fake.script("chat.postMessage", *[Fail(502)] * 5)
    result = runner.run_channel(TEAM, "C1")
    # Tries at 0, 2, 6, 14 and 30 s; the next, 32 s later, would pass the 60 s of inline
    # retrying: the run is handed back, 'waiting', with when to come back.
    assert result.status == "retry" and result.retry_at is not None, result
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "waiting" and run["claimed_until"] is None
    assert result.retry_at == clock() + dt.timedelta(seconds=32)
    clock.set(result.retry_at)
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert len(digest_posts(fake, "C1")) == 1


def test_an_outage_past_the_grace_records_the_skip_once(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps = Sleeps(clock)
    runner = make_runner(fresh_db, fake, clock, sleeps, grace_hours=0.05)  # 3 minutes
    fake.script("chat.postMessage", *[Fail(500)] * 50)
    with caplog.at_level(logging.WARNING, logger="newsbot.digests"):
        first = runner.run_channel(TEAM, "C1")
        while first.status == "retry":
            clock.set(first.retry_at)
            first = runner.run_channel(TEAM, "C1")
    assert first.status == "skipped" and "grace period" in first.error
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "skipped" and run["claimed_until"] is None
    assert caplog.text.count("skipping the 2024-05-02 digest of T1/C1") == 1
    assert fake.posts("C1") == [] and fresh_db.deliveries(TEAM, "C1") == []
    # Later the same day: nothing more, and no second log line.
    clock.advance(hours=1)
    assert runner.run_channel(TEAM, "C1").status in ("skipped", "finished")
    assert caplog.text.count("skipping the 2024-05-02 digest of T1/C1") == 1
    assert fake.posts("C1") == []


def test_a_post_stored_during_an_outage_is_adopted_at_the_grace_end(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    sleeps = Sleeps(clock)
    runner = make_runner(fresh_db, fake, clock, sleeps, grace_hours=0.01)  # 36 s
    # Stored, answer lost; then every look in the history fails too until the grace ends.
    fake.script("chat.postMessage", Fail(drop_after_store=True))
    fake.script("conversations.history", *[Fail(503)] * 5)
    result = runner.run_channel(TEAM, "C1")
    while result.status == "retry":
        clock.set(result.retry_at)
        result = runner.run_channel(TEAM, "C1")
    assert result.status == "adopted", result
    assert len(digest_posts(fake, "C1")) == 1
    assert len(fresh_db.deliveries(TEAM, "C1")) == 2


@pytest.mark.parametrize(
    "error", ["not_in_channel", "channel_not_found", "is_archived", "account_inactive"]
)
def test_channel_gone_pauses_and_tells_the_subscribers_once(
    runner: DigestRunner, fake: FakeSlack, fresh_db: Store, clock: FixedClock, error: str
) -> None:
    fake.script("chat.postMessage", Fail(error=error))
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "paused" and result.error == error
    subs = fresh_db.subscriptions(TEAM, "C1")
    assert [s["paused_reason"] for s in subs] == [error, error]
    dms = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] != "C1"]
    assert [n["sent_at"] is not None for n in fresh_db.notices(TEAM)] == [True, True]
    assert sorted(c.params["channel"] for c in dms) == ["U1", "U2"]
    text = dms[0].params["text"]
    assert "Invite me back with `/invite @newsbot`" in text and "type `/news resume` there" in text
    assert "&lt;topic&gt;" not in text  # a pause stops the channel: `/news resume` resumes it
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["state"] == "paused"
    # No loop: the same morning and the next ones, nothing is tried.
    calls = len(fake.calls)
    for days in (0, 1, 2):
        clock.set(DUE + dt.timedelta(days=days, minutes=1))
        assert runner.run_channel(TEAM, "C1").status == "no_subscriptions"
    assert len(fake.calls) == calls
    # Resumed, it posts again.
    fresh_db.resume(TEAM, "C1", "solar")
    add_article(fresh_db, "Solar roofs everywhere", clock() - dt.timedelta(hours=1))
    assert runner.run_channel(TEAM, "C1").status == "posted"


def test_other_slack_refusals_fail_the_run_without_retrying(
    runner: DigestRunner, fake: FakeSlack, sleeps: Sleeps
) -> None:
    fake.script("chat.postMessage", Fail(error="invalid_auth"))
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "failed" and "invalid_auth" in result.error
    assert len(fake.calls_to("chat.postMessage")) == 1 and sleeps == []


def test_unreachable_slack_never_raises(fresh_db: Store, clock: FixedClock, sleeps: Sleeps) -> None:
    from bot.digests.runner import digest_client

    client = digest_client("xoxb-x", "http://127.0.0.1:9/api/", timeout=1)  # discard port
    runner = DigestRunner(fresh_db, client, clock=clock, sleep=sleeps)
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "retry" and len(sleeps) == 4
    # Nothing left for Slack: the post is known not to be there, so no history look-up later.
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["post_unknown"] == 0


def test_unexpected_errors_never_escape(
    runner: DigestRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner.store, "claim_digest_run", boom)
    result = runner.run_channel(TEAM, "C1")
    assert result.status == "error" and "disk on fire" in result.error


def test_dm_subscriptions_post_in_the_dm(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    subscribe(fresh_db, "U9", "solar", user="U9", kind="dm")
    runner = make_runner(fresh_db, fake, clock)
    assert runner.run_channel(TEAM, "U9").status == "posted"
    assert len(digest_posts(fake, "DU9")) == 1


def test_a_paused_dm_digest_is_told_without_an_invite(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Nobody invites the bot to a DM: the pause notice of a DM digest says `/news resume` in
    the DM, not "Invite me back" (issue 14: words that are true)."""
    subscribe(fresh_db, "U9", "solar", user="U9", kind="dm")
    fake.script("chat.postMessage", Fail(error="channel_not_found"))
    runner = make_runner(fresh_db, fake, clock)
    assert runner.run_channel(TEAM, "U9").status == "paused"
    text = [n for n in fresh_db.notices(TEAM) if n["user_id"] == "U9"][0]["text"]
    assert "in your DM with me: " in text and "`/news resume` in your DM with me" in text
    assert "invite" not in text.lower() and "&lt;topic&gt;" not in text


def test_catch_up_within_grace_and_skip_beyond(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(fresh_db, "C2", "solar", hour=7, tz="Europe/London")  # 06:00 UTC in May
    runner = make_runner(fresh_db, fake, clock, grace_hours=2)
    clock.set(DUE + dt.timedelta(hours=1, minutes=30))  # 09:30 UTC: C1 90 min late, C2 3.5 h
    with caplog.at_level(logging.WARNING, logger="newsbot.digests"):
        assert [r.line() for r in runner.missed_channels()] == [
            "C2 2024-05-02: skipped: missed: due 2024-05-02T06:00:00+00:00, 3.5 h ago, "
            "beyond the grace period of 2 h"
        ]
        results = runner.run_due()
    assert [(r.channel_id, r.status) for r in results] == [("C1", "posted")]
    assert "skipping the 2024-05-02 digest of T1/C2" in caplog.text
    assert fake.posts("C2") == [] and len(fake.posts("C1")) == 1
    assert fresh_db.digest_run(TEAM, "C2", "2024-05-02")["state"] == "skipped"
    # C2's job fired late (e.g. by hand) also skips; tomorrow it posts at its time.
    assert runner.run_channel(TEAM, "C2").status == "skipped"
    clock.set(dt.datetime(2024, 5, 3, 6, 0, 1, tzinfo=UTC))
    assert runner.run_channel(TEAM, "C2").status == "posted"


def test_a_channel_subscribed_after_its_time_waits_for_tomorrow(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    subscribe(fresh_db, "C3", "solar", at=DUE + dt.timedelta(minutes=10))
    clock.set(DUE + dt.timedelta(minutes=30))
    runner = make_runner(fresh_db, fake, clock)
    assert ("T1", "C3") in runner.due_channels()  # due_channels: within grace, not run
    assert runner.run_channel(TEAM, "C3").status == "not_due"
    assert fake.posts("C3") == []


def test_two_runners_on_one_database_at_once(
    tmp_path: Path, fake: FakeSlack, fresh_db: Store
) -> None:
    """Two processes' worth of connections, threads released together: one post each."""
    for n in range(2, 12):
        subscribe(fresh_db, f"C{n}", "solar")
    stores = [Store(fresh_db.path), Store(fresh_db.path)]
    clock = FixedClock(DUE + dt.timedelta(seconds=5))
    runners = [make_runner(s, fake, clock) for s in stores]
    runners[0].owner, runners[1].owner = "hostA|ns|1|a", "hostB|ns|1|b"
    start = threading.Barrier(2)
    out: list[list] = [[], []]

    def work(i: int) -> None:
        start.wait()
        out[i] = runners[i].run_due()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(1, 12):
        assert len(digest_posts(fake, f"C{n}")) == 1, n
    statuses = sorted(r.status for rs in out for r in rs)
    assert statuses.count("posted") == 11
    assert set(statuses) <= {"posted", "busy", "finished"}
    for s in stores:
        s.close()


def test_a_dead_runs_lease_is_taken_over(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    # A run claimed by a process elsewhere, which never came back.
    claim = fresh_db.claim_digest_run(
        TEAM,
        "C1",
        "2024-05-02",
        DUE,
        owner="elsewhere|ns|42|x",
        now=clock(),
        lease=dt.timedelta(minutes=10),
    )
    assert claim["status"] == "claimed"
    runner = make_runner(fresh_db, fake, clock)
    busy = runner.run_channel(TEAM, "C1")
    assert busy.status == "busy" and busy.retry_at == clock() + dt.timedelta(minutes=10)
    clock.advance(minutes=10, seconds=1)
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["attempts"] == 2
