"""The fault-injection campaign (issue 8): is there exactly one digest per conversation and day?

A *trial* builds a fresh database (a temporary folder) with 6-12 conversations: channels in
zones with odd offsets (Asia/Kathmandu +05:45, Pacific/Chatham +12:45, Pacific/Kiritimati +14,
Pacific/Pago_Pago -11) and ordinary ones (America/New_York, Europe/London, UTC), and 1-3 DM
follows (kind ``dm``, keyed by the user, posted in ``D<user>``). At the trial's moment T some are
due (within the grace period), some are not due yet, some were missed (due more than the grace
period ago). Articles: each topic has new stories each day, and some of day 1's stay in the 36 h
window on day 2 (so a lost delivery record would repeat them).

Each of two consecutive days (T, then T + 24 h, day 2's articles added first):

1. 1-3 ``newsbot digest`` processes at once (``--start-at``: a clock that starts at the trial's
   virtual moment and runs), with Slack faulty by chance (:class:`tests.fakeslack.Faults`: 429
   with Retry-After, 5xx, a connection dropped before or after the post is stored, hangs;
   sometimes an outage, 503 to every post for the first seconds) and each process killed
   (SIGKILL), frozen (SIGSTOP for longer than the lease, then SIGCONT; a takeover process is
   started once its lease is over) or left alone. A kill or freeze comes at a random moment,
   or to whichever process sends the day's k-th post (while Slack holds it, or just after),
   or in the Retry-After wait of a 429, or just after a process passed its lease check before a
   post (:func:`_run_fault_phase`);
2. clean reruns (no faults) until a rerun exits 0 with nothing due (bounded).

Then the *oracle*, from the fake Slack's stored messages (not from newsbot's records): exactly one
``news_digest`` message per due (conversation, local date); none where none is due; no story
twice in a conversation across the two days (the links in the posted blocks, mapped to
``articles.story_id``); every skip (due beyond the grace period) has a ``skipped`` run and a
logged "skipping the <date> digest of <team>/<channel>" line; ``PRAGMA integrity_check`` is ok.
A failure carries its signature: the conversation, the faults Slack injected on it, what
happened to each process, the posts found and the run's row; a duplicate is told apart by how
it came about (``DUPLICATE_KINDS``).

The *serve path* (:func:`run_serve_trial`): ``newsbot serve`` with conversations due at the next
whole minute of the real clock, killed (SIGKILL) just before, just after or while posting, and
restarted at once, in the same PID namespace (the dead owner is provably gone) or in a fresh one
(``unshare --pid --fork --mount-proc``: the old owner cannot be proven dead, its runs pass on only
when their lease ends); the oracle is the same. ``catch_up=True``: the conversations were due
minutes ago, so the start's catch-up posts them (no wait for a schedule).

Used by ``bench/faults.py`` (the long randomized campaign) and ``tests/digests/test_faults.py``
(a fast subset). Settings reach the processes through ``NEWSBOT_DIGEST_*`` variables: a small
lease (3 s) and small backoffs keep a trial to seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.store import Store, time_key
from tests.fakeslack import FAULT_KINDS, FakeSlack, Faults

REPO = Path(__file__).resolve().parents[1]
UTC = dt.UTC
TEAM = "T1"
SPECIAL_ZONES = ("Asia/Kathmandu", "Pacific/Chatham", "Pacific/Kiritimati", "Pacific/Pago_Pago")
OTHER_ZONES = ("America/New_York", "Europe/London", "UTC")
ALL_ZONES = SPECIAL_ZONES + OTHER_ZONES
TOPICS = ("solar", "rail", "vaccine", "drought", "chip")
WORDS = (
    "farm",
    "grid",
    "price",
    "plan",
    "deal",
    "test",
    "ban",
    "fund",
    "strike",
    "record",
    "study",
    "delay",
    "boom",
    "probe",
    "launch",
    "cut",
    "vote",
    "rise",
    "fall",
    "link",
)
OUTLETS = ("Reuters", "AP", "BBC", "Guardian", "Bloomberg", "Nikkei")
PROCESS_FAULTS = ("none", "kill", "freeze")
SKIP_LINE = "skipping the {date} digest of {team}/{channel}"
LINK = re.compile(r"<(https?://[^|>\s]+)\|")
CATEGORY_OFFSETS = {  # minutes from T to the day's due instant
    "due": (-100, -1),
    "not_yet": (20, 600),
    "missed": (-1200, -135),
}


# -- settings and clocks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Knobs:
    """The campaign's settings (and the environment they give the processes)."""

    lease_seconds: int = 3
    retry_base_seconds: float = 0.1
    retry_cap_seconds: float = 1.0
    retry_inline_seconds: float = 3.0
    post_settle_seconds: float = 2.5  # hangs end within 1.5 s: nothing lands later
    grace_hours: float = 2.0
    fault_rates: tuple[float, ...] = (0.1, 0.2, 0.35)  # P(a post gets a fault), one per trial
    outage_chance: float = 0.15  # P(a day begins with Slack down for posts)
    outage_seconds: tuple[float, float] = (1.0, 6.0)
    hang_seconds: tuple[float, float] = (0.3, 1.5)
    retry_after: int = 1
    process_timeout: float = 120.0
    max_reruns: int = 6

    def env(self) -> dict[str, str]:
        return {
            "NEWSBOT_DIGEST_LEASE_SECONDS": str(self.lease_seconds),
            "NEWSBOT_DIGEST_RETRY_BASE_SECONDS": str(self.retry_base_seconds),
            "NEWSBOT_DIGEST_RETRY_CAP_SECONDS": str(self.retry_cap_seconds),
            "NEWSBOT_DIGEST_RETRY_INLINE_SECONDS": str(self.retry_inline_seconds),
            "NEWSBOT_DIGEST_POST_SETTLE_SECONDS": str(self.post_settle_seconds),
            "NEWSBOT_DIGEST_GRACE_HOURS": str(self.grace_hours),
            "NEWSBOT_LOG_LEVEL": "INFO",
        }


class VirtualClock:
    """The trial's clock: a chosen moment, then real speed (as ``--start-at`` runs).

    Not the tests' ``FixedClock`` (tests/conftest.py), which stands still until a test moves
    it: a trial's ``newsbot`` processes run in real time (leases end, backoffs pass, processes
    are frozen and killed at real moments), each on a clock that starts at the moment it was
    handed (``--start-at``) and runs on. This clock runs alongside theirs (on the monotonic
    clock) so that the campaign, the fake Slack's message ts and the processes agree on the
    time; ``epoch_of`` reads it back at any past moment of the trial, across days.
    """

    def __init__(self, start: dt.datetime) -> None:
        self.set(start)

    def set(self, moment: dt.datetime) -> None:
        self._base, self._mono = moment, time.monotonic()
        self._segments = [*getattr(self, "_segments", []), (self._mono, moment.timestamp())]

    @property
    def origin(self) -> float:
        """The monotonic time at which the clock read the moment last set."""
        return self._mono

    def now(self) -> dt.datetime:
        return self._base + dt.timedelta(seconds=time.monotonic() - self._mono)

    def epoch_of(self, monotonic: float) -> float:
        """What this clock read (epoch seconds) at a monotonic time (of any day so far)."""
        mono, base = self._segments[0]
        for seg_mono, seg_base in self._segments:
            if seg_mono <= monotonic:
                mono, base = seg_mono, seg_base
        return base + monotonic - mono

    def epoch(self) -> float:
        return self.now().timestamp()


