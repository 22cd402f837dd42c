"""Issue 8's failures, one test each: the promise "one digest per conversation per local day,
never two, never none" under outages, restarts in another container, stale runs, frozen
processes, lost notices, a busy database, and zones the machine does not know.

Processes are stood for by runners with other owner identities (another host or PID namespace
cannot be proven dead: only its lease ending frees its run); a kill is an exception raised out
of the runner's sleep, a freeze is the clock moving on while the runner sleeps.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.core.digest import DigestSettings
from bot.digests.runner import DigestRunner, digest_client
from bot.digests.scheduler import DigestScheduler, retry_job_id
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
from tests.fakeslack import Fail, FakeSlack

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
OLD_HOST = "old-container|pid:[4026532178]|1|a1"  # PID 1 in another PID namespace
NEW_HOST = "new-container|pid:[4026532999]|1|b2"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Killed(BaseException):
    """A process killed where it stood (raised out of its sleep: nothing after runs)."""


@pytest.fixture(autouse=True)
def news(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar", user="U1")
    add_article(fresh_db, "Solar farm opens", DUE - dt.timedelta(hours=3))
    add_article(fresh_db, "Solar panels cheaper", DUE - dt.timedelta(hours=4))


def killed_mid_post(store: Store, fake: FakeSlack, clock: FixedClock, *, stored: bool) -> None:
    """A process in another container posts C1's digest, the answer is lost (stored in Slack
    or not), and it is killed while waiting to retry: its run is left 'posting'."""

    def die(_: float) -> None:
        raise Killed

    old = make_runner(store, fake, clock, Sleeps())
    old.owner = OLD_HOST
    old.sleep = die
    fake.script(
        "chat.postMessage", Fail(drop_after_store=True) if stored else Fail(drop_before_store=True)
    )
    with pytest.raises(Killed):
        old.run_channel(TEAM, "C1")
    run = store.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "posting" and run["post_unknown"] == 1
    assert run["claimed_by"] == OLD_HOST


def new_runner(store: Store, fake: FakeSlack, clock: FixedClock) -> DigestRunner:
    runner = make_runner(store, fake, clock, Sleeps(clock))
    runner.owner = NEW_HOST
    return runner


@pytest.mark.parametrize("stored", [True, False], ids=["post-stored", "post-lost"])
def test_restart_in_a_new_container_retries_when_the_old_lease_ends(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, stored: bool
) -> None:
    """Failure 2: the restarted bot's catch-up found the run busy and nothing retried."""
    killed_mid_post(fresh_db, fake, clock, stored=stored)
    clock.set(DUE + dt.timedelta(minutes=3))  # the container is back 3 minutes later
    digests = DigestScheduler(new_runner(fresh_db, fake, clock))
    digests.build(catch_up=False)
    digests.start(paused=True)
    try:
        (result,) = digests.catch_up()
        assert result.status == "busy", result
        job = digests.scheduler.get_job(retry_job_id(TEAM, "C1"))
        assert job is not None, "the catch-up path must retry when the lease ends"
        lease_end = dt.datetime.fromisoformat(
            fresh_db.digest_run(TEAM, "C1", "2024-05-02")["claimed_until"]
        )
        assert lease_end < job.next_run_time <= lease_end + dt.timedelta(seconds=10)
        clock.set(job.next_run_time)
        assert digests.run_job(TEAM, "C1").status == ("adopted" if stored else "posted")
    finally:
        digests.shutdown()
    assert len(digest_posts(fake, "C1")) == 1
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["state"] == "done"
    assert len(fresh_db.deliveries(TEAM, "C1")) == 2


