"""Benchmark: one polling round over 1,000 feeds of 50 items each (issue 13, item 7).

A feed server of our own (``tests/fakefeeds.py``, real HTTP on 127.0.0.1) runs in a child
process, so the figures below are the poller's alone (its CPU, its memory), not the server's.
Each feed is RSS 2.0 generated from a template: distinct titles (synth's Zipf vocabulary),
links on the feed's own host, dates half an hour apart, an HTML excerpt, categories; one item
in ten is a syndicated wire story several feeds carry (same link, same title), as agencies'
stories are.

- **First round**: every source is new; every feed answers 200 with its body and an ETag, and
  all of them are taken in.
- **Measured round** (the clock moved on an hour, every source due again): half the feeds
  (the even ones) are unchanged and answer 304 to the stored ETag; the other half serve a
  changed body (``--new`` new items on top, as many old ones dropped at the bottom) with a
  new ETag.

A round goes through ``Poller.run_round`` as the scheduler's job does, with ``per_round`` the
number of feeds (the job takes 50 a round) and ``--concurrency`` fetches at once, into a real
SQLite file under bench/out/ (``allow_private`` on: the server is on loopback). Prints, per
round: wall and CPU time (process time of every thread), articles written, outcomes, the peak
RSS during the round (sampled from /proc every 20 ms) and ``ru_maxrss`` (the process's
high-water mark so far). Then both rounds run again on the same data with ``tracemalloc`` on
(it slows Python down, so those runs are not timed) for the peak of Python objects.
``--profile`` prints a cProfile of the measured round instead of the memory pass.
The round does not regroup the stories (the bot's ``stories-regroup`` job does, every few
minutes, and the round never waits for it): the bench runs that regroup after each round and
times it apart ("regroup" in the table; not in the round's wall or CPU). ``--skip-regroup``
leaves it out (the stories' pending notes stay).

Target: the measured round under 60 s and 300 MB. Not a test: prints figures only.

    python bench/poll.py [--feeds 1000] [--items 50] [--new 5] [--concurrency 8] [--seed 1]
        [--profile] [--no-trace]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import html
import io
import multiprocessing as mp
import os
import pstats
import random
import resource
import shutil
import sys
import threading
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import Corpus  # noqa: E402

import bot.feeds.poller as poller_module  # noqa: E402
from bot.feeds.fetch import FetchSettings  # noqa: E402
from bot.feeds.ingest import finish  # noqa: E402
from bot.feeds.poller import Poller, PollSettings, Round  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakefeeds import Answer, FakeFeeds  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_MB = 300.0
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LATER = START + dt.timedelta(hours=1)  # every source is due again (30 min +- 10%)
WIRE_EVERY = 10  # one item in ten is a wire story
WIRE_STORIES = 400  # distinct wire stories, each carried by several feeds
MB = 1024 * 1024


# -- the feeds (built in the server's process) -------------------------------------------------


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str
    published: dt.datetime
    excerpt: str
    categories: tuple[str, ...]


class Template:
    """Every feed's items, from the seed: feed ``i`` has ``items + new`` of them, oldest first;
    version 1 serves the first ``items``, version 2 the last ``items`` (``new`` new ones)."""

    def __init__(self, items: int, new: int, seed: int) -> None:
        self.items, self.new, self.seed = items, new, seed
        corpus = Corpus(1000, seed)
        self.vocab, self.cum = corpus.vocab, corpus.cum
        rng = random.Random(seed)
        self.wire = [self._headline(rng) for _ in range(WIRE_STORIES)]

    def _words(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def _headline(self, rng: random.Random) -> str:
        words = self._words(rng, rng.randint(6, 11))
        return " ".join(words).capitalize()

    def feed_items(self, i: int) -> list[Item]:
        rng = random.Random(self.seed * 1_000_003 + i)
        # how often the feed publishes: log-uniform from every 15 minutes (a wire, a big
        # outlet) to once a day (a blog)
        spacing = dt.timedelta(minutes=15 * 96 ** rng.random())
        total = self.items + self.new
        out = []
        for j in range(total):
            # item j of feed i: ``spacing`` apart before the first round; the new ones (the
            # last ``new``) within the hour between the rounds
            if j < self.items:
                published = START - spacing * (self.items - j) + dt.timedelta(minutes=i % 13)
            else:
                published = START + (j - self.items + 1) * (LATER - START) / (self.new + 1)
            if j % WIRE_EVERY == i % WIRE_EVERY:
                w = (i * 7 + j) % WIRE_STORIES
                title = self.wire[w]
                link = f"https://wire.example.net/stories/{w}-{title.split()[0].lower()}"
            else:
                title = f"{self._headline(rng)} ({i}-{j})"
                slug = "-".join(title.lower().split()[:6])
                link = f"https://news{i}.example.com/{published:%Y/%m}/{slug}-{j}?utm_source=rss"
            excerpt = " ".join(self._words(rng, rng.randint(25, 60)))
            out.append(
                Item(
                    title=title,
                    link=link,
                    guid=f"news{i}-item-{j}",
                    published=published,
                    excerpt=f'<p>{excerpt.capitalize()}. <a href="{link}">Read more</a></p>',
                    categories=tuple(self._words(rng, rng.randint(1, 3))),
                )
            )
        return out

    def body(self, i: int, version: int) -> bytes:
        items = self.feed_items(i)
        shown = items[: self.items] if version == 1 else items[-self.items :]
        return rss(i, list(reversed(shown)))  # newest first, as feeds list them


def rss(i: int, items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>News {i} Daily</title>\n<link>https://news{i}.example.com/</link>\n"
        f"<description>The latest from News {i}</description>\n<language>en-us</language>\n"
        f"<lastBuildDate>{_rfc822(items[0].published)}</lastBuildDate>\n"
        "<generator>bench/poll.py</generator>\n"
    ]
    for k, it in enumerate(items):
        excerpt = f"<![CDATA[{it.excerpt}]]>" if k % 2 else html.escape(it.excerpt, quote=False)
        cats = "".join(f"<category>{c}</category>" for c in it.categories)
        parts.append(
            f"<item>\n<title>{html.escape(it.title, quote=False)}</title>\n"
            f"<link>{html.escape(it.link)}</link>\n"
            f'<guid isPermaLink="false">{it.guid}</guid>\n'
            f"<pubDate>{_rfc822(it.published)}</pubDate>\n"
            f"<dc:creator>Staff {i % 17}</dc:creator>\n{cats}\n"
            f"<description>{excerpt}</description>\n</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode()


def _rfc822(when: dt.datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


def path(i: int) -> str:
    return f"/feeds/{i}.xml"


def serve(conn: Connection, feeds: int, items: int, new: int, seed: int) -> None:
    """The server's process: answers ``("version", v)`` by serving version ``v`` of every feed
    (version 2 changes the odd feeds only: the even ones keep their body and ETag, so they
    answer 304), then says "ready"; stops on "stop"."""
    template = Template(items, new, seed)
    server = FakeFeeds()
    conn.send(server.port)
    sizes: list[int] = []
    while True:
        command = conn.recv()
        if command == "stop":
            server.close()
            return
        _, version = command
        for i in range(feeds):
            v = 1 if i % 2 == 0 else version
            body = template.body(i, v)
            sizes.append(len(body))
            server.serve(path(i), Answer(body=body, etag=f'"n{i}-v{v}"'))
        server.requests.clear()  # the log is the server's, not worth its memory here
        conn.send(("ready", sum(sizes) // max(1, len(sizes))))
        sizes.clear()


# -- measuring -------------------------------------------------------------------------------


class PeakRSS:
    """The resident set's peak while running, sampled from /proc/self/statm."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRSS:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