_start_lag: float | None = None


def start_lag() -> float:
    """How long a ``python -m bot.cli`` takes from spawn to reading its clock (imports): the
    ``--start-at`` moment handed to a process is moved ahead by this, so the processes' clocks
    and the fake Slack's agree to a fraction of a second."""
    global _start_lag
    if _start_lag is None:
        lags = []
        code = "import time; import bot.cli; print(time.monotonic())"
        for _ in range(3):
            began = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                timeout=60,
            )
            try:
                lags.append(float(out.stdout.strip()) - began)
            except ValueError:
                lags.append(0.5)
        _start_lag = sorted(lags)[1]
    return _start_lag


# -- the world of a trial --------------------------------------------------------------------


@dataclass
class Conversation:
    channel_id: str  # C... (a channel) or U... (a person's follows)
    kind: str  # channel, dm
    tz: str
    hour: int
    minute: int
    topics: list[str]
    category: str  # due, not_yet, missed (at T; the same at T + 24 h)
    offset_min: int  # its due instant relative to T, in minutes

    @property
    def post_to(self) -> str:
        return "D" + self.channel_id if self.kind == "dm" else self.channel_id

    def describe(self) -> str:
        return (
            f"{self.channel_id} ({self.kind}, {self.tz}, {self.hour:02d}:{self.minute:02d} "
            f"local, {self.category}: due T{self.offset_min:+d} min, topics "
            f"{'+'.join(self.topics)})"
        )


@dataclass
class Expectation:
    conv: Conversation
    day: int  # 1 or 2
    local_date: dt.date
    due: dt.datetime
    post: bool  # True: exactly one digest; False: none, and a logged skip


def expectation(
    conv: Conversation, day: int, moment: dt.datetime, grace_hours: float, span: dt.timedelta
) -> Expectation:
    """What the oracle wants of ``conv`` for a day run from ``moment`` for up to ``span``."""
    from bot.core import schedule

    date, due = schedule.last_due(moment, conv.hour, conv.minute, conv.tz)
    post = schedule.within_grace(due, moment, grace_hours)
    end = moment + span
    date2, due2 = schedule.last_due(end, conv.hour, conv.minute, conv.tz)
    if (date2, schedule.within_grace(due2, end, grace_hours)) != (date, post):
        raise ValueError(f"{conv.describe()}: its state changes within the trial")
    return Expectation(conv, day, date, due, post)


def _stable_offsets(moment: dt.datetime, zones: Iterable[str]) -> bool:
    """No zone changes its UTC offset from 2 days before to 3 days after ``moment``."""
    for name in zones:
        z = ZoneInfo(name)
        offsets = {
            (moment + dt.timedelta(hours=h)).astimezone(z).utcoffset() for h in range(-48, 73, 6)
        }
        if len(offsets) != 1:
            return False
    return True


def pick_moment(rng: random.Random) -> dt.datetime:
    """A moment in 2024-2026 with no DST change in any zone around it, seconds included."""
    while True:
        start = dt.datetime(2024, 1, 1, tzinfo=UTC)
        moment = start + dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        moment = moment.replace(microsecond=0)
        if _stable_offsets(moment, ALL_ZONES):
            return moment


def make_conversations(
    rng: random.Random,
    moment: dt.datetime,
    knobs: Knobs,
    n_channels: int | None = None,
    n_dms: int | None = None,
) -> list[Conversation]:
    n_dms = n_dms if n_dms is not None else rng.randint(1, 3)
    n_channels = (
        n_channels if n_channels is not None else rng.randint(max(4, 6 - n_dms), 12 - n_dms)
    )
    zones = list(SPECIAL_ZONES)
    rng.shuffle(zones)
    zones += [rng.choice(ALL_ZONES) for _ in range(max(0, n_channels - len(zones)))]
    convs: list[Conversation] = []
    categories = ["due"] * 6 + ["not_yet"] * 2 + ["missed"] * 2
    span = dt.timedelta(minutes=15)
    for n in range(n_channels + n_dms):
        kind = "channel" if n < n_channels else "dm"
        channel_id = f"C{n + 1:03d}" if kind == "channel" else f"U{n + 1:03d}"
        tz = zones[n] if kind == "channel" else rng.choice(ALL_ZONES)
        category = "due" if n < 2 else rng.choice(categories)  # at least two due
        lo, hi = CATEGORY_OFFSETS[category]
        while True:
            offset = rng.randint(lo, hi)
            due = (moment + dt.timedelta(minutes=offset)).replace(second=0)
            local = due.astimezone(ZoneInfo(tz))
            conv = Conversation(
                channel_id,
                kind,
                tz,
                local.hour,
                local.minute,
                rng.sample(TOPICS, rng.choice((1, 1, 2))),
                category,
                offset,
            )
            try:
                exp = expectation(conv, 1, moment, knobs.grace_hours, span)
                exp2 = expectation(conv, 2, moment + dt.timedelta(days=1), knobs.grace_hours, span)
            except ValueError:
                continue
            if exp.post == (category == "due") == exp2.post:
                break
        convs.append(conv)
    return convs


@dataclass
class ArticleRow:
    id: int
    url: str
    story_id: int
    topic: str
    published: dt.datetime
    day: int


def make_articles(
    rng: random.Random, moment: dt.datetime, day: int, trial: int, used: set[int]
) -> list[ArticleRow]:
    """Each topic's stories for ``day`` (published in the 30 h before that day's T, at least
    two of them before T - 3 h so every due digest has something new), some told by two
    outlets (another article of the same story, another link). ``used``: the article ids
    taken so far (ids are publication times)."""
    base = moment + dt.timedelta(days=day - 1)
    rows: list[ArticleRow] = []

    def article_id(when: dt.datetime) -> int:
        ts = int(when.timestamp())
        seq = 0
        while time_key(ts, seq) in used:
            seq += 1
        used.add(time_key(ts, seq))
        return time_key(ts, seq)

    for topic in TOPICS:
        n = rng.randint(4, 7)
        for k in range(n):
            hours = rng.uniform(3.2, 30) if k < 2 else rng.uniform(0.2, 30)
            when = (base - dt.timedelta(hours=hours)).replace(microsecond=0)
            lead = article_id(when)
            rows.append(
                ArticleRow(lead, f"https://news.example/t{trial}/{lead}", lead, topic, when, day)
            )
            if rng.random() < 0.3:  # the same story, another outlet, a bit later
                later = min(
                    base - dt.timedelta(minutes=5), when + dt.timedelta(minutes=rng.randint(5, 120))
                )
                other = article_id(later)
                rows.append(
                    ArticleRow(
                        other, f"https://news.example/t{trial}/{other}", lead, topic, later, day
                    )
                )
    return rows


