"""Bench: one prune of a year of digest history (storage.housekeeping).

Fills a new database with ``--days`` days of daily digests for ``--channels`` channels, each
delivering ``--stories`` stories (13, what a digest holds on average) of ``--members``
articles, written straight as rows (no Slack, no composing); then prunes as the housekeeping
job does with ``digest.keep_days`` = ``--keep-days`` and checkpoints the WAL. Prints rows
before and after, the prune's seconds, its batches and the longest one (how long the write
lock was held at most), and the file's and the WAL's sizes before, after the prune and after
the checkpoint. The file does not shrink: freed pages are reused by what comes next (a VACUUM
would give them back, and rewrite the whole file)::

    python bench/prune.py --channels 1000 --days 365
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.housekeeping import PRUNE_BATCH
from storage.store import Store

NOW = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)


def fill(store: Store, channels: int, days: int, stories: int, members: int) -> None:
    """A digest a day per channel, oldest first (run ids grow with time, as in use)."""
    conn = store.db.conn
    run_id = 0
    for d in range(days, 0, -1):
        due = NOW - dt.timedelta(days=d, hours=1)
        stamp = due.isoformat(timespec="seconds")
        runs, deliveries, articles = [], [], []
        for c in range(channels):
            run_id += 1
            channel = f"C{c:05d}"
            runs.append((run_id, "T1", channel, due.date().isoformat(), stamp, stamp, stamp))
            for s in range(stories):
                story = run_id * stories + s
                deliveries.append(("T1", channel, story, story, "topic", run_id, stamp))
                for m in range(members):
                    articles.append(("T1", channel, story * members + m, run_id))
        with store.transaction():
            conn.executemany(
                "INSERT INTO digest_runs (id, team_id, channel_id, local_date, scheduled_for, "
                "state, attempts, post_attempts, created_at, updated_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, 'done', 1, 1, ?, ?, NULL)",
                runs,
            )
            conn.executemany(
                "INSERT INTO deliveries (team_id, channel_id, story_id, article_id, topic_key, "
                "run_id, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                deliveries,
            )
            conn.executemany(
                "INSERT INTO delivered_articles (team_id, channel_id, article_id, run_id) "
                "VALUES (?, ?, ?, ?)",
                articles,
            )


def counts(store: Store) -> dict[str, int]:
    return {
        t: int(store._scalar(f"SELECT count(*) FROM {t}"))
        for t in ("digest_runs", "deliveries", "delivered_articles")
    }


def sizes(path: str) -> str:
    def mib(p: str) -> str:
        return f"{os.path.getsize(p) / 2**20:.1f} MiB" if os.path.exists(p) else "0"

    return f"file {mib(path)}, WAL {mib(path + '-wal')}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--channels", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--stories", type=int, default=13)
    ap.add_argument("--members", type=int, default=1, help="articles per delivered story")
    ap.add_argument("--keep-days", type=int, default=14)
    ap.add_argument("--batch", type=int, default=PRUNE_BATCH)
    ap.add_argument("--db", help="the database to fill (default: a temporary file)")
    args = ap.parse_args()

    folder = tempfile.mkdtemp(prefix="newsbot-prune-")
    path = args.db or os.path.join(folder, "prune.db")
    store = Store(path)
    began = time.perf_counter()
    fill(store, args.channels, args.days, args.stories, args.members)
    store.checkpoint_wal()
    print(
        f"filled {args.channels} channels x {args.days} days x {args.stories} stories "
        f"({args.members} article(s) each) in {time.perf_counter() - began:.1f} s"
    )
    before = counts(store)
    print(f"before: {before}; {sizes(path)}")
    report = store.prune_digest_history(NOW - dt.timedelta(days=args.keep_days), batch=args.batch)
    after = counts(store)
    print(f"after:  {after}; {sizes(path)} (before the checkpoint)")
    print(
        f"prune: {report.rows:,} rows in {report.seconds:.2f} s, {report.batches} batches of "
        f"<= {args.batch} rows, longest batch {report.largest_batch_seconds * 1000:.1f} ms, "
        f"mean {report.seconds / max(report.batches, 1) * 1000:.1f} ms"
    )
    started = time.perf_counter()
    cp = store.checkpoint_wal()
    print(
        f"checkpoint: busy={cp.busy} in {time.perf_counter() - started:.2f} s; {sizes(path)}; "
        f"free pages {store._scalar('PRAGMA freelist_count'):,}"
    )
    again = store.prune_digest_history(NOW - dt.timedelta(days=args.keep_days))
    print(f"a second prune: {again.rows} rows in {again.seconds:.3f} s")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
