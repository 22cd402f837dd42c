"""Benchmark: digest jobs beside a load (issue 8, item 4). Prints figures; not a test.

A running bot and a ``newsbot load`` share one SQLite file. This measures what a load does to
the digest jobs: the same jobs (claim, compose, post over HTTP to the fake Slack on
127.0.0.1, record) run first alone, then while ``newsbot load PATH`` runs in another process
on the same database. It prints, for each phase: jobs per second, job time p50 / p99 / max,
and how many jobs did not end ``posted`` (a "database is locked" would show there); and the
load's own time, alone and beside the jobs.

    python bench/contention.py PATH [--channels 3000] [--seconds 20]

PATH: article files (e.g. the azure corpus's ``_news`` folder). Nothing is kept: the
databases live in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.core.digest import DigestSettings  # noqa: E402
from bot.digests.runner import DigestRunner, digest_client  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402

UTC = dt.UTC
DUE = dt.datetime(2021, 6, 1, 8, 0, tzinfo=UTC)


def load(db: Path, path: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEWSBOT_DB": str(db), "PYTHONPATH": str(HERE.parent)}
    env.pop("NEWSBOT_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "load", path],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def jobs(
    runner: DigestRunner,
    channels: list[str],
    seconds: float,
    until: subprocess.Popen[bytes] | None = None,
) -> tuple[list[float], int, int]:
    """Run channels' jobs one after another for ``seconds`` (or while ``until`` runs)."""
    times: list[float] = []
    bad = 0
    start = time.monotonic()
    for channel in channels:
        if time.monotonic() - start > seconds or (until is not None and until.poll() is not None):
            break
        began = time.perf_counter()
        result = runner.run_channel("T1", channel, now=DUE + dt.timedelta(seconds=30))
        times.append(time.perf_counter() - began)
        if result.status != "posted":
            bad += 1
            print(f"  {result.line()}", file=sys.stderr)
    return times, bad, len(times)


def report(name: str, times: list[float], bad: int) -> None:
    if not times:
        print(f"{name:28} no jobs ran")
        return
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    rate = len(ms) / (sum(times) or 1)
    print(
        f"{name:28} {len(ms):6d} jobs  {rate:7.1f}/s  p50 {statistics.median(ms):7.1f} ms  "
        f"p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms  not posted: {bad}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--channels", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    fake = FakeSlack(clock=lambda: DUE.timestamp() + 30)
    with tempfile.TemporaryDirectory() as tmp:
        alone_db = Path(tmp) / "alone.db"
        began = time.monotonic()
        load(alone_db, args.path).wait()
        load_alone = time.monotonic() - began

        db = Path(tmp) / "news.db"
        store = Store(db)
        channels = [f"C{n}" for n in range(args.channels * 2)]
        with store.transaction():
            for channel in channels:
                store.subscribe(
                    "T1",
                    channel,
                    "azure",
                    user_id="U1",
                    hour=8,
                    minute=0,
                    tz="UTC",
                    now=DUE - dt.timedelta(days=1),
                )
        runner = DigestRunner(
            store,
            digest_client(fake.bot_token, fake.base_url),
            DigestSettings(post_when_empty=True),
        )
        first, second = channels[: args.channels], channels[args.channels :]
        times, bad, _ = jobs(runner, first, args.seconds)
        began = time.monotonic()
        loading = load(db, args.path)
        during, bad_during, _ = jobs(runner, second, 1e9, until=loading)
        loading.wait()
        load_beside = time.monotonic() - began
        print(f"digest jobs (claim, compose, post over HTTP, record), {args.path}:")
        report("alone", times, bad)
        report("beside newsbot load", during, bad_during)
        print(
            f"newsbot load: {load_alone:.1f} s alone, {load_beside:.1f} s beside the jobs "
            f"(exit {loading.returncode})"
        )
        store.close()
    fake.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