def insert_articles(store: Store, rng: random.Random, rows: list[ArticleRow]) -> None:
    with store.transaction():
        for row in rows:
            provider = rng.choice(OUTLETS)
            title = (
                f"{row.topic.capitalize()} {rng.choice(WORDS)} {rng.choice(WORDS)} {row.id % 9973}"
            )
            store.insert_article(
                {
                    "id": row.id,
                    "url": row.url,
                    "web_url": row.url,
                    "title": title,
                    "excerpt": f"About {row.topic}.",
                    "provider": provider,
                    "domain": provider.lower() + ".example",
                    "published": row.published.isoformat(),
                    "published_ts": int(row.published.timestamp()),
                    "quality": rng.randint(50, 100),
                    "topics": json.dumps([row.topic]),
                    "story_id": row.story_id,
                }
            )


def subscribe_all(store: Store, convs: list[Conversation], at: dt.datetime) -> None:
    for conv in convs:
        for topic in conv.topics:
            store.subscribe(
                TEAM,
                conv.channel_id,
                topic,
                user_id=f"U9{conv.channel_id[1:]}" if conv.kind == "channel" else conv.channel_id,
                hour=conv.hour,
                minute=conv.minute,
                tz=conv.tz,
                now=at,
                kind=conv.kind,
            )


# -- processes -------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str  # p1.2 = day 1, process 2
    role: str  # fault, takeover, clean, serve
    fault: str  # none, kill, freeze (as planned)
    popen: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path
    started: float  # monotonic
    events: list[str] = field(default_factory=list)  # what was done to it, when
    marks: list[tuple[str, float]] = field(default_factory=list)  # (signal, monotonic time)
    applied: list[str] = field(default_factory=list)  # faults that landed on a live process

    def out(self) -> str:
        return self.out_path.read_text(errors="replace") if self.out_path.exists() else ""

    def err(self) -> str:
        return self.err_path.read_text(errors="replace") if self.err_path.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int, what: str, t0: float) -> bool:
        if not self.alive():
            self.events.append(f"{what} at +{time.monotonic() - t0:.2f}s: already exited")
            return False
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return False
        self.marks.append((signal.Signals(sig).name, time.monotonic()))
        self.events.append(
            f"{what} at +{time.monotonic() - t0:.2f}s "
            f"({time.monotonic() - self.started:.2f}s after its start)"
        )
        return True

    def stop(self) -> None:
        """Make sure it is gone (continued first, if frozen)."""
        if self.alive():
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass


def base_env(fake: FakeSlack, db: Path, knobs: Knobs) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSBOT_", "SLACK_")) and k != "PORT"
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_API_URL": fake.base_url,
            "NEWSBOT_DB": str(db),
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(knobs.env())
    return env


def spawn(cmd: list[str], env: dict[str, str], cwd: Path, name: str, role: str, fault: str) -> Proc:
    out, err = cwd / f"{name}.out", cwd / f"{name}.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        popen = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Proc(name, role, fault, popen, out, err, time.monotonic())


# -- results ---------------------------------------------------------------------------------


@dataclass
class TrialResult:
    index: int
    seed: int
    moment: dt.datetime
    path: str = "digest"  # digest, serve, serve-catch-up
    conversations: int = 0
    dms: int = 0
    processes: int = 0
    slack_faults: Counter[str] = field(default_factory=Counter)
    slack_faults_by_method: Counter[str] = field(default_factory=Counter)
    process_faults: Counter[str] = field(default_factory=Counter)
    expected_posts: int = 0
    expected_skips: int = 0
    duplicates: int = 0  # extra digests for a (conversation, date) that is due
    missing: int = 0  # due (conversation, date) without a digest
    unexpected: int = 0  # digests where none is due
    repeated: int = 0  # stories posted twice in a conversation
    skips_unlogged: int = 0  # expected skips without their run row or their log line
    integrity: str = ""
    unsettled: int = 0  # days whose clean reruns did not come to "nothing due"
    unrecorded: int = 0  # posted stories newsbot has no delivery for (diagnostic)
    withdrawn: int = 0  # digests posted, then deleted by newsbot (a duplicate seen for a while)
    duplicate_kinds: Counter[str] = field(default_factory=Counter)  # see DUPLICATE_KINDS
    run_states: Counter[str] = field(default_factory=Counter)  # final digest_runs states
    errors: list[str] = field(default_factory=list)  # the harness's own trouble
    signatures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return (
            not (
                self.duplicates
                or self.missing
                or self.unexpected
                or self.repeated
                or self.skips_unlogged
                or self.errors
            )
            and self.integrity == "ok"
        )

    def line(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.slack_faults.items())) or "-"
        procs = ", ".join(f"{k} {v}" for k, v in sorted(self.process_faults.items())) or "-"
        verdict = "ok" if self.ok else "FAIL"
        return (
            f"trial {self.index} [{self.path}] {verdict}: {self.conversations} conv "
            f"({self.dms} DM), {self.processes} proc, slack {faults}; process {procs}; "
            f"dup {self.duplicates} miss {self.missing} unexp {self.unexpected} "
            f"repeat {self.repeated} skip-unlogged {self.skips_unlogged} "
            f"integrity {self.integrity} {self.seconds:.1f}s"
            + (f" {self.note}" if self.note else "")
            + "".join(f"\n  error: {e}" for e in self.errors)
        )


# -- the oracle ------------------------------------------------------------------------------


def digest_messages(fake: FakeSlack, conversation: str) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.posts(conversation)
        if (m.get("metadata") or {}).get("event_type") == "news_digest"
    ]


def _payload(message: dict[str, Any]) -> dict[str, Any]:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = {}
    return payload


def message_links(message: dict[str, Any]) -> list[str]:
    return LINK.findall(json.dumps(message.get("blocks") or []).replace("\\/", "/"))


DUPLICATE_KINDS = {
    "A": "a killed process's post, held in Slack at the kill, landed after a takeover posted",
    "B": "a frozen process posted at once on waking (frozen between its lease check and the "
    "send), after a takeover posted",
    "?": "other",
}


def duplicate_kind(
    fake: FakeSlack,
    conv: Conversation,
    messages: list[dict[str, Any]],
    procs: list[Proc],
    to_epoch: Callable[[float], float],
) -> str:
    """Which known way two digests of one date came about (``DUPLICATE_KINDS``)."""
    marks = [(sig, to_epoch(t)) for p in procs for sig, t in p.marks]
    kills = [t for sig, t in marks if sig == "SIGKILL"]
    landed = [float(m["ts"]) for m in messages]
    for f in fake.fault_log:  # a held post that is one of these, its sender killed meanwhile
        if (
            f.method == "chat.postMessage"
            and f.channel == conv.post_to
            and f.kind in ("hang", "hang_drop")
        ):
            held = float(f.detail.split()[0]) if f.detail else 0.0
            if any(abs(t - f.at - held) < 0.1 for t in landed) and any(
                f.at - 0.05 <= k <= f.at + held + 0.05 for k in kills
            ):
                return "A"
    conts = [t for sig, t in marks if sig == "SIGCONT"]
    arrivals = [
        c.at
        for c in list(fake.calls)
        if c.method == "chat.postMessage" and c.params.get("channel") == conv.post_to
    ]
    if any(c <= t <= c + 0.5 for c in conts for t in arrivals):
        return "B"
    return "?"