def test_a_stale_posting_run_is_adopted_before_the_next_days_digest(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Failure 3: a 'posting' run past its grace was never looked at again; when its post had
    reached Slack, the next day's digest repeated its stories."""
    killed_mid_post(fresh_db, fake, clock, stored=True)
    add_article(fresh_db, "Solar roads tested", DUE + dt.timedelta(hours=12))
    clock.set(DUE + dt.timedelta(days=1, seconds=5))
    result = new_runner(fresh_db, fake, clock).run_channel(TEAM, "C1")
    assert result.status == "posted", result
    first, second = digest_posts(fake, "C1")
    assert "Solar farm opens" in first["text"]
    assert "Solar roads tested" in second["text"]
    assert "Solar farm opens" not in second["text"]  # delivered the day before: adopted
    assert "Solar panels cheaper" not in second["text"]
    runs = {r["local_date"]: r["state"] for r in fresh_db.digest_runs(TEAM, "C1")}
    assert runs == {"2024-05-02": "done", "2024-05-03": "done"}


def test_a_stale_run_whose_post_never_arrived_is_skipped_and_logged_once(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    killed_mid_post(fresh_db, fake, clock, stored=False)
    clock.set(DUE + dt.timedelta(hours=5))  # past the grace, the same day
    runner = new_runner(fresh_db, fake, clock)
    with caplog.at_level(logging.WARNING, logger="newsbot.digests"):
        (result,) = runner.settle_stale()
        assert result.status == "skipped" and "gave up" in result.error
        assert runner.settle_stale() == []  # settled: never looked at again
        assert runner.run_channel(TEAM, "C1").status == "skipped"
    assert caplog.text.count("skipping the 2024-05-02 digest of T1/C1") == 1
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "skipped" and run["claimed_until"] is None
    assert fake.posts("C1") == []
    # One narrow history look-up settled it.
    (history,) = fake.calls_to("conversations.history")
    assert float(history.params["oldest"]) >= DUE.timestamp() - 180
    # The stories were never delivered: the next day's digest has them.
    clock.set(DUE + dt.timedelta(days=1, seconds=5))
    assert runner.run_channel(TEAM, "C1").status == "posted"
    assert "Solar farm opens" in digest_posts(fake, "C1")[0]["text"]


def test_a_process_frozen_past_its_lease_in_a_retry_after_wait_does_not_post(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Failure 4: frozen inside slack_sdk's Retry-After wait past its 10-minute lease, a process
    woke and posted after another had taken over and posted: two digests on one date."""
    other = new_runner(fresh_db, fake, clock)
    taken: list[str] = []

    def frozen(seconds: float) -> None:  # SIGSTOP during the wait, SIGCONT 11 minutes later
        clock.advance(minutes=11)
        taken.append(other.run_channel(TEAM, "C1").status)

    sleeps = Sleeps()
    sleeps.hooks.append(frozen)
    first = make_runner(fresh_db, fake, clock, sleeps)
    first.owner = OLD_HOST
    fake.script("chat.postMessage", Fail(429, headers={"Retry-After": "30"}))
    result = first.run_channel(TEAM, "C1")
    assert sleeps == [30.0]  # the runner waited, not slack_sdk
    assert taken == ["posted"]
    assert result.status == "busy" and "lease" in result.error
    assert len(digest_posts(fake, "C1")) == 1
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "done" and run["claimed_by"] == NEW_HOST


def test_a_live_lease_is_never_lengthened_by_a_liveness_check(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """A holder on this very machine whose PID is alive: its lease still ends by time."""
    import os

    mine = f"{os.uname().nodename}|x|{os.getpid()}|zz"
    fresh_db.claim_digest_run(
        TEAM, "C1", "2024-05-02", DUE, owner=mine, now=clock(), lease=dt.timedelta(minutes=10)
    )
    runner = new_runner(fresh_db, fake, clock)
    assert runner.run_channel(TEAM, "C1").status == "busy"
    clock.advance(minutes=10)
    assert runner.run_channel(TEAM, "C1").status == "posted"


def test_a_pause_notice_that_fails_is_kept_and_sent_later(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Failure 5: the 'your subscription was paused' DM was lost after a single 5xx."""
    subscribe(fresh_db, "C1", "wind", user="U2")
    runner = make_runner(fresh_db, fake, clock, Sleeps(clock))
    fake.script(
        "chat.postMessage", Fail(error="not_in_channel"), Fail(500), Fail(drop_before_store=True)
    )
    assert runner.run_channel(TEAM, "C1").status == "paused"
    pending = fresh_db.notices(TEAM)
    assert [(n["user_id"], n["sent_at"], n["attempts"]) for n in pending] == [
        ("U1", None, 1),
        ("U2", None, 1),
    ]
    assert fake.posts("U1") == [] and fake.posts("U2") == []
    # Not yet due: nothing is tried.
    assert runner.send_notices() == []
    clock.advance(minutes=5)
    assert [n["user_id"] for n in runner.send_notices()] == ["U1", "U2"]
    assert len(fake.posts("U1")) == 1 and len(fake.posts("U2")) == 1
    assert "paused" in fake.posts("U1")[0]["text"]
    assert runner.send_notices() == []  # sent once
    # A notice Slack refuses for good is dropped, not retried for ever.
    fresh_db.pause_channel_for(TEAM, "C9", "is_archived", clock(), notice=lambda u: "gone")
    subscribe(fresh_db, "C8", "x", user="U3")
    fresh_db.pause_channel_for(TEAM, "C8", "is_archived", clock(), notice=lambda u: "gone")
    fake.script("chat.postMessage", Fail(error="user_not_found"))
    assert runner.send_notices() == []
    (last,) = [n for n in fresh_db.notices(TEAM) if n["user_id"] == "U3"]
    assert last["sent_at"] == "never" and last["last_error"] == "user_not_found"


def test_the_scheduler_sends_pending_notices(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    digests = DigestScheduler(make_runner(fresh_db, fake, clock))
    digests.build(catch_up=False)
    fresh_db.pause_channel_for(TEAM, "C1", "is_archived", clock(), notice=lambda u: f"hi {u}")
    job = digests.scheduler.get_job("digest-notices")
    assert job is not None
    job.func()
    assert fake.posts("U1")[0]["text"] == "hi U1"


def test_a_busy_database_is_a_transient_error_retried_within_grace(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Failure 5: 'database is locked' after the busy timeout ended the run 'error', never
    retried: that channel lost its day."""
    busy = Store(fresh_db.path, busy_seconds=0.05)
    runner = DigestRunner(
        busy,
        digest_client(fake.bot_token, fake.base_url, timeout=5),
        DigestSettings(),
        clock=clock,
        sleep=Sleeps(clock),
    )
    digests = DigestScheduler(runner)
    holder = sqlite3.connect(fresh_db.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a long write elsewhere (a load, another bot)
    try:
        result = digests.run_job(TEAM, "C1")
        assert result.status == "retry" and result.retry_at is not None, result
        assert digests.scheduler.get_job(retry_job_id(TEAM, "C1")) is not None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    clock.set(result.retry_at)
    assert digests.run_job(TEAM, "C1").status == "posted"
    assert len(digest_posts(fake, "C1")) == 1
    busy.close()


def test_a_load_leaves_turns_to_other_writers(
    fresh_db: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failure 5: the loader held the write lock for 1,000-file transactions and took it back
    at once. A writer that starts waiting while a load is under way gets in before it ends."""
    from bot.core import loader as loader_module
    from bot.core.loader import Loader

    monkeypatch.setattr(loader_module, "BATCH_SECONDS", 0.0)  # one file per transaction
    folder = tmp_path / "articles"
    shutil.copytree(FIXTURES / "power-apps", folder)
    files = sorted(folder.rglob("*.md"))
    assert len(files) > 50
    other = Store(fresh_db.path, busy_seconds=60)
    done_at: list[int] = []
    report_files = [0]

    def write() -> None:
        other.mark_digest_skipped(TEAM, "C5", "2024-05-02", DUE, now=DUE, reason="test")
        done_at.append(report_files[0])

    writer = threading.Thread(target=write)

    def on_file(_: Path) -> None:
        report_files[0] += 1
        if report_files[0] == 10:  # inside the load's transaction: the writer must wait
            writer.start()

    Loader(fresh_db, lambda: DUE).load([folder], on_file=on_file)
    writer.join(60)
    assert done_at and done_at[0] < len(files) - 5, (done_at, len(files))
    other.close()


def test_an_unknown_zone_in_the_database_pauses_that_channel_only(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Failure 6: a zone stored by an older version (or lost from the machine's zoneinfo)
    crashed every start of serve, shell and digest."""
    subscribe(fresh_db, "C7", "mars news", user="U7", tz="Mars/Base")
    subscribe(fresh_db, "U8", "wind", user="U8", kind="dm", tz="Moon/Crater")
    clock.set(DUE + dt.timedelta(seconds=5))
    runner = make_runner(fresh_db, fake, clock)
    digests = DigestScheduler(runner)
    assert digests.build(catch_up=False) == 1  # C1 only: no crash
    assert {j.id for j in digests.jobs()} == {"digest:T1:C1"}
    (c7,) = fresh_db.subscriptions(TEAM, "C7")
    assert c7["paused_reason"] == "unknown time zone 'Mars/Base'"
    assert (
        fresh_db.subscriptions(TEAM, "U8")[0]["paused_reason"] == "unknown time zone 'Moon/Crater'"
    )
    assert "Mars/Base" in fake.posts("U7")[0]["text"]
    assert [r.status for r in digests.catch_up()] == ["posted"]
    # `/news list` in that channel shows why.
    from bot.core.service import Context, NewsService
    from bot.render.text import render

    service = NewsService(fresh_db, clock)
    shown = render(service.handle_text("list", Context(team_id=TEAM, channel_id="C7")), clock())
    assert "its time zone Mars/Base is not one I know" in shown


def test_newsbot_digest_says_a_digest_is_not_posted_yet(fresh_db: Store, fake: FakeSlack) -> None:
    """`newsbot digest` during an outage: exit 1, and the line says when it is tried again."""
    import argparse
    import io

    from bot.config import load_config
    from bot.digests.cli import cmd_digest

    config = load_config(
        env={
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_API_URL": fake.base_url,
            "NEWSBOT_DIGEST_RETRY_INLINE_SECONDS": "0",
        }
    )
    fake.script("chat.postMessage", Fail(503))
    args = argparse.Namespace(at="2024-05-02T08:00:30+00:00", channel=None, dry_run=False)
    out = io.StringIO()
    assert cmd_digest(args, fresh_db, lambda: DUE, config, out=out, err=io.StringIO()) == 1
    assert "C1, digest of Thu 2 May 2024 (08:00 UTC): not posted yet (HTTP 503" in out.getvalue()
    assert "trying again at Thu 2 May 2024 08:00:32 UTC" in out.getvalue()
    assert fresh_db.digest_run(TEAM, "C1", "2024-05-02")["state"] == "waiting"
    out = io.StringIO()
    args.at = "2024-05-02T08:01:00+00:00"
    assert cmd_digest(args, fresh_db, lambda: DUE, config, out=out, err=io.StringIO()) == 0
    assert "C1, digest of Thu 2 May 2024 (08:00 UTC): posted" in out.getvalue()
    assert len(digest_posts(fake, "C1")) == 1


def test_a_post_still_on_its_way_when_its_process_died_is_waited_for(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Found by the fault campaign (seed 31, trials 14 and 143): a process killed while its
    post was in flight; the next process, seeing it dead, took over at once, found nothing in
    the history, and posted; Slack then stored the first post too. Two digests."""
    from bot.core.owners import host_identity

    dead = f"{host_identity()}|999999999|dead"  # this machine, a PID that cannot be alive
    old = make_runner(fresh_db, fake, clock, Sleeps())
    old.owner = dead

    def die(_: float) -> None:
        raise Killed

    old.sleep = die
    fake.script("chat.postMessage", Fail(drop_before_store=True))
    with pytest.raises(Killed):
        old.run_channel(TEAM, "C1")
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")

    def slack_stores_it_late(_: float) -> None:  # the first post lands while we wait
        fake.messages["C1"].append(
            {
                "ts": f"{clock().timestamp():.6f}",
                "text": "late",
                "blocks": [],
                "metadata": {
                    "event_type": "news_digest",
                    "event_payload": {"date": "2024-05-02", "run_id": run["id"]},
                },
            }
        )

    sleeps = Sleeps(clock)
    sleeps.hooks.append(slack_stores_it_late)
    runner = make_runner(fresh_db, fake, clock, sleeps)
    result = runner.run_channel(TEAM, "C1")  # the owner is dead: taken over at once
    assert result.status == "adopted", result
    assert sleeps and sleeps[0] <= 15.0  # it waited for the post to settle, no longer
    assert len(digest_posts(fake, "C1")) == 1
    assert len(fresh_db.deliveries(TEAM, "C1")) == 2


@pytest.mark.parametrize("answer", ["answered", "lost"])
def test_a_post_sent_after_losing_the_lease_is_withdrawn(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, answer: str
) -> None:
    """Found by the fault campaign: a process frozen between the fence (the lease checked and
    the post recorded) and the send itself, past its lease. Nothing can fence that gap (Slack
    takes no token), so the late post, once answered, is withdrawn when the run turned out to
    be another's, which posted its own."""
    first = make_runner(fresh_db, fake, clock, Sleeps(clock))
    first.owner = OLD_HOST
    other = new_runner(fresh_db, fake, clock)
    taken: list[str] = []
    fired: list[bool] = []

    def frozen_before_the_send(call: object, kind: str | None) -> str | None:
        if not fired and getattr(call, "method", "") == "chat.postMessage":
            fired.append(True)
            clock.advance(minutes=11)  # frozen past the lease...
            taken.append(other.run_channel(TEAM, "C1").status)  # ... another takes over
            if answer == "lost":
                return "drop_after"  # stored, and the answer never comes back
        return kind

    fake.on_request = frozen_before_the_send
    result = first.run_channel(TEAM, "C1")
    fake.on_request = None
    assert taken == ["posted"]
    assert result.status == "busy", result
    if answer == "answered":
        assert "withdrawn" in (result.error or ""), result
    (kept,) = digest_posts(fake, "C1")
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "done" and run["message_ts"] == kept["ts"]
    (withdrawn,) = fake.deleted
    assert withdrawn["ts"] != kept["ts"]


@pytest.mark.parametrize("failures", [1, 3])
def test_a_late_post_is_withdrawn_even_when_the_first_look_for_it_fails(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock, failures: int
) -> None:
    """Found by the fault campaign (seed 26, trial 20): as above, the late post's answer
    lost, and then conversations.history answered 500 once: the process gave up looking and
    left the second digest standing. The look-up is a read: it is tried again."""
    first = make_runner(fresh_db, fake, clock, Sleeps(clock))
    first.owner = OLD_HOST
    other = new_runner(fresh_db, fake, clock)
    fired: list[bool] = []

    def frozen_before_the_send(call: object, kind: str | None) -> str | None:
        if not fired and getattr(call, "method", "") == "chat.postMessage":
            fired.append(True)
            clock.advance(minutes=11)  # frozen past the lease...
            assert other.run_channel(TEAM, "C1").status == "posted"  # ... another posts
            fake.script("conversations.history", *[Fail(500)] * failures)
            return "drop_after"  # ours is stored, and its answer never comes back
        return kind

    fake.on_request = frozen_before_the_send
    result = first.run_channel(TEAM, "C1")
    fake.on_request = None
    assert result.status == "busy", result
    (kept,) = digest_posts(fake, "C1")
    run = fresh_db.digest_run(TEAM, "C1", "2024-05-02")
    assert run["state"] == "done" and run["message_ts"] == kept["ts"]
    (withdrawn,) = fake.deleted
    assert withdrawn["ts"] != kept["ts"]


def test_a_holder_settling_its_own_post_prefers_it_to_a_late_one(
    fresh_db: Store, fake: FakeSlack, clock: FixedClock
) -> None:
    """Found by the fault campaign (seed 61, trial 193): the holder's post lost its answer,
    a frozen process's late post of the same date landed beside it, and the holder adopted
    that one by its date, leaving its own as a second digest. One history call, ours first."""
    for ts, mark in ((clock().timestamp() + 1, "late-one"), (clock().timestamp() + 2, "mine")):
        fake.messages["C1"].append(
            {
                "ts": f"{ts:.6f}",
                "text": "",
                "blocks": [],
                "metadata": {
                    "event_type": "news_digest",
                    "event_payload": {"date": "2024-05-02", "run_id": 1, "post": mark},
                },
            }
        )
    fake.messages["C1"].sort(key=lambda m: float(m["ts"]))
    runner = make_runner(fresh_db, fake, clock)
    run = {"post_started_at": None, "scheduled_for": DUE.isoformat()}
    day = DUE.date()
    late, mine = (m["ts"] for m in fake.messages["C1"])
    assert runner._find_posted("C1", day, run, prefer="late-one") == late
    assert runner._find_posted("C1", day, run, prefer="mine") == mine
    assert runner._find_posted("C1", day, run, prefer="gone") in (late, mine)
    assert len(fake.calls_to("conversations.history")) == 3