@dataclass
class Figures:
    name: str
    wall: float
    cpu: float
    written: int  # articles added to the database
    new: int  # items the sources noted as new
    updated: int
    outcomes: Counter[str]
    steps: Counter[str]
    peak_rss: int
    max_rss: int  # ru_maxrss after the round (the process's high-water mark)
    traced: int | None = None  # tracemalloc's peak, filled in by the memory pass


class Stopwatch:
    """Wall time spent in the poller's steps that run on the calling thread: the parse, the
    writes, the regroup (with search_terms) at the end of the round. The fetches run on
    threads meanwhile: what the round spends waiting for them is the rest."""

    STEPS = {"parse_feed": "parse", "ingest": "write"}

    def __init__(self, skip_regroup: bool = False) -> None:
        self.spent: Counter[str] = Counter()
        self._originals = {name: getattr(poller_module, name) for name in self.STEPS}
        self._skip = skip_regroup

    def __enter__(self) -> Stopwatch:
        for name, step in self.STEPS.items():
            fn = self._originals[name]
            setattr(poller_module, name, self._timed(fn, step))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            setattr(poller_module, name, original)

    def _timed(self, fn: Any, step: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[step] += time.perf_counter() - start

        return timed


class Clock:
    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


def one_round(db: Path, when: dt.datetime, args: argparse.Namespace, name: str) -> Figures:
    store = Store(db)
    before = store.count_articles()
    settings = PollSettings(
        fetch=FetchSettings(allow_private=True),
        concurrency=args.concurrency,
        per_round=args.feeds,
    )
    poller = Poller(store, Clock(when), settings, rng=random.Random(args.seed))
    try:
        with PeakRSS() as peak, Stopwatch(args.skip_regroup) as watch:
            wall, cpu = time.perf_counter(), time.process_time()
            done: Round = poller.run_round()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            # The stories: the bot's regroup job does this after the round (bot.feeds.job),
            # timed apart from the round, which does not wait for it.
            regroup_start = time.perf_counter()
            if not args.skip_regroup:
                finish(store)
            watch.spent["regroup"] += time.perf_counter() - regroup_start
        written = store.count_articles() - before
    finally:
        poller.close()
        store.close()
    return Figures(
        name=name,
        wall=wall,
        cpu=cpu,
        written=written,
        new=done.new,
        updated=sum(p.updated for p in done.polled),
        outcomes=Counter(p.outcome for p in done.polled),
        steps=watch.spent,
        peak_rss=peak.peak,
        max_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )


def traced_round(db: Path, when: dt.datetime, args: argparse.Namespace) -> int:
    tracemalloc.reset_peak()
    one_round(db, when, args, "traced")
    return tracemalloc.get_traced_memory()[1]


def profiled_round(db: Path, when: dt.datetime, args: argparse.Namespace) -> str:
    profile = cProfile.Profile()
    profile.enable()
    one_round(db, when, args, "profiled")
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


def fresh_database(out: Path, args: argparse.Namespace, port: int) -> Path:
    db = out / f"poll-{args.feeds}x{args.items}-seed{args.seed}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    store = Store(db)
    for i in range(args.feeds):
        url = f"http://127.0.0.1:{port}{path(i)}"
        store.add_source("feed", url, ["news"], "bench", START, 1800)
    store.close()
    return db


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        s, d = Path(str(src) + suffix), Path(str(dst) + suffix)
        d.unlink(missing_ok=True)
        if s.exists():
            shutil.copyfile(s, d)


def mb(n: int) -> str:
    return f"{n / MB:.0f}"


def report(console: Console, rounds: list[Figures], args: argparse.Namespace) -> None:
    table = Table(
        title=f"One polling round: {args.feeds:,} feeds x {args.items} items, "
        f"concurrency {args.concurrency}" + (", regroup skipped" if args.skip_regroup else "")
    )
    for col in (
        "round",
        "wall s",
        "CPU s",
        "parse / write / regroup s",
        "articles written",
        "items new / updated",
        "outcomes",
        "peak RSS MB",
        "ru_maxrss MB",
        "tracemalloc peak MB",
    ):
        table.add_column(col, justify="left" if col in ("round", "outcomes") else "right")
    for f in rounds:
        ok = f.wall < TARGET_SECONDS and f.peak_rss < TARGET_MB * MB
        style = "green" if ok else "red"
        table.add_row(
            f.name,
            f"[{style}]{f.wall:.1f}[/]",
            f"{f.cpu:.1f}",
            " / ".join(f"{f.steps[k]:.1f}" for k in ("parse", "write", "regroup")),
            f"{f.written:,}",
            f"{f.new:,} / {f.updated:,}",
            ", ".join(f"{k} {v}" for k, v in sorted(f.outcomes.items())),
            f"[{style}]{mb(f.peak_rss)}[/]",
            mb(f.max_rss),
            "-" if f.traced is None else mb(f.traced),
        )
    console.print(table)
    measured = rounds[-1]
    if measured.wall < TARGET_SECONDS and measured.peak_rss < TARGET_MB * MB:
        console.print(
            f"[green]measured round under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB[/]"
        )
    else:
        console.print(f"[red]measured round over {TARGET_SECONDS:.0f} s or {TARGET_MB:.0f} MB[/]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50, help="items per feed")
    parser.add_argument("--new", type=int, default=5, help="new items in a changed feed")
    parser.add_argument("--concurrency", type=int, default=8, help="fetches at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "out"), help="where the database is kept")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured round")
    parser.add_argument(
        "--skip-regroup",
        action="store_true",
        help="leave out the regroup at the end of each round (the poll alone)",
    )
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    console = Console(width=150)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(
        target=serve, args=(child, args.feeds, args.items, args.new, args.seed), daemon=True
    )
    server.start()
    port = parent.recv()
    try:

        def version(v: int) -> int:
            parent.send(("version", v))
            _, size = parent.recv()
            return int(size)

        db = fresh_database(out, args, port)
        base = out / (db.name + ".sources")
        copy_db(db, base)
        size = version(1)
        console.print(
            f"{args.feeds:,} feeds on 127.0.0.1:{port}, ~{size / 1024:.0f} KiB each; database {db}"
        )
        first = one_round(db, START, args, "first (all new)")
        console.print(f"first round: {first.wall:.1f} s")
        version(2)
        if args.profile:
            after_first = out / (db.name + ".first")
            copy_db(db, after_first)
        measured = one_round(db, LATER, args, "measured (half 304)")
        rounds = [first, measured]
        if args.profile:
            copy_db(after_first, db)
            console.print(profiled_round(db, LATER, args), markup=False, highlight=False)
        elif not args.no_trace:
            with console.status("the same rounds again with tracemalloc on"):
                copy_db(base, db)
                version(1)
                tracemalloc.start()
                first.traced = traced_round(db, START, args)
                version(2)
                measured.traced = traced_round(db, LATER, args)
                tracemalloc.stop()
        report(console, rounds, args)
    finally:
        parent.send("stop")
        server.join(10)


if __name__ == "__main__":
    main()