def check(
    result: TrialResult,
    fake: FakeSlack,
    db: Path,
    expectations: list[Expectation],
    procs: list[Proc],
    t0s: dict[int, float],
    logs: str = "",
    to_epoch: Callable[[float], float] | None = None,
) -> None:
    """The oracle: fills ``result``'s counts and signatures from the fake's messages (and, for
    skips, the processes' logs and the database's runs). ``to_epoch``: a monotonic time as
    the fake's clock reads it (to tell how a duplicate came about)."""
    if to_epoch is None:
        offset = time.time() - time.monotonic()
        to_epoch = lambda m: m + offset  # noqa: E731
    logs = "\n".join([logs] + [p.err() + p.out() for p in procs])
    conn = sqlite3.connect(db)
    try:
        result.integrity = ";".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        story_of = {}
        for url, web_url, story in conn.execute("SELECT url, web_url, story_id FROM articles"):
            story_of[url] = story_of[web_url] = story
        runs = {
            (r[0], r[1]): r
            for r in conn.execute(
                "SELECT channel_id, local_date, state, attempts, post_attempts, claimed_by, "
                "message_ts, error, id FROM digest_runs WHERE team_id = ?",
                (TEAM,),
            )
        }
        delivered = defaultdict(set)
        for channel, story in conn.execute(
            "SELECT channel_id, story_id FROM deliveries WHERE team_id = ?", (TEAM,)
        ):
            delivered[channel].add(story)
    finally:
        conn.close()
    result.run_states = Counter(r[2] for r in runs.values())
    by_conv: dict[str, list[Expectation]] = defaultdict(list)
    for exp in expectations:
        by_conv[exp.conv.channel_id].append(exp)
    with fake._lock:
        deleted = [
            m for m in fake.deleted if (m.get("metadata") or {}).get("event_type") == "news_digest"
        ]
    for channel_id, exps in by_conv.items():
        conv = exps[0].conv
        result.withdrawn += sum(m["channel"] == conv.post_to for m in deleted)
        messages = digest_messages(fake, conv.post_to)
        by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in messages:
            by_date[str(_payload(m).get("date"))].append(m)
        problems: list[str] = []
        wanted = {e.local_date.isoformat(): e for e in exps}
        for date, exp in wanted.items():
            got = len(by_date.get(date, []))
            if exp.post:
                result.expected_posts += 1
                if got == 0:
                    result.missing += 1
                    problems.append(f"day {exp.day} {date}: MISSING (due {exp.due:%H:%M} UTC)")
                elif got > 1:
                    result.duplicates += got - 1
                    kind = duplicate_kind(fake, conv, by_date[date], procs, to_epoch)
                    result.duplicate_kinds[kind] += got - 1
                    problems.append(
                        f"day {exp.day} {date}: {got} DIGESTS (kind {kind}: "
                        f"{DUPLICATE_KINDS[kind]})"
                    )
            else:
                result.expected_skips += 1
                if got:
                    result.unexpected += got
                    problems.append(f"day {exp.day} {date}: {got} digest(s) where none is due")
                run = runs.get((channel_id, date))
                line = SKIP_LINE.format(date=date, team=TEAM, channel=channel_id)
                if run is None or run[2] != "skipped" or line not in logs:
                    result.skips_unlogged += 1
                    problems.append(
                        f"day {exp.day} {date}: skip not recorded/logged (run "
                        f"{run[2] if run else None}, line "
                        f"{'found' if line in logs else 'absent'})"
                    )
        for date, ms in by_date.items():
            if date not in wanted:
                result.unexpected += len(ms)
                problems.append(f"{len(ms)} digest(s) dated {date}, which no day wanted")
        # stories: never twice in a conversation (across dates, or within one post)
        seen: dict[int, str] = {}
        for date in sorted(by_date):
            stories_of_date: set[int] = set()
            for m in by_date[date][:1]:  # the extra copies are counted as duplicates
                for url in message_links(m):
                    story = story_of.get(url)
                    if story is None:
                        result.errors.append(f"{channel_id}: a link to no article: {url}")
                        continue
                    if story in stories_of_date or story in seen:
                        result.repeated += 1
                        problems.append(
                            f"story {story} posted again on {date} (first {seen.get(story, date)})"
                        )
                    stories_of_date.add(story)
                    seen.setdefault(story, date)
        unrecorded = set(seen) - delivered[channel_id]
        result.unrecorded += len(unrecorded)
        if problems:
            result.signatures.append(signature(conv, problems, fake, messages, runs, procs, t0s))


def signature(
    conv: Conversation,
    problems: list[str],
    fake: FakeSlack,
    messages: list[dict[str, Any]],
    runs: dict[tuple[str, str], Any],
    procs: list[Proc],
    t0s: dict[int, float],
) -> str:
    """Which conversation, what happened to it: enough to replay the failure by hand."""

    def rel(epoch: float) -> str:
        day = 2 if len(t0s) > 1 and epoch >= t0s[2] else 1
        return f"d{day}+{epoch - t0s[day]:.2f}s"

    lines = [f"{conv.describe()}: " + "; ".join(problems)]
    hits = [f for f in fake.fault_log if f.channel in (conv.post_to, conv.channel_id)]
    lines.append(
        "  slack faults: "
        + (
            ", ".join(
                f"{rel(f.at)} {f.method} {f.kind}{' ' + f.detail if f.detail else ''}" for f in hits
            )
            or "none"
        )
    )
    for m in messages:
        p = _payload(m)
        lines.append(
            f"  posted: ts {m['ts']} ({rel(float(m['ts']))}) date {p.get('date')} "
            f"run {p.get('run_id')}"
        )
    for (channel, date), run in sorted(runs.items()):
        if channel == conv.channel_id:
            lines.append(
                f"  run {date}: state {run[2]}, claims {run[3]}, posts {run[4]}, "
                f"owner {(run[5] or '-').rsplit('|', 2)[-2:]}, ts {run[6]}, "
                f"error {run[7]}"
            )
    for p in procs:
        mine = [
            ln
            for ln in (p.out() + p.err()).splitlines()
            if conv.channel_id in ln or conv.post_to in ln
        ]
        if mine or p.events:
            lines.append(
                f"  {p.name} ({p.role}, {p.fault}, rc {p.popen.returncode}): " + "; ".join(p.events)
            )
            lines.extend(f"    | {ln[:220]}" for ln in mine[:12])
    return "\n".join(lines)


# -- a digest trial --------------------------------------------------------------------------


def slack_faults(rng: random.Random, rate: float, knobs: Knobs) -> Faults:
    weights = {
        "429": 1.0,
        "5xx": 1.5,
        "drop_before": 1.0,
        "drop_after": 1.5,
        "hang": 1.0,
        "hang_drop": 1.0,
    }
    total = sum(weights.values())
    post = {k: rate * w / total for k, w in weights.items()}
    reads = {k: rate / 2 / 4 for k in ("429", "5xx", "drop_before", "hang")}
    opens = {k: rate / 2 / 3 for k in ("429", "5xx", "drop_before")}
    return Faults(
        {"chat.postMessage": post, "conversations.history": reads, "conversations.open": opens},
        seed=rng.randrange(2**32),
        retry_after=knobs.retry_after,
        hang_seconds=knobs.hang_seconds,
    )


def digest_cmd(moment: dt.datetime) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "--start-at", moment.isoformat(), "digest"]


