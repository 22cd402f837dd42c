"""Benchmark: composing (and posting) the morning digests of 10,000 channels (issue 4).

Builds (or reuses, under bench/out/) a database of 100k synthetic articles (bench/synth.py,
through ``Store.insert_articles``) with 10k subscribed channels of 3 topics each, their digest
times spread over the last day of the corpus in a dozen time zones. Then, as the scheduler
would at each channel's time:

1. **compose**: ``Composer.compose`` for every channel, as of its due time (one composer, as
   in the bot: channels due at the same minute share the ranking of a topic), and the same for
   a sample with a fresh composer per channel (no sharing: the worst case);
2. **full job**: ``DigestRunner.run_channel`` for every channel: claim the run, compose,
   render Block Kit, ``chat.postMessage`` over HTTP to the fake Slack (tests/fakeslack.py, in a
   child process on 127.0.0.1 so its memory is not counted), record deliveries.

Prints per-channel ms (mean, p50, p99) and the process's peak memory (``ru_maxrss``, which
counts SQLite's page cache too). Target: compose under 5 ms per channel, under 300 MB (issue
15, item 2: p99 <= 5 ms at 1M articles).

``--db`` composes against an existing database of articles instead (e.g. bench/search.py's
1M one, never rebuilt nor written here): the channels and their subscriptions are made in
memory the same way (``Composer.compose(topics=...)``), their digests due on the corpus's last
full day; only the compose phases run. ``--profile`` adds where the slowest channels' time
goes: the topics they ranked first (a cache miss) and, for each, the window's matches, the
window query (``Store.match_window_except``: FTS5 match, highlight, JOIN; only the ids of
matches the composer's memo holds) and the rest of the ranking (BM25F, scores, collapsing to
stories), apart from the channel's own filtering (deliveries, mutes) and hydrating.
Not a test: prints figures only.

    python bench/digest.py [--articles 100000] [--channels 10000] [--sample 1000] [--rebuild]
    python bench/digest.py --db bench/out/search-1000000-seed1.db [--channels 10000] [--profile]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import multiprocessing
import random
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import PERCENT_WORD, STEP_SECONDS, TOPICS, article_rows  # noqa: E402

from bot.core import schedule  # noqa: E402
from bot.core.digest import Composer, DigestSettings  # noqa: E402
from storage.store import Store  # noqa: E402
from storage.subscriptions import topic_key  # noqa: E402

TARGET_MS = 5.0
TARGET_MB = 300.0
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",
]
FILES_PER_ARTICLE = 1 / 1.18  # a synthetic file brings ~1.18 articles (related entries)


def topic_pool(store: Store, rng: random.Random) -> list[str]:
    """Topics people would follow: the corpus's own (Power BI, Azure...), its 1% word, and
    words from its headlines, frequent to rare. The headlines are 3,000 articles ``rng``
    picks (SQLite's ``random()``, unseeded, gave each run other topics: runs were not
    comparable)."""
    ids = [r[0] for r in store.db.conn.execute("SELECT id FROM articles ORDER BY id")]
    picked = rng.sample(ids, min(3000, len(ids)))
    titles: dict[int, str] = {}
    for start in range(0, len(picked), 500):
        chunk = picked[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        titles.update(
            store.db.conn.execute(f"SELECT id, title FROM articles WHERE id IN ({marks})", chunk)
        )
    words: dict[str, None] = {}
    for title in (titles[i] for i in picked):
        for w in title.split():
            if len(w) > 4 and w.isalpha():
                words[w.lower()] = None
    pool = list(words)
    rng.shuffle(pool)
    return TOPICS + [PERCENT_WORD, "power apps"] + pool[:300]


def drawn_channels(
    store: Store, n_channels: int, seed: int
) -> Iterator[tuple[int, str, int, int, list[str]]]:
    """The bench's channels, drawn with the seeded rng: (number, zone, hour, minute, its 3
    topics in order). :func:`build` subscribes them, :func:`channels_in_memory` holds them in
    memory: the same channels either way."""
    rng = random.Random(seed)
    pool = topic_pool(store, rng)
    weights = [1 / (k + 1) ** 0.8 for k in range(len(pool))]  # popular topics are shared
    for c in range(n_channels):
        tz = ZONES[c % len(ZONES)]
        hour, minute = rng.choice((6, 7, 7, 8, 8, 8, 9, 10)), rng.choice((0, 0, 0, 30))
        topics: set[str] = set()
        while len(topics) < 3:
            topics.add(rng.choices(pool, weights)[0])
        yield c, tz, hour, minute, sorted(topics)


def build(path: Path, n_articles: int, n_channels: int, seed: int) -> dict[str, Any]:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    start = time.perf_counter()
    store = Store(path)
    files = int(n_articles * FILES_PER_ARTICLE) + 1000
    inserted = store.insert_articles(itertools.islice(article_rows(files, seed), n_articles))
    store.optimize()
    last_ts = store._scalar("SELECT max(published_ts) FROM articles")
    # The digests' day: the corpus's last full UTC day.
    day = (dt.datetime.fromtimestamp(last_ts, dt.UTC) - dt.timedelta(days=1)).date()
    subscribed = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with store.transaction():
        for c, tz, hour, minute, topics in drawn_channels(store, n_channels, seed):
            for topic in topics:
                store.subscribe(
                    "TBENCH",
                    f"C{c:05d}",
                    topic,
                    user_id=f"U{c % 997:04d}",
                    hour=hour,
                    minute=minute,
                    tz=tz,
                    now=subscribed,
                )
    store.close()
    meta = {
        "articles": inserted,
        "channels": n_channels,
        "seed": seed,
        "day": day.isoformat(),
        "build_seconds": round(time.perf_counter() - start, 1),
    }
    Path(str(path) + ".json").write_text(json.dumps(meta))
    return meta


def channels_in_memory(
    store: Store, n_channels: int, seed: int
) -> tuple[dt.date, list[tuple[str, dt.datetime, list[dict[str, Any]]]]]:
    """The digests' day (the corpus's last full UTC day) and ``n_channels`` channels as
    :func:`build` subscribes them (3 topics, a time, a zone), as (channel, due, subscription
    rows) in the order the scheduler would fire them; nothing is written."""
    last_ts = store._scalar("SELECT max(published_ts) FROM articles")
    day = (dt.datetime.fromtimestamp(last_ts, dt.UTC) - dt.timedelta(days=1)).date()
    out = []
    for c, tz, hour, minute, topics in drawn_channels(store, n_channels, seed):
        rows = [
            {"topic": t, "topic_key": topic_key(t), "tz": tz, "kind": "channel"} for t in topics
        ]
        out.append((f"C{c:05d}", schedule.due_at(day, hour, minute, tz), rows))
    out.sort(key=lambda ch: (ch[1], ch[0]))
    return day, out


@dataclass
class Miss:
    """One topic a channel ranked first (not in the composer's cache)."""

    topic: str
    matches: int  # the window's matches (at most bot.core.digest.WINDOW)
    scored: int  # of them read in full and scored anew (the rest: the composer's memo)
    sql_ms: float  # Store.match_window_except
    rank_ms: float  # all of Composer._rank, the query included


class Profiler:
    """Times each ``Composer._rank`` (a cache miss) of one composer, and the window query in
    it (``Store.match_window_except``: the window's ids, and the full rows of those the
    composer's :class:`bot.core.matches.MatchMemo` does not hold), by wrapping both on the
    instances (nothing else changes)."""

    def __init__(self, store: Store, composer: Composer) -> None:
        self.misses: list[Miss] = []
        self._sql = 0.0
        self._rows = self._scored = 0
        match_window, rank = store.match_window_except, composer._rank

        def timed_window(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            version, ids, rows = match_window(*args, **kwargs)
            self._sql += time.perf_counter() - t0
            self._rows, self._scored = len(ids), self._scored + len(rows)
            return version, ids, rows

        def timed_rank(topic: str, due_ts: int, depth: int | None) -> Any:
            self._sql, self._rows, self._scored = 0.0, 0, 0
            t0 = time.perf_counter()
            ranked = rank(topic, due_ts, depth)
            elapsed = time.perf_counter() - t0
            miss = Miss(topic, self._rows, self._scored, self._sql * 1000, elapsed * 1000)
            self.misses.append(miss)
            return ranked

        store.match_window_except = timed_window  # type: ignore[method-assign]
        composer._rank = timed_rank  # type: ignore[method-assign]

    def take(self) -> list[Miss]:
        taken, self.misses = self.misses, []
        return taken


def report_profile(channels: list[tuple[float, list[Miss]]]) -> None:
    """Where the slowest 1% of channels spent their time, against the channels that ranked
    nothing themselves."""
    ordered = sorted(channels, key=lambda c: -c[0])
    slow = ordered[: max(1, len(ordered) // 100)]
    hits = [ms for ms, misses in channels if not misses]
    missed = [m for _, misses in channels for m in misses]
    print(
        f"  channels that ranked no topic themselves: {len(hits):,}"
        + (f", p50 {pct(hits, 50):.2f} p99 {pct(hits, 99):.2f} ms" if hits else "")
    )
    print(
        f"  topics ranked (cache misses): {len(missed):,}, {sum(m.rank_ms for m in missed):,.0f}"
        f" ms in all, of which the window query {sum(m.sql_ms for m in missed):,.0f} ms; "
        f"matches scored anew {sum(m.scored for m in missed):,} of "
        f"{sum(m.matches for m in missed):,} (the rest from the memo); "
        f"windows full ({max((m.matches for m in missed), default=0)} rows): "
        f"{sum(1 for m in missed if m.matches >= max(m.matches for m in missed))}"
    )
    rank = sum(m.rank_ms for _, misses in slow for m in misses)
    sql = sum(m.sql_ms for _, misses in slow for m in misses)
    total = sum(ms for ms, _ in slow)
    print(
        f"  slowest 1% ({len(slow)} channels, {total:,.0f} ms): ranking {rank:,.0f} ms "
        f"(window query {sql:,.0f}, scoring {rank - sql:,.0f}), the rest (deliveries, "
        f"mutes, hydrating) {total - rank:,.0f} ms"
    )
    by_topic: dict[str, list[Miss]] = {}
    for _, misses in slow:
        worst = max(misses, key=lambda m: m.rank_ms, default=None)
        if worst is not None:
            by_topic.setdefault(worst.topic, []).append(worst)
    print(
        "  their costliest topic (channels, matches, scored anew, mean window query / ranking ms):"
    )
    for topic, ms in sorted(by_topic.items(), key=lambda kv: -len(kv[1]))[:12]:
        print(
            f"    {topic!r:<22} {len(ms):>4}  {statistics.fmean(m.matches for m in ms):6.0f}"
            f"  {statistics.fmean(m.scored for m in ms):6.0f}"
            f"  {statistics.fmean(m.sql_ms for m in ms):6.2f} / "
            f"{statistics.fmean(m.rank_ms for m in ms):6.2f}"
        )


def compose_existing(
    path: Path, n_channels: int, sample: int, seed: int, profile: bool = False
) -> None:
    """The compose phases against ``path`` (an existing database of articles), p50/p99 per
    channel against the target; with ``profile``, where the slowest channels' time goes."""
    store = Store(path)
    day, channels = channels_in_memory(store, n_channels, seed)
    print(
        f"{store.count_articles():,} articles in {path.name}, {len(channels):,} channels x 3 "
        f"topics (in memory), digests on {day} in {len(ZONES)} zones",
        flush=True,
    )
    settings = DigestSettings()
    phases = [("compose (shared composer)", channels, True)]
    phases.append(
        (
            "compose (fresh composer each)",
            random.Random(seed).sample(channels, min(sample, len(channels))),
            False,
        )
    )
    for name, chosen, shared in phases:
        composer = Composer(store, settings)
        profiler = Profiler(store, composer) if profile and shared else None
        profiled: list[tuple[float, list[Miss]]] = []
        times: list[float] = []
        entries = 0
        start = time.perf_counter()
        for channel, due, topics in chosen:
            if not shared:
                composer = Composer(store, settings)
            t0 = time.perf_counter()
            d = composer.compose("TBENCH", channel, due, topics=topics)
            times.append((time.perf_counter() - t0) * 1000)
            entries += len(d.entries)
            if profiler is not None:
                profiled.append((times[-1], profiler.take()))
        if profiler is not None:
            vars(store).pop("match_window_except", None)  # the store's own again
        # The target is the bot's: one composer shared by the channels (the scheduler's). A
        # composer per channel (as /news preview has) is the worst case, printed for scale.
        verdict = (
            f"p99 target {TARGET_MS:g} ms: " + ("met" if pct(times, 99) <= TARGET_MS else "NOT met")
            if shared
            else "the worst case, nothing shared (no target)"
        )
        print(
            line(name, times, time.perf_counter() - start)
            + f"  [{entries / len(chosen):.1f} stories/digest]  {verdict}",
            flush=True,
        )
        if profiled:
            report_profile(profiled)
            print(
                f"  the composer's memo holds {composer.memo.held:,} matches of "
                f"{len(composer.memo):,} topics (at most {composer.memo.max_rows:,})"
            )
    print(f"peak memory (ru_maxrss): {maxrss_mb():.0f} MB")
    store.close()


def pct(values: list[float], p: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[p - 1]
        if len(values) > 1
        else values[0]
    )


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def line(name: str, ms: list[float], wall: float) -> str:
    return (
        f"{name:<34} {len(ms):>6} channels  mean {statistics.fmean(ms):6.2f} ms  "
        f"p50 {pct(ms, 50):6.2f}  p99 {pct(ms, 99):6.2f}  total {wall:6.1f} s"
    )


def fake_slack_process(conn: Any) -> None:
    from tests.fakeslack import FakeSlack

    class CountingSlack(FakeSlack):
        """Validates every post as Slack would, keeps only a count (10k messages of blocks
        would otherwise fill this process for nothing)."""

        posted = 0

        def _serve(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
            body = super()._serve(method, p)
            if method == "chat.postMessage" and body.get("ok"):
                with self._lock:
                    self.messages.pop(p["channel"], None)
                    CountingSlack.posted += 1
            return body

    fake = CountingSlack()
    conn.send((fake.base_url, fake.bot_token))
    conn.recv()  # until told to stop
    conn.send(CountingSlack.posted)
    fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument(
        "--sample",
        type=int,
        default=1000,
        help="channels composed with a fresh composer each (no sharing)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "out"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-post", action="store_true", help="skip the full job phase")
    parser.add_argument(
        "--db", help="compose against this existing database of articles (nothing written)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="with --db: where the slowest channels' time goes (topics, query, scoring)",
    )
    args = parser.parse_args()
    if args.db:
        compose_existing(Path(args.db), args.channels, args.sample, args.seed, args.profile)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"digest-{args.articles}-{args.channels}-seed{args.seed}.db"
    meta_path = Path(str(path) + ".json")
    if args.rebuild or not path.exists() or not meta_path.exists():
        print(f"building {path.name} ...", flush=True)
        meta = build(path, args.articles, args.channels, args.seed)
        print(f"built in {meta['build_seconds']} s", flush=True)
    else:
        meta = json.loads(meta_path.read_text())
    # Work on a copy: the full job records runs and deliveries.
    work = out / "digest-work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    src = Store(path)
    src.db.conn.execute("VACUUM INTO ?", (str(work),))
    src.close()

    store = Store(work)
    day = dt.date.fromisoformat(meta["day"])
    channels = store.active_channels()
    due = {}
    for ch in channels:
        due[ch["channel_id"]] = schedule.due_at(day, ch["hour"], ch["minute"], ch["tz"])
    # In the order the scheduler would fire them.
    channels.sort(key=lambda ch: (due[ch["channel_id"]], ch["channel_id"]))
    settings = DigestSettings()
    window = store.db.conn.execute(
        "SELECT count(*) FROM articles WHERE published_ts > ?",
        (int(min(due.values()).timestamp() - settings.max_age_hours * 3600),),
    ).fetchone()[0]
    print(
        f"{store.count_articles():,} articles ({meta['articles']:,} built, one every "
        f"~{STEP_SECONDS} s), {len(channels):,} channels x 3 topics, digests on {day} "
        f"in {len(ZONES)} zones; ~{window:,} articles in the 36 h windows",
        flush=True,
    )
    subs = {
        ch["channel_id"]: store.active_subscriptions("TBENCH", ch["channel_id"]) for ch in channels
    }

    # 1. compose, shared composer (the bot's way).
    composer = Composer(store, settings)
    times: list[float] = []
    entries = 0
    start = time.perf_counter()
    for ch in channels:
        t0 = time.perf_counter()
        d = composer.compose(
            "TBENCH", ch["channel_id"], due[ch["channel_id"]], topics=subs[ch["channel_id"]]
        )
        times.append((time.perf_counter() - t0) * 1000)
        entries += len(d.entries)
    wall = time.perf_counter() - start
    print(
        line("compose (shared composer)", times, wall)
        + f"  [{entries / len(channels):.1f} stories/digest]",
        flush=True,
    )
    compose_mean = statistics.fmean(times)
    # 1b. compose, nothing shared.
    rng = random.Random(args.seed)
    sample = rng.sample(channels, min(args.sample, len(channels)))
    cold: list[float] = []
    start = time.perf_counter()
    for ch in sample:
        t0 = time.perf_counter()
        Composer(store, settings).compose(
            "TBENCH", ch["channel_id"], due[ch["channel_id"]], topics=subs[ch["channel_id"]]
        )
        cold.append((time.perf_counter() - t0) * 1000)
    print(line("compose (fresh composer each)", cold, time.perf_counter() - start), flush=True)
    print(f"peak memory after composing: {maxrss_mb():.0f} MB", flush=True)

    # 2. the full job, posting to the fake Slack over HTTP.
    if not args.no_post:
        from bot.digests.runner import DigestRunner, digest_client

        parent, child = multiprocessing.Pipe()
        proc = multiprocessing.get_context("spawn").Process(
            target=fake_slack_process, args=(child,), daemon=True
        )
        proc.start()
        base_url, token = parent.recv()
        clock_now = [dt.datetime.now(dt.UTC)]
        runner = DigestRunner(
            store, digest_client(token, base_url), settings, clock=lambda: clock_now[0]
        )
        full: list[float] = []
        statuses: dict[str, int] = {}
        start = time.perf_counter()
        for ch in channels:
            clock_now[0] = due[ch["channel_id"]] + dt.timedelta(seconds=5)
            t0 = time.perf_counter()
            result = runner.run_channel("TBENCH", ch["channel_id"])
            full.append((time.perf_counter() - t0) * 1000)
            statuses[result.status] = statuses.get(result.status, 0) + 1
        wall = time.perf_counter() - start
        parent.send("stop")
        posted = parent.recv()
        proc.join(10)
        print(
            line("full job (claim+compose+post+record)", full, wall)
            + f"  {statuses}, {posted} posts accepted by the fake",
            flush=True,
        )
    peak = maxrss_mb()
    print(f"peak memory (ru_maxrss): {peak:.0f} MB")
    ok_ms, ok_mb = compose_mean < TARGET_MS, peak < TARGET_MB
    print(
        f"target: compose < {TARGET_MS:g} ms per channel: "
        f"{'met' if ok_ms else 'NOT met'} ({compose_mean:.2f} ms); "
        f"memory < {TARGET_MB:g} MB: {'met' if ok_mb else 'NOT met'} ({peak:.0f} MB)"
    )
    store.close()


if __name__ == "__main__":
    main()
