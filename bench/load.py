"""Benchmark: newsbot's loader against the floor of parsing YAML and inserting rows (issue 2).

Writes ``--files`` synthetic article files (bench/synth.py) to a temporary folder, then, in the
same run and on the same files:

- the floor: read each file, parse its front matter with PyYAML's C loader
  (``yaml.CSafeLoader``) and insert the article and its related entries as plain rows with a
  bare sqlite-utils ``insert_all`` into a fresh database;
- newsbot: ``Loader.load`` into a fresh newsbot database (canonical addresses, one article per
  address, story grouping, full-text index, a savepoint per file).

Prints articles per second for both and their ratio; the target is newsbot >= 0.7 x floor.
Then the story grouping's share of the load's CPU time (the loading process and its parse
workers; the target is under 15%), and the time of a full regroup (``newsbot regroup``) of
the loaded database, per 10,000 articles. ``--corpus DIR`` loads a real folder instead of
synthetic files (``--no-floor`` skips the floor); ``--realistic`` makes synthetic files like the
real ones (bench/synth.py). CPU time (this process and its parse workers) is printed beside the
wall time, and the CPU ratio (issue 15: >= 1.5 on the real corpus, >= 1.0 on --realistic). ``--profile`` also prints a cProfile of the
newsbot load. Not a test: prints figures only.

    python bench/load.py [--files 20000] [--seed 1] [--rounds 1] [--profile]
    python bench/load.py --corpus /work/corpus/azure/_news [--no-floor]
    python bench/load.py --files 3000 --realistic
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table
from sqlite_utils import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth import write_files

from bot.core.loader import Loader, LoadReport, iter_files
from bot.core.regroup import regroup
from storage.store import Store

TARGET = 0.7
CPU_TARGET = 1.5  # issue 15, on the real corpus (>= 1.0 on --realistic synthetic files)
GROUPING_SHARE = 0.15  # the grouping's CPU, at most, as a share of the load's


Run = tuple[int, float, float]  # articles read, wall seconds, CPU seconds (with children)


def floor(folder: Path, db_path: Path) -> Run:
    """YAML C loader + bare sqlite-utils insert_all: (articles, seconds, CPU seconds)."""
    start = time.perf_counter()
    cpu = Cpu()
    db = Database(db_path)

    def records():
        for path in iter_files([folder]):
            text = path.read_text(encoding="utf-8")
            front = text.split("\n---\n", 1)[0].removeprefix("---\n")
            data = yaml.load(front, Loader=yaml.CSafeLoader)
            related = data.pop("related", None) or []
            yield data
            yield from related

    db["articles"].insert_all(records(), alter=True, batch_size=200)
    count = db["articles"].count
    db.close()
    return count, time.perf_counter() - start, sum(cpu.since())


class Cpu:
    """CPU seconds of this process and of its children that ended (the parse workers)."""

    def __init__(self) -> None:
        self.own, self.children = time.process_time(), self._children()

    @staticmethod
    def _children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def since(self) -> tuple[float, float]:
        return time.process_time() - self.own, self._children() - self.children


LAST: dict[str, object] = {}  # the last newsbot load's report and CPU, for the grouping figures


def newsbot(folder: Path, db_path: Path, profile: cProfile.Profile | None) -> Run:
    start = time.perf_counter()
    cpu = Cpu()
    store = Store(db_path)
    loader = Loader(store)
    if profile:
        profile.enable()
    report = loader.load([folder])
    if profile:
        profile.disable()
    store.close()
    elapsed = time.perf_counter() - start
    used = cpu.since()
    LAST.update(report=report, cpu=used)
    if report.bad and not LAST.get("real"):
        raise SystemExit(f"bad files in the synthetic corpus: {report.bad[:3]}")
    return report.articles, elapsed, sum(used)


def grouping_figures(console: Console, db_path: Path) -> None:
    """The grouping's share of the last load's CPU, and a full regroup's time."""
    report = LAST["report"]
    own, children = LAST["cpu"]  # type: ignore[misc]
    assert isinstance(report, LoadReport) and report.grouping is not None
    grouping = report.grouping.cpu_seconds
    total = own + children
    verdict = "[green]met[/]" if grouping <= GROUPING_SHARE * total else "[red]NOT met[/]"
    console.print(
        f"grouping in the load: {grouping:.2f} s CPU of {total:.2f} s (this process "
        f"{own:.2f} s, parse workers {children:.2f} s) = {grouping / total:.1%} "
        f"(target < {GROUPING_SHARE:.0%}: {verdict}); {grouping / own:.1%} of this process's"
    )
    store = Store(db_path)
    try:
        again = regroup(store, full=True)
    finally:
        store.close()
    per_10k = again.seconds / max(1, again.articles) * 10_000
    console.print(
        f"newsbot regroup: {again.articles:,} articles in {again.seconds:.2f} s "
        f"({again.cpu_seconds:.2f} s CPU) = {per_10k:.1f} s per 10k articles; "
        f"{again.stories:,} stories of several articles, {again.changed} moved"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20000, help="files to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each; the best counts")
    parser.add_argument("--profile", action="store_true", help="cProfile the newsbot load")
    parser.add_argument("--corpus", type=Path, help="load this folder, not synthetic files")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor")
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="synthetic files like real ones: 30-150 related entries, repeated across files",
    )
    args = parser.parse_args()
    console = Console(width=130)

    work = Path(tempfile.mkdtemp(prefix="newsbot-bench-load-"))
    try:
        t0 = time.perf_counter()
        if args.corpus:
            folder = args.corpus
            paths = list(iter_files([folder]))
            LAST["real"] = True
        else:
            folder = work / "corpus"
            paths = write_files(folder, args.files, args.seed, args.realistic)
        size = sum(p.stat().st_size for p in paths)
        made = "found" if args.corpus else "generated"
        console.print(
            f"{made} {len(paths):,} files ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        for p in paths:  # warm the page cache for both contenders
            p.read_bytes()

        best_floor = best_bot = None
        profile = cProfile.Profile() if args.profile else None
        for r in range(args.rounds):
            for name in ("floor.db", "newsbot.db"):
                for suffix in ("", "-wal", "-shm"):
                    (work / (name + suffix)).unlink(missing_ok=True)
            f = (1, 1.0, 1.0) if args.no_floor else floor(folder, work / "floor.db")
            n = newsbot(folder, work / "newsbot.db", profile if r == 0 else None)
            best_floor = f if best_floor is None or f[1] < best_floor[1] else best_floor
            best_bot = n if best_bot is None or n[1] < best_bot[1] else best_bot

        store = Store(work / "newsbot.db")
        stored, stories = store.count_articles(), store.count_stories()
        store.close()
        assert best_floor and best_bot
        floor_rate = best_floor[0] / best_floor[1]
        bot_rate = best_bot[0] / best_bot[1]
        ratio = bot_rate / floor_rate
        floor_cpu_rate = best_floor[0] / best_floor[2]
        bot_cpu_rate = best_bot[0] / best_bot[2]
        cpu_ratio = bot_cpu_rate / floor_cpu_rate

        table = Table(title=f"Loading {len(paths):,} files (best of {args.rounds})")
        table.add_column("contender")
        table.add_column("articles read", justify="right")
        table.add_column("seconds", justify="right")
        table.add_column("articles/s", justify="right")
        table.add_column("CPU seconds", justify="right")
        table.add_column("articles/CPU s", justify="right")
        if not args.no_floor:
            table.add_row(
                "floor: CSafeLoader + sqlite-utils insert_all",
                f"{best_floor[0]:,}",
                f"{best_floor[1]:.2f}",
                f"{floor_rate:,.0f}",
                f"{best_floor[2]:.2f}",
                f"{floor_cpu_rate:,.0f}",
            )
        table.add_row(
            "newsbot Loader",
            f"{best_bot[0]:,}",
            f"{best_bot[1]:.2f}",
            f"{bot_rate:,.0f}",
            f"{best_bot[2]:.2f}",
            f"{bot_cpu_rate:,.0f}",
        )
        console.print(table)
        verdict = "[green]met[/]" if ratio >= TARGET else "[red]NOT met[/]"
        if not args.no_floor:
            console.print(f"ratio newsbot/floor = {ratio:.2f} (target >= {TARGET}: {verdict})")
            cpu_verdict = "[green]met[/]" if cpu_ratio >= CPU_TARGET else "[red]NOT met[/]"
            console.print(
                f"CPU ratio newsbot/floor (articles per CPU second, parse workers included) = "
                f"{cpu_ratio:.2f} (target >= {CPU_TARGET} on the real corpus: {cpu_verdict})"
            )
        console.print(f"newsbot stored {stored:,} articles in {stories:,} stories")
        grouping_figures(console, work / "newsbot.db")
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(35)
            console.print(out.getvalue(), markup=False, highlight=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