def pid_of_peer(port: int, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` owns the TCP connection whose local port is ``port`` (the client end
    of a request the fake Slack is serving), read from /proc."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inode = parts[9]
                break
        if inode:
            break
    if not inode or inode == "0":
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Act:
    """A process fault of a fault phase: kill or freeze, when."""

    fault: str  # kill, freeze
    trigger: str  # time: process ``proc`` at ``at`` s after its start (imports done);
    #   fence: the process that has just passed the phase's ``k``-th lease check before a
    #   post (``post_attempts`` went up), before its request reaches Slack;
    #   post: whichever process sends the phase's ``k``-th post, while the post is in flight;
    #   after-post: the same, ``at`` s later; retry-after: a 429 forced on the phase's ``k``-th
    #   post, its sender frozen in the Retry-After wait
    proc: int = 0  # time: which process of the phase
    at: float = 0.0
    k: int = 1
    thaw: str = "time"  # freeze: "time" (after ``hold``) or "takeover" (when it has exited)
    hold: float = 0.0
    victim: Proc | None = None
    done: bool = False
    stopped_at: float | None = None
    continued: bool = False
    takeover: Proc | None = None


TRIGGERS = {
    "time": "at a random moment",
    "post": "post in flight",
    "after-post": "just after a post",
    "retry-after": "in a Retry-After wait",
    "fence": "between the lease check and the send",
}


def _acts(rng: random.Random, n: int, knobs: Knobs) -> list[Act]:
    acts = []
    for k in range(n):  # each process: 0-1 faults, at a random moment or at a post
        fault = rng.choices(PROCESS_FAULTS, weights=(4, 3, 3))[0]
        if fault == "none":
            continue
        trigger = rng.choice(
            ("time", "post", "after-post", "fence")
            if fault == "kill"
            else ("time", "post", "retry-after", "fence")
        )
        act = Act(
            fault,
            trigger,
            proc=k,
            at=rng.uniform(0.0, 0.25) if trigger == "after-post" else rng.uniform(0.0, 1.5),
        )
        if fault == "freeze":
            act.thaw = rng.choice(("time", "takeover"))
            act.hold = knobs.lease_seconds + rng.uniform(0.5, 1.5)
        acts.append(act)
    at_posts = [a for a in acts if a.trigger not in ("time", "fence")]
    for act, k in zip(at_posts, rng.sample((1, 2, 3, 4), len(at_posts)), strict=True):
        act.k = k  # distinct posts
    at_fences = [a for a in acts if a.trigger == "fence"]
    for act, k in zip(at_fences, rng.sample((1, 2, 3, 4), len(at_fences)), strict=True):
        act.k = k
    return acts


def _run_fault_phase(
    rng: random.Random,
    day: int,
    clock: VirtualClock,
    env: dict[str, str],
    work: Path,
    knobs: Knobs,
    procs: list[Proc],
    result: TrialResult,
    fake: FakeSlack,
) -> None:
    """1-3 processes at once; 0-3 kills or freezes: of a process at a random moment, or of
    whichever process sends the phase's k-th post (while it is in flight, or just after), or
    (frozen) in the wait after a 429. A frozen process's run is taken over by another process
    started once its lease is over; it is thawed after that one has exited, or after a while.
    Sometimes Slack is down (503 to every post) for the first seconds."""
    lag = start_lag()
    t0 = clock.origin  # the day's start: the fake's fault log counts from it too
    n = rng.choice((1, 2, 2, 3, 3))
    starts = sorted(rng.uniform(0, 0.3) for _ in range(n))
    acts = _acts(rng, n, knobs)
    lock = threading.RLock()
    deadline = t0 + knobs.process_timeout
    mine: list[Proc] = []  # this phase's processes, in start order
    posts = 0
    result.process_faults[f"{n} at once"] += 1
    outage = rng.random() < knobs.outage_chance
    outage_end = t0 + rng.uniform(*knobs.outage_seconds) if outage else 0.0
    if outage:
        result.slack_faults["outage windows"] += 1

    def count(what: str) -> None:
        result.process_faults[what] += 1

    def launch(name: str, role: str, fault: str) -> Proc:
        moment = clock.now() + dt.timedelta(seconds=lag)
        p = spawn(digest_cmd(moment), env, work, name, role, fault)
        p.events.append(f"started at +{time.monotonic() - t0:.2f}s")
        procs.append(p)
        result.processes += 1
        return p

    def apply(act: Act, how: str) -> None:
        with lock:
            if act.done or act.victim is None:
                return
            act.done = True
            sig = signal.SIGKILL if act.fault == "kill" else signal.SIGSTOP
            if act.victim.signal(
                sig, f"{'SIGKILL' if act.fault == 'kill' else 'SIGSTOP'} ({how})", t0
            ):
                count(f"{act.fault}: {TRIGGERS[act.trigger]}")
                if act.fault == "freeze":
                    act.stopped_at = time.monotonic()
            else:
                count(f"{act.fault}: exited first")

    def on_request(call: Any, kind: str | None) -> str | None:
        nonlocal posts
        if call.method != "chat.postMessage":
            return kind
        if time.monotonic() < outage_end:
            kind = "outage"
        with lock:
            posts += 1
            for act in acts:
                if act.trigger in ("time", "fence") or act.k != posts or act.done:
                    continue
                # any live process of the phase not killed or frozen already
                hit = {a.victim.popen.pid for a in acts if a.victim is not None and a.done}
                free = {
                    p.popen.pid: p
                    for p in mine + [a.takeover for a in acts if a.takeover]
                    if p.popen.pid not in hit and p.alive()
                }
                pid = pid_of_peer(call.peer[1], free) if call.peer and free else None
                if pid is None:
                    act.done = True
                    count(f"{act.fault}: not triggered (post {act.k} from no free process)")
                    continue
                act.victim = free[pid]
                act.victim.fault = act.fault
                how = f"{TRIGGERS[act.trigger]}: post {posts} of the phase"
                if act.trigger == "post":
                    apply(act, how)
                elif act.trigger == "after-post":
                    threading.Timer(
                        act.at, apply, (act, f"{act.at:.2f}s after post {posts}")
                    ).start()
                else:  # retry-after
                    threading.Timer(0.15, apply, (act, how)).start()
                    kind = "429"
        return kind

    def watch_fences() -> None:
        """Poll the runs (every millisecond) for a lease check passed before a post, and
        freeze or kill its owner before the request is out."""
        conn = sqlite3.connect(f"file:{env['NEWSBOT_DB']}?mode=ro", uri=True, timeout=1)
        seen: dict[int, int] = {}
        fences = 0
        first = True
        try:
            while not watching.is_set() and any(a.trigger == "fence" and not a.done for a in acts):
                try:
                    rows = conn.execute(
                        "SELECT id, claimed_by, post_attempts FROM digest_runs"
                    ).fetchall()
                except sqlite3.Error:
                    time.sleep(0.001)
                    continue
                for run_id, owner, attempts in rows:
                    before = seen.get(run_id, attempts if first else 0)
                    seen[run_id] = attempts
                    if attempts <= before or not owner:
                        continue
                    fences += 1
                    pid_text = owner.split("|")[-2] if owner.count("|") >= 2 else ""
                    with lock:
                        for act in acts:
                            if act.trigger != "fence" or act.done or act.k != fences:
                                continue
                            every = mine + [a.takeover for a in acts if a.takeover]
                            victim = next(
                                (p for p in every if str(p.popen.pid) == pid_text and p.alive()),
                                None,
                            )
                            if victim is None or any(a.victim is victim and a.done for a in acts):
                                act.done = True
                                count(
                                    f"{act.fault}: not triggered (fence {fences} of no "
                                    "free process)"
                                )
                                continue
                            act.victim = victim
                            victim.fault = act.fault
                            apply(act, f"{TRIGGERS['fence']}: lease check {fences} of the phase")
                first = False
                time.sleep(0.0005)
        finally:
            conn.close()

    watching = threading.Event()
    watcher = threading.Thread(target=watch_fences, daemon=True)
    fake.on_request = on_request
    try:
        if any(a.trigger == "fence" for a in acts):
            watcher.start()
        while True:
            now = time.monotonic()
            with lock:
                while len(mine) < n and now >= t0 + starts[len(mine)]:
                    mine.append(launch(f"d{day}p{len(mine) + 1}", "fault", "none"))
                for act in acts:
                    if act.trigger == "time" and act.victim is None and act.proc < len(mine):
                        act.victim = mine[act.proc]
                        act.victim.fault = act.fault
                    v = act.victim
                    if (
                        act.trigger == "time"
                        and v is not None
                        and not act.done
                        and now >= v.started + lag + act.at
                    ):
                        apply(act, TRIGGERS["time"])
                    if act.stopped_at is None or v is None:
                        continue
                    if (
                        act.takeover is None
                        and now >= act.stopped_at + knobs.lease_seconds + 0.3 - lag
                    ):
                        act.takeover = launch(f"d{day}t{len(procs) + 1}", "takeover", "none")
                    tk = act.takeover
                    if not act.continued and (
                        now >= act.stopped_at + act.hold + (5.0 if act.thaw == "takeover" else 0.0)
                        or (act.thaw == "takeover" and tk is not None and not tk.alive())
                    ):
                        act.continued = True
                        v.signal(signal.SIGCONT, "SIGCONT", t0)
                if (
                    len(mine) == n
                    and not any(p.alive() for p in mine)
                    and all(a.continued or a.stopped_at is None for a in acts)
                    and all(a.takeover is None or not a.takeover.alive() for a in acts)
                    and all(a.stopped_at is None or a.takeover is not None for a in acts)
                ):
                    break
            if now > deadline:
                for p in mine + [a.takeover for a in acts if a.takeover is not None]:
                    if p.alive():
                        result.errors.append(
                            f"{p.name} still running after {knobs.process_timeout:.0f}s: killed"
                        )
                        p.stop()
                break
            time.sleep(0.01)
        for act in acts:
            if not act.done:
                count(
                    f"{act.fault}: not triggered (fewer lease checks)"
                    if act.trigger == "fence"
                    else f"{act.fault}: not triggered (only {posts} posts)"
                    if act.trigger != "time"
                    else f"{act.fault}: exited first"
                )
    finally:
        fake.on_request = None
        watching.set()
        if watcher.is_alive():
            watcher.join(5)


def _settled(db: Path, exps: list[Expectation]) -> bool:
    """Whether every expectation of the day has a finished run (nothing left to do)."""
    conn = sqlite3.connect(db)
    try:
        for exp in exps:
            row = conn.execute(
                "SELECT state FROM digest_runs WHERE team_id = ? AND "
                "channel_id = ? AND local_date = ?",
                (TEAM, exp.conv.channel_id, exp.local_date.isoformat()),
            ).fetchone()
            final = ("done", "empty", "paused") if exp.post else ("skipped",)
            if row is None or row[0] not in final:
                return False
        return True
    finally:
        conn.close()


def _clean_reruns(
    day: int,
    clock: VirtualClock,
    env: dict[str, str],
    work: Path,
    knobs: Knobs,
    procs: list[Proc],
    exps: list[Expectation],
    result: TrialResult,
) -> None:
    lag = start_lag()
    for k in range(knobs.max_reruns):
        moment = clock.now() + dt.timedelta(seconds=lag)
        p = spawn(digest_cmd(moment), env, work, f"d{day}r{k + 1}", "clean", "none")
        procs.append(p)
        try:
            p.popen.wait(knobs.process_timeout)
        except subprocess.TimeoutExpired:
            result.errors.append(f"{p.name} (a clean rerun) hung: killed")
            p.stop()
            continue
        out = p.out()
        if p.popen.returncode == 0 and (
            "No digest is due" in out
            or (
                not re.search(r"another newsbot process|: failed", out)
                and _settled(Path(env["NEWSBOT_DB"]), exps)
            )
        ):
            return
        if "another newsbot process" in out:  # a lease still held: it ends by time
            time.sleep(knobs.lease_seconds + 0.3)
        elif "not posted yet" in out:  # a post that may still land, or a backoff: it ends by time
            time.sleep(max(knobs.post_settle_seconds, knobs.retry_cap_seconds) + 0.3)
    result.unsettled += 1
    result.errors.append(f"day {day}: {knobs.max_reruns} clean reruns did not settle")


# What a sabotage deletes after day 1. Delivery records: the deliveries, and every article of
# a delivered story (delivered_articles, migration 7: what counts a story as sent to a
# conversation); a table the code under test does not have yet is left out.
SABOTAGE = {
    "forget-deliveries": ("deliveries", "delivered_articles"),
    "forget-runs": ("digest_runs",),
}


def _forget(db: Path, tables: tuple[str, ...]) -> None:
    conn = sqlite3.connect(db)
    try:
        with conn:
            have = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            for table in tables:
                if table in have:
                    conn.execute(f"DELETE FROM {table}")
    finally:
        conn.close()


def run_trial(
    index: int,
    seed: int,
    knobs: Knobs = Knobs(),
    *,
    keep: Path | None = None,
    keep_all: bool = False,
    sabotage: str | None = None,
) -> TrialResult:
    """One randomized trial over two days (see the module docstring). ``sabotage`` (to check
    the oracle): ``forget-deliveries`` deletes newsbot's delivery records after day 1 (day 2
    repeats stories), ``forget-runs`` deletes day 1's runs (the day is posted again): see
    ``SABOTAGE``."""
    rng = random.Random(f"{seed}:{index}")
    moment = pick_moment(rng)
    result = TrialResult(index, seed, moment)
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"faults-{index}-"))
    clock = VirtualClock(moment)
    fake = FakeSlack(clock=clock.epoch)
    procs: list[Proc] = []
    t0s: dict[int, float] = {}
    try:
        db = work / "news.db"
        used: set[int] = set()
        convs = make_conversations(rng, moment, knobs)
        result.conversations = len(convs)
        result.dms = sum(c.kind == "dm" for c in convs)
        for c in convs:
            if c.kind == "dm":
                fake.add_user(c.channel_id, tz=c.tz)
        store = Store(db)
        try:
            subscribe_all(store, convs, moment - dt.timedelta(days=3))
            insert_articles(store, rng, make_articles(rng, moment, 1, index, used))
        finally:
            store.close()
        env = base_env(fake, db, knobs)
        start_lag()  # measured once, before any clock starts
        rate = rng.choice(knobs.fault_rates)
        result.note = f"fault rate {rate:.2f}"
        expectations: list[Expectation] = []
        for day in (1, 2):
            day_moment = moment + dt.timedelta(days=day - 1)
            if day == 2:
                store = Store(db)
                try:
                    insert_articles(store, rng, make_articles(rng, moment, 2, index, used))
                finally:
                    store.close()
                if sabotage:
                    _forget(db, SABOTAGE[sabotage])
            clock.set(day_moment)
            t0s[day] = clock.epoch()
            exps = [
                expectation(c, day, day_moment, knobs.grace_hours, dt.timedelta(minutes=15))
                for c in convs
            ]
            expectations.extend(exps)
            fake.faults = slack_faults(rng, rate, knobs)
            try:
                _run_fault_phase(rng, day, clock, env, work, knobs, procs, result, fake)
            finally:
                fake.faults = None
            if not fake.wait_idle(30):
                result.errors.append(f"day {day}: Slack requests still held after 30 s")
            phase = time.monotonic() - clock.origin
            _clean_reruns(day, clock, env, work, knobs, procs, exps, result)
            result.note += f", d{day} {phase:.1f}s+{time.monotonic() - clock.origin - phase:.1f}s"
        for (method, kind), count in fake.injected.items():
            result.slack_faults[kind] += count
            result.slack_faults_by_method[f"{method} {kind}"] += count
        check(result, fake, db, expectations, procs, t0s, to_epoch=clock.epoch_of)
        for p in procs:
            if p.popen.returncode not in (0, 1, -signal.SIGKILL) and p.role != "serve":
                result.errors.append(
                    f"{p.name} exited {p.popen.returncode}: {p.err().strip().splitlines()[-1:]}"
                )
    except Exception as exc:  # the harness's own failure: reported, not raised
        import traceback

        result.errors.append(f"harness: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        for p in procs:
            p.stop()
        fake.close()
        result.seconds = time.monotonic() - began
        if keep is not None and (keep_all or not result.ok):
            dest = keep / f"trial-{seed}-{index}"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(work, dest)
            (dest / "signature.txt").write_text(
                result.line() + "\n\n" + "\n\n".join(result.signatures) + "\n"
            )
        shutil.rmtree(work, ignore_errors=True)
    return result


# -- the serve path --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(port: int) -> bool:
    """Whether ``newsbot serve`` answers ``GET /healthz`` on ``port``."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return (
            subprocess.run(
                ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true"],
                capture_output=True,
                timeout=20,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def serve_conversations(
    rng: random.Random, due_at: dt.datetime, knobs: Knobs, catch_up: bool
) -> list[Conversation]:
    """Conversations in every zone: most due at ``due_at`` (a whole minute of the real clock),
    or (``catch_up``) a few minutes before it; some due half an hour earlier (the start's
    catch-up posts them); some not due yet; some missed."""
    zones = list(SPECIAL_ZONES) + list(OTHER_ZONES)
    convs = []
    plan = ["due"] * 7 + ["early", "not_yet", "missed"] + ["dm-due", "dm-due", "dm-not_yet"]
    for n, what in enumerate(plan):
        kind = "dm" if what.startswith("dm-") else "channel"
        category = what.removeprefix("dm-")
        tz = zones[n % len(zones)] if kind == "channel" else rng.choice(ALL_ZONES)
        offset = {"due": 0, "early": -30, "not_yet": 45, "missed": -200}[category]
        if catch_up and category == "due":
            offset = -rng.randint(1, 10)
        due = due_at + dt.timedelta(minutes=offset)
        local = due.astimezone(ZoneInfo(tz))
        channel_id = f"C{n + 1:03d}" if kind == "channel" else f"U{n + 1:03d}"
        convs.append(
            Conversation(
                channel_id,
                kind,
                tz,
                local.hour,
                local.minute,
                rng.sample(TOPICS, rng.choice((1, 2))),
                "due" if category == "early" else category,
                offset,
            )
        )
    return convs


def run_serve_trial(
    index: int,
    seed: int,
    knobs: Knobs = Knobs(),
    *,
    kill: str = "mid",
    restart: str = "fresh-ns",
    catch_up: bool = False,
    settle: float | None = None,
    keep: Path | None = None,
) -> TrialResult:
    """``newsbot serve`` killed around its digests' moment and restarted (module docstring).

    ``kill``: ``before`` (2 s before the due minute), ``after`` (0.3 s after it), ``mid`` (once
    the first post of the due minute has reached Slack); ``restart``: ``same-ns`` or
    ``fresh-ns`` (``unshare --pid --fork --mount-proc``; without it, ``fresh-ns`` is simulated:
    the dead bot's open runs are given another host's owner identity before the restart, so
    that it cannot be proven dead either). The bot starts 5-20 s before the due minute (this
    waits for it: up to a minute and a half). ``catch_up``: due minutes ago instead (no wait:
    the start's catch-up posts them).
    """
    rng = random.Random(f"serve:{seed}:{index}")
    began = time.monotonic()
    now = dt.datetime.now(UTC)
    lead = rng.uniform(5, 20)  # the bot starts this long before the due minute
    if catch_up:
        due_at = now.replace(second=0, microsecond=0)
        kill = "mid"
    else:  # the first whole minute with room for the set-up and the lead
        due_at = (now + dt.timedelta(seconds=lead + 5 + 59.999)).replace(second=0, microsecond=0)
    result = TrialResult(index, seed, due_at, path="serve-catch-up" if catch_up else "serve")
    result.note = f"kill {kill}, restart {restart}"
    work = Path(tempfile.mkdtemp(prefix=f"serve-{index}-"))
    # Slack as it is on a busy morning: every post takes a while, some fail.
    fake = FakeSlack(
        faults=Faults(
            {"chat.postMessage": {"hang": 0.75, "5xx": 0.1, "drop_after": 0.05}},
            seed=rng.randrange(2**32),
            hang_seconds=(0.2, 0.6),
            retry_after=knobs.retry_after,
        )
    )
    procs: list[Proc] = []
    try:
        db = work / "news.db"
        convs = serve_conversations(rng, due_at, knobs, catch_up)
        result.conversations, result.dms = len(convs), sum(c.kind == "dm" for c in convs)
        for c in convs:
            if c.kind == "dm":
                fake.add_user(c.channel_id, tz=c.tz)
        store = Store(db)
        try:
            subscribe_all(store, convs, due_at - dt.timedelta(days=2))
            insert_articles(store, rng, make_articles(rng, due_at, 1, index, set()))
        finally:
            store.close()
        env = base_env(fake, db, knobs)
        env["SLACK_SIGNING_SECRET"] = "fault-trial-secret"
        span = dt.timedelta(minutes=5)
        # what is due is judged at the due minute (the bot starts a few seconds before it)
        expectations = [
            expectation(c, 1, max(due_at, now) + dt.timedelta(seconds=1), knobs.grace_hours, span)
            for c in convs
        ]
        # the conversations of the due minute (catch_up: of the last minutes)
        due_now = [c for c in convs if c.category == "due" and c.offset_min > -30]

        ports: dict[str, int] = {}

        def serve(name: str, fresh: bool) -> Proc:
            ports[name] = free_port()
            cmd = [
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports[name]),
            ]
            if fresh and unshare_works():
                cmd = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *cmd]
            elif fresh:  # simulated: the dead owner ran elsewhere (another host, same PID)
                conn = sqlite3.connect(db)
                with conn:
                    conn.execute(
                        "UPDATE digest_runs SET claimed_by = 'another-host|pid:[1]|' "
                        "|| substr(claimed_by, instr(claimed_by, '|') + 1) WHERE "
                        "state IN ('running', 'posting') AND claimed_by IS NOT NULL"
                    )
                conn.close()
            p = spawn(cmd, env, work, name, "serve", "kill" if name == "s1" else "none")
            procs.append(p)
            result.processes += 1
            return p

        if not catch_up:  # wait for the moment to start the bot
            _wait_for(lambda: dt.datetime.now(UTC) >= due_at - dt.timedelta(seconds=lead), 90, 0.05)
            result.note += f", started {lead:.0f}s before the due minute"
        first = serve("s1", False)
        t0 = time.monotonic()
        if (
            not _wait_for(lambda: healthy(ports["s1"]) or not first.alive(), 60, 0.1)
            or not first.alive()
        ):
            raise RuntimeError(f"serve did not start: {first.err()[-500:]}")

        def posts_to(targets: list[Conversation]) -> int:
            return sum(len(digest_messages(fake, c.post_to)) for c in targets)

        wall = lambda: dt.datetime.now(UTC)  # noqa: E731
        if kill == "before":
            _wait_for(lambda: wall() >= due_at - dt.timedelta(seconds=2), 120)
        elif kill == "after":
            _wait_for(lambda: wall() >= due_at + dt.timedelta(seconds=0.3), 120)
        else:  # while a post of the due minute is in flight (its Slack request held)
            in_flight = threading.Event()
            targets = {c.post_to for c in due_now}
            seen = 0

            def on_request(call: Any, kind: str | None) -> str | None:
                nonlocal seen
                if call.method == "chat.postMessage" and call.params.get("channel") in targets:
                    seen += 1
                    if seen == 2 and not in_flight.is_set():
                        first.signal(
                            signal.SIGKILL, "kill (post 2 of the due minute in flight)", t0
                        )
                        in_flight.set()
                        return "hang"  # Slack finishes it: stored, the answer goes nowhere
                return kind

            fake.on_request = on_request
            if not in_flight.wait(120 + (due_at - wall()).total_seconds()):
                result.errors.append("no post of the due minute arrived before the kill")
            fake.on_request = None
        if first.alive():
            first.signal(signal.SIGKILL, "kill", t0)
        result.process_faults[f"serve kill {kill}"] += 1
        first.popen.wait(10)
        posted_before = posts_to(convs)
        fresh = restart == "fresh-ns"
        second = serve("s2", fresh)
        result.process_faults[
            f"restart {'fresh PID namespace' if fresh else 'same namespace'}"
            + ("" if not fresh or unshare_works() else " (simulated)")
        ] += 1
        if (
            not _wait_for(lambda: healthy(ports["s2"]) or not second.alive(), 60, 0.1)
            or not second.alive()
        ):
            raise RuntimeError(f"the restart did not start: {second.err()[-500:]}")
        want = [e for e in expectations if e.post]
        # The restarted bot catches up: at once, or when the dead owner's lease ends.
        limit = knobs.lease_seconds + knobs.retry_inline_seconds + 60
        _wait_for(lambda: all(digest_messages(fake, e.conv.post_to) for e in want), limit, 0.2)

        def open_runs() -> int:
            conn = sqlite3.connect(db)
            try:
                return conn.execute(
                    "SELECT count(*) FROM digest_runs WHERE state IN "
                    "('running', 'posting', 'waiting')"
                ).fetchone()[0]
            finally:
                conn.close()

        # ... and records what it posted (or adopted): no run left open
        if not _wait_for(lambda: open_runs() == 0, limit, 0.2):
            result.unsettled += 1
        time.sleep(settle if settle is not None else knobs.lease_seconds + 2)  # late copies
        fake.wait_idle(30)
        result.note += f", {posted_before} posted before the kill"
        second.signal(signal.SIGKILL, "stop", t0)  # (PID 1 of a namespace ignores SIGTERM)
        second.popen.wait(10)
        for (method, kind), count in fake.injected.items():
            result.slack_faults[kind] += count
            result.slack_faults_by_method[f"{method} {kind}"] += count
        due_epoch = due_at.timestamp()
        check(result, fake, db, expectations, procs, {1: due_epoch})
    except Exception as exc:
        import traceback

        result.errors.append(f"harness: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    finally:
        for p in procs:
            p.stop()
        fake.close()
        result.seconds = time.monotonic() - began
        if keep is not None and not result.ok:
            dest = keep / f"serve-{seed}-{index}"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(work, dest)
            (dest / "signature.txt").write_text(
                result.line() + "\n\n" + "\n\n".join(result.signatures) + "\n"
            )
        shutil.rmtree(work, ignore_errors=True)
    return result


# -- a campaign ------------------------------------------------------------------------------


@dataclass
class Campaign:
    results: list[TrialResult] = field(default_factory=list)

    def add(self, result: TrialResult) -> None:
        self.results.append(result)

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.results)

    def counter(self, name: str) -> Counter[str]:
        out: Counter[str] = Counter()
        for r in self.results:
            out.update(getattr(r, name))
        return out

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def table(self, title: str) -> str:
        rs = self.results
        rows: list[tuple[str, str]] = [
            (
                "trials",
                f"{len(rs)} ({sum(r.ok for r in rs)} ok, {sum(not r.ok for r in rs)} failed)",
            ),
            ("conversations", f"{self.total('conversations')} ({self.total('dms')} DM follows)"),
            ("processes", str(self.total("processes"))),
        ]
        faults = self.counter("slack_faults")
        for kind in FAULT_KINDS:
            rows.append((f"slack fault: {kind}", str(faults.get(kind, 0))))
        rows.append(("slack outage windows", str(faults.get("outage windows", 0))))
        for kind, n in sorted(self.counter("process_faults").items()):
            rows.append((f"process: {kind}", str(n)))
        rows += [
            ("digests due (conv x date)", str(self.total("expected_posts"))),
            ("duplicates", str(self.total("duplicates"))),
            *(
                (f"  duplicates of kind {k}", f"{n}: {DUPLICATE_KINDS[k]}")
                for k, n in sorted(self.counter("duplicate_kinds").items())
            ),
            ("missing", str(self.total("missing"))),
            ("digests where none due", str(self.total("unexpected"))),
            ("stories repeated", str(self.total("repeated"))),
            ("skips expected", str(self.total("expected_skips"))),
            ("skips not recorded+logged", str(self.total("skips_unlogged"))),
            ("integrity_check not ok", str(sum(r.integrity != "ok" for r in rs))),
            ("not settled at the end", str(self.total("unsettled"))),
            ("posted, no delivery row", str(self.total("unrecorded"))),
            ("duplicates withdrawn (chat.delete)", str(self.total("withdrawn"))),
            ("harness errors", str(sum(len(r.errors) for r in rs))),
            (
                "final run states",
                ", ".join(f"{k} {v}" for k, v in sorted(self.counter("run_states").items())),
            ),
        ]
        secs = [r.seconds for r in rs] or [0.0]
        rows.append(("seconds per trial", f"mean {sum(secs) / len(secs):.1f}, max {max(secs):.1f}"))
        width = max(len(k) for k, _ in rows)
        lines = [title, "-" * len(title)]
        lines += [f"{k:<{width}}  {v}" for k, v in rows]
        return "\n".join(lines)
