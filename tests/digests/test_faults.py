"""The fault-injection suite, fast subset (issue 8, item 7; the long campaign: bench/faults.py).

The fake Slack's faults by chance do what they say; the oracle finds what it must (a duplicate,
a missing digest, a digest where none is due, a repeated story, an unlogged skip); then a few
randomized two-day trials of ``newsbot digest`` processes killed, frozen and run side by side
against a faulty Slack, and one ``newsbot serve`` killed while posting and restarted in a fresh
PID namespace, each checked by the oracle: exactly one digest per due conversation and date.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage.store import Store
from tests import faults as F
from tests.fakeslack import FAULT_KINDS, FakeSlack, Faults

SEED = 8
TRIALS = 8


@pytest.fixture
def bare() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def client(fake: FakeSlack) -> WebClient:
    c = WebClient(token=fake.bot_token, base_url=fake.base_url, timeout=5)
    c.retry_handlers = []  # see each answer as it comes
    return c


# -- the fake's faults ------------------------------------------------------------------------

# kind -> (the client sees, Slack stored the post)
SEEN = {
    "429": ("429", False),
    "5xx": ("5xx", False),
    "outage": ("503", False),
    "drop_before": ("dropped", False),
    "drop_after": ("dropped", True),
    "hang": ("ok", True),
    "hang_drop": ("dropped", True),
}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind(kind: str) -> None:
    fake = FakeSlack(
        faults=Faults({"chat.postMessage": {kind: 1.0}}, hang_seconds=(0.05, 0.1), statuses=(502,))
    )
    try:
        try:
            response = client(fake).chat_postMessage(channel="C1", text="hello")
            seen = "ok" if response["ok"] else "?"
        except SlackApiError as exc:
            status = exc.response.status_code
            seen = "429" if status == 429 else "503" if kind == "outage" else "5xx"
            if status == 429:
                assert exc.response.headers.get("Retry-After") == "1"
            assert status >= 429
        except ConnectionError:
            seen = "dropped"
        assert (seen, len(fake.posts("C1")) == 1) == SEEN[kind]
        assert fake.injected == {("chat.postMessage", kind): 1}
        assert [f.kind for f in fake.fault_log] == [kind]
        assert fake.wait_idle(5) and fake.in_flight == 0
    finally:
        fake.close()


def test_faults_are_seeded_counted_and_per_method(bare: FakeSlack) -> None:
    rates = {
        "chat.postMessage": {"5xx": 0.3, "429": 0.2},
        "conversations.history": {"drop_before": 0.5},
    }
    twins = [Faults(rates, seed=7), Faults(rates, seed=7)]
    draws = [[f.draw("chat.postMessage") for _ in range(50)] for f in twins]
    assert draws[0] == draws[1] and {d[0] for d in draws[0] if d} == {"5xx", "429"}
    assert Faults(rates, seed=7).draw("users.info") is None
    with pytest.raises(ValueError):
        Faults({"chat.postMessage": {"fire": 0.1}})
    with pytest.raises(ValueError):
        Faults({"chat.postMessage": {"5xx": 0.7, "429": 0.7}})
    bare.faults = Faults(rates, seed=3)
    c = client(bare)
    for _ in range(40):
        try:
            c.chat_postMessage(channel="C1", text="x")
        except SlackApiError:
            pass
    bare.faults = None
    assert sum(bare.injected.values()) == len(bare.fault_log) > 0
    assert bare.faults_by_kind()["5xx"] + bare.faults_by_kind()["429"] == len(bare.fault_log)
    assert len(bare.posts("C1")) == 40 - len(bare.fault_log)  # the others were not stored


def test_ts_are_slack_like_from_the_clock_unique_and_increasing() -> None:
    moment = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC).timestamp()
    fake = FakeSlack(clock=lambda: moment)
    try:
        c = client(fake)
        ts = [c.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(3)]
        assert ts == [f"{int(moment)}.{n:06d}" for n in range(3)]  # same instant: +1 µs each
        history = c.conversations_history(channel="C1", oldest=ts[0], latest="1e10")
        assert [m["ts"] for m in history["messages"]] == ts[:0:-1]  # newest first, bounds out
    finally:
        fake.close()


def test_on_request_sees_each_call_and_may_choose_its_fault(bare: FakeSlack) -> None:
    seen = []

    def hook(call, kind):  # type: ignore[no-untyped-def]
        seen.append((call.method, call.params.get("channel"), call.peer is not None, kind))
        return "5xx" if call.params.get("channel") == "C2" else kind

    bare.on_request = hook
    c = client(bare)
    c.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError):
        c.chat_postMessage(channel="C2", text="x")
    assert seen == [("chat.postMessage", "C1", True, None), ("chat.postMessage", "C2", True, None)]
    assert len(bare.posts()) == 1 and bare.injected == {("chat.postMessage", "5xx"): 1}


def test_chat_delete_removes_a_message_and_keeps_it_aside(bare: FakeSlack) -> None:
    c = client(bare)
    ts = [c.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(2)]
    assert c.chat_delete(channel="C1", ts=ts[0])["ok"]
    assert [m["ts"] for m in bare.posts("C1")] == ts[1:]
    assert [(m["channel"], m["ts"]) for m in bare.deleted] == [("C1", ts[0])]
    with pytest.raises(SlackApiError) as exc:
        c.chat_delete(channel="C1", ts=ts[0])
    assert exc.value.response["error"] == "message_not_found"


# -- the oracle ------------------------------------------------------------------------------


def test_the_oracle_finds_each_kind_of_failure(tmp_path: Path) -> None:
    """Plant a duplicate, a missing digest, a digest where none is due, a repeated story and an
    unlogged skip; a clean conversation passes."""
    rng = random.Random(1)
    moment = dt.datetime(2024, 5, 2, 8, 0, 30, tzinfo=dt.UTC)
    knobs = F.Knobs()
    convs = F.make_conversations(rng, moment, knobs, n_channels=5, n_dms=1)
    for c, category in zip(convs, ["due", "due", "due", "due", "not_yet", "due"], strict=True):
        assert c.category in ("due", "not_yet", "missed")
        c.category = category
        c.offset_min = -30 if category == "due" else 60
        local = (moment + dt.timedelta(minutes=c.offset_min)).astimezone(F.ZoneInfo(c.tz))
        c.hour, c.minute = local.hour, local.minute
    db = tmp_path / "news.db"
    store = Store(db)
    rows = F.make_articles(rng, moment, 1, 0, set())
    F.insert_articles(store, rng, rows)
    store.close()
    span = dt.timedelta(minutes=5)
    exps = [F.expectation(c, 1, moment, knobs.grace_hours, span) for c in convs]
    link = {r.topic: r for r in rows if r.id == r.story_id}
    fake = FakeSlack()
    try:
        c = client(fake)

        def post(conv: F.Conversation, day: dt.date, story_url: str) -> None:
            blocks = [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"• <{story_url}|A story>"}}
            ]
            c.chat_postMessage(
                channel=conv.post_to,
                text="digest",
                blocks=blocks,
                metadata={
                    "event_type": "news_digest",
                    "event_payload": {"date": day.isoformat(), "run_id": 1},
                },
            )

        e = {x.conv.channel_id: x for x in exps}
        a, b, dup, rep, skip, dm = convs
        url = link[a.topics[0]].url
        post(a, e[a.channel_id].local_date, url)  # right
        post(dm, e[dm.channel_id].local_date, url)  # right (a DM, in D<user>)
        # b: missing
        post(dup, e[dup.channel_id].local_date, url)
        post(dup, e[dup.channel_id].local_date, url)  # a duplicate
        post(rep, e[rep.channel_id].local_date, url)
        post(rep, e[rep.channel_id].local_date - dt.timedelta(days=1), url)  # story again,
        #                                                   on a date no day wanted
        post(skip, e[skip.channel_id].local_date, url)  # where none is due, and unlogged
        result = F.TrialResult(0, 0, moment)
        F.check(result, fake, db, exps, [], {1: moment.timestamp()})
    finally:
        fake.close()
    assert (
        result.duplicates,
        result.missing,
        result.unexpected,
        result.repeated,
        result.skips_unlogged,
        result.integrity,
    ) == (1, 1, 2, 1, 1, "ok")
    assert not result.ok and not result.errors
    flagged = {s.split(" ", 1)[0] for s in result.signatures}
    assert flagged == {b.channel_id, dup.channel_id, rep.channel_id, skip.channel_id}
    # logged and recorded, the skip passes
    conn = F.sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO digest_runs (team_id, channel_id, local_date, scheduled_for, "
            "state, attempts, post_attempts, created_at, updated_at) VALUES "
            "(?, ?, ?, ?, 'skipped', 0, 0, '', '')",
            (
                F.TEAM,
                skip.channel_id,
                e[skip.channel_id].local_date.isoformat(),
                e[skip.channel_id].due.isoformat(),
            ),
        )
    conn.close()
    fake = FakeSlack()
    try:
        again = F.TrialResult(0, 0, moment)
        line = F.SKIP_LINE.format(
            date=e[skip.channel_id].local_date, team=F.TEAM, channel=skip.channel_id
        )
        F.check(again, fake, db, [e[skip.channel_id]], [], {1: moment.timestamp()}, logs=line)
    finally:
        fake.close()
    assert again.ok, again.signatures


def test_a_trial_finds_stories_repeated_when_deliveries_are_forgotten() -> None:
    """The whole chain: with newsbot's delivery records wiped after day 1, day 2 repeats
    stories still in the 36 h window, and the oracle sees it in Slack's messages."""
    result = F.run_trial(
        0, SEED, F.Knobs(outage_chance=0.0, fault_rates=(0.0,)), sabotage="forget-deliveries"
    )
    assert result.repeated > 0 and not result.ok, result.line()
    assert (result.duplicates, result.missing, result.unexpected) == (0, 0, 0), result.line()


def test_conversations_cover_the_odd_zones_dms_and_every_category() -> None:
    rng = random.Random(2)
    knobs = F.Knobs()
    seen_zones, seen = set(), set()
    for _ in range(10):
        moment = F.pick_moment(rng)
        convs = F.make_conversations(rng, moment, knobs)
        assert 6 <= len(convs) <= 12 and 1 <= sum(c.kind == "dm" for c in convs) <= 3
        assert set(F.SPECIAL_ZONES) <= {c.tz for c in convs if c.kind == "channel"}
        for c in convs:
            seen_zones.add(c.tz)
            seen.add(c.category)
            for day in (1, 2):  # the same category both days
                exp = F.expectation(
                    c,
                    day,
                    moment + dt.timedelta(days=day - 1),
                    knobs.grace_hours,
                    dt.timedelta(minutes=15),
                )
                assert exp.post == (c.category == "due")
    assert seen == {"due", "not_yet", "missed"} and seen_zones == set(F.ALL_ZONES)


# -- trials ----------------------------------------------------------------------------------


def _report(results: list[F.TrialResult]) -> str:
    return "\n\n".join(r.line() + "\n" + "\n".join(r.signatures) for r in results if not r.ok)


def test_randomized_trials_one_digest_per_conversation_and_day() -> None:
    """A fixed seed's first trials: processes killed, frozen past the lease and run side by
    side, Slack failing by chance, two days; then the oracle."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: F.run_trial(i, SEED), range(TRIALS)))
    failed = [r for r in results if not r.ok]
    assert not failed, _report(results)
    assert sum(r.expected_posts for r in results) >= TRIALS * 4
    assert sum(r.expected_skips for r in results) >= TRIALS
    assert sum(sum(r.slack_faults.values()) for r in results) > 0


@pytest.mark.skipif(not F.unshare_works(), reason="needs unshare --pid (simulated in bench)")
def test_serve_killed_while_posting_restarted_in_a_fresh_pid_namespace() -> None:
    """The catch-up path: digests due minutes ago; ``newsbot serve`` killed while a post is in
    flight, restarted where it cannot prove the old process dead: its runs are taken over when
    their lease ends, each conversation gets its digest once."""
    result = F.run_serve_trial(0, SEED, catch_up=True, restart="fresh-ns")
    assert result.ok, _report([result])
    assert result.process_faults["serve kill mid"] == 1
    assert result.expected_posts >= 8


def test_faults_cli_help() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(F.REPO / "bench" / "faults.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "--serve-trials" in out.stdout
