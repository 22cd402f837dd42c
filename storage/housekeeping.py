"""Bounded growth: SQL that prunes digest history, checkpoints the WAL, and measures the file.
Part of :class:`Store`.

Every digest adds a run (``digest_runs``), a row per story it shows (``deliveries``, ~13) and
a row per article of those stories (``delivered_articles``, what "never a story twice" reads:
``DigestsMixin.delivered_story_ids``). Nothing else removes them, so they grow without end.
:meth:`HousekeepingMixin.prune_digest_history` removes what no reader needs any more; the job
that calls it (``bot.digests.housekeeping``) chooses the cutoff.

What is deleted, given a cutoff instant ``before``
-------------------------------------------------

- ``deliveries`` and ``delivered_articles`` rows of a **settled** run (``done``, ``empty``,
  ``paused``, ``failed``, ``skipped``) whose due instant (``scheduled_for``) is before the
  cutoff;
- then those settled runs themselves, once no delivery refers to them, except each
  conversation's newest ``done`` run (``Composer.explain`` says whether a conversation was
  ever sent a digest: one row per conversation keeps that true).

What is never deleted: a run in any other state (``running``, ``posting``, ``waiting``: a post
whose fate is open, which ``settle_stale``, ``unsettled_runs`` and the post look-up still
read and which may yet record deliveries), whatever its age; anything at or after the cutoff;
notices (a different table, kept until sent).

Why that is safe, when the cutoff is far enough back (the job keeps at least
``digest.max_age_hours`` + ``digest.grace_hours`` + a day, and ``digest.keep_days`` by
default 14 days):

- "Never a story twice" holds within the digest window: a digest due at ``T`` takes stories
  with an article published in ``[T - max_age_hours, T]``; every future digest (or a late one
  still in its grace) is due at or after ``now - grace_hours``, so its window starts after
  ``now - grace_hours - max_age_hours``. Deliveries of a run due before that were of articles
  published before it, which no future window holds.
- Exactly once holds: the runner claims, reads and settles only the run of each channel's most
  recent due date (at most a day and a bit old: ``schedule.last_due``), ``missed_channels``
  looks only at that date, and unsettled runs of any age are kept.

What the margin trades (``keep_days``): a story whose deliveries were pruned, and which later
gains a new article inside a digest's window (a long-running story, or an old article loaded
late with a fresh date), is news again to that conversation: it may be sent once more. A
longer margin makes that rarer and costs rows (~13 deliveries and their articles per digest
per day kept). ``newsbot digest --at`` a date older than the cutoff finds no record of it.

Deletes run in transactions of at most ``batch`` rows (``PRUNE_BATCH``), each picking rows by a
cursor over run ids, so a year's backlog never holds the write lock for long and a digest due
meanwhile gets in between two batches. m014 indexes ``delivered_articles.run_id`` for it
(``deliveries.run_id`` had its index already).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.base import StoreBase

PRUNE_BATCH = 5000  # rows deleted per transaction at most
# Only these states are ever pruned: a run in any other state is kept, whatever its age.
SETTLED_STATES = ("done", "empty", "paused", "failed", "skipped")
_SETTLED = ", ".join(f"'{s}'" for s in SETTLED_STATES)
_PRUNABLE = f"r.id >= ? AND r.scheduled_for < ? AND +r.state IN ({_SETTLED})"
# A run's delivery rows, the oldest runs first: (run id, the row's key). CROSS JOIN keeps the
# runs as the outer loop, scanned by id from the cursor (``+r.state``: not by the state index,
# which would gather every old run's rows and sort them before the LIMIT), so LIMIT stops early.
_ROWS_OF = {
    "delivered_articles": (
        "SELECT r.id, d.rowid FROM digest_runs r CROSS JOIN delivered_articles d "
        f"ON d.run_id = r.id WHERE {_PRUNABLE} ORDER BY r.id LIMIT ?"
    ),
    "deliveries": (
        "SELECT r.id, d.id FROM digest_runs r CROSS JOIN deliveries d "
        f"ON d.run_id = r.id WHERE {_PRUNABLE} ORDER BY r.id LIMIT ?"
    ),
}
_DELETE_ROW = {
    "delivered_articles": "DELETE FROM delivered_articles WHERE rowid = ?",
    "deliveries": "DELETE FROM deliveries WHERE id = ?",
}
_RUNS = (
    f"SELECT r.id, r.id FROM digest_runs r WHERE {_PRUNABLE} "
    "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = r.id) "
    "AND NOT (r.state = 'done' AND NOT EXISTS (SELECT 1 FROM digest_runs n "
    "WHERE n.team_id = r.team_id AND n.channel_id = r.channel_id AND n.state = 'done' "
    "AND n.local_date > r.local_date)) ORDER BY r.id LIMIT ?"
)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass
class PruneReport:
    """What one prune deleted, and how long its longest transaction held the write lock."""

    before: str  # the cutoff (ISO 8601 UTC): runs due before it were pruned
    deliveries: int = 0
    delivered_articles: int = 0
    runs: int = 0
    batches: int = 0
    seconds: float = 0.0
    largest_batch_seconds: float = 0.0
    batch_rows: list[int] = field(default_factory=list, repr=False)

    @property
    def rows(self) -> int:
        return self.deliveries + self.delivered_articles + self.runs

    def line(self) -> str:
        return (
            f"pruned digest history before {self.before}: {self.runs} run(s), "
            f"{self.deliveries} delivery row(s), {self.delivered_articles} delivered article(s) "
            f"in {self.batches} batch(es), {self.seconds:.2f} s "
            f"(longest {self.largest_batch_seconds:.3f} s)"
        )


@dataclass(frozen=True)
class Checkpoint:
    """``PRAGMA wal_checkpoint``'s answer: ``busy`` (1: it could not finish, a reader or
    writer was in the way), the WAL's frames, the frames copied into the database."""

    busy: int
    log_frames: int
    checkpointed: int


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    bytes: int | None  # the table's pages and its indexes' (None: dbstat is not compiled in)


@dataclass(frozen=True)
class Sizes:
    """The database's files and tables (``newsbot stats``)."""

    path: str
    file_bytes: int
    wal_bytes: int
    fts_bytes: int | None  # the full-text index's tables (None: dbstat is not compiled in)
    page_size: int
    free_pages: int
    tables: list[TableSize]


class HousekeepingMixin(StoreBase):
    """Methods of Store (see storage.store) that keep the database's size bounded."""

    # -- pruning -----------------------------------------------------------------------------

    def prune_digest_history(
        self,
        before: dt.datetime,
        *,
        batch: int = PRUNE_BATCH,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> PruneReport:
        """Delete the digest history due before ``before`` that no reader needs (see the
        module docstring), in transactions of at most ``batch`` rows. Idempotent: a second
        call with the same cutoff deletes nothing. ``on_batch(rows, seconds)``: told after
        each transaction (the bench's figures)."""
        cutoff = _iso(before)
        report = PruneReport(cutoff)
        started = time.perf_counter()
        for table in ("delivered_articles", "deliveries"):
            deleted = self._prune(
                _ROWS_OF[table], _DELETE_ROW[table], cutoff, batch, report, on_batch
            )
            setattr(report, table, deleted)
        report.runs = self._prune(
            _RUNS, "DELETE FROM digest_runs WHERE id = ?", cutoff, batch, report, on_batch
        )
        report.seconds = time.perf_counter() - started
        return report

    def _prune(
        self,
        select: str,
        delete: str,
        cutoff: str,
        batch: int,
        report: PruneReport,
        on_batch: Callable[[int, float], None] | None,
    ) -> int:
        """Delete what ``select`` finds, a transaction of at most ``batch`` rows at a time,
        walking run ids upward: rows of runs before the last one a batch reached are all
        gone, so the next batch starts at that run."""
        cursor, total = 0, 0
        while True:
            began = time.perf_counter()
            with self.transaction():
                found = self.db.conn.execute(select, (cursor, cutoff, batch)).fetchall()
                if found:
                    self.db.conn.executemany(delete, ((key,) for _, key in found))
            took = time.perf_counter() - began
            if not found:
                return total
            total += len(found)
            report.batches += 1
            report.batch_rows.append(len(found))
            report.largest_batch_seconds = max(report.largest_batch_seconds, took)
            if on_batch is not None:
                on_batch(len(found), took)
            if len(found) < batch:
                return total
            cursor = found[-1][0]

    # -- the WAL -----------------------------------------------------------------------------

    def checkpoint_wal(self) -> Checkpoint:
        """Copy the WAL into the database and truncate it to zero bytes.

        ``PASSIVE`` first: it copies what it can without waiting for anyone (SQLite never
        calls the busy handler in that mode), so the bulk of the work never blocks a reader or
        a writer. Then ``TRUNCATE``, which must wait for readers to leave the WAL: this
        connection's busy handler gives up after a few milliseconds (``StoreBase``), so with
        another process reading it answers ``busy`` at once rather than stalling the bot;
        the WAL is then cut down at its next reset anyway (``journal_size_limit``, set when
        the store opens). Outside a transaction only (SQLite refuses one inside)."""
        with self._lock:
            conn = self.db.conn
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return Checkpoint(*(int(v) for v in row))

    # -- sizes -------------------------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        """Rows per table (ordinary tables: not SQLite's own, nor the full-text index's
        virtual table and its shadow tables, which ``sizes`` counts in bytes)."""
        return {name: self._count(name) for name in self._tables()}

    def _tables(self) -> list[str]:
        virtual = [
            r["name"]
            for r in self._rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
            )
        ]
        names = [
            r["name"]
            for r in self._rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
            )
        ]
        return [n for n in names if not any(n.startswith(f"{v}_") for v in virtual)]

    def _count(self, table: str) -> int:
        return int(self._scalar(f'SELECT count(*) FROM "{table}"'))

    def sizes(self) -> Sizes:
        """The files' sizes, each table's rows and bytes (its indexes included), the
        full-text index's bytes. Bytes come from SQLite's ``dbstat`` table, which reads every
        page: seconds on a database of gigabytes."""
        pages = self._pages()
        tables = [
            TableSize(name, self._count(name), pages.get(name) if pages is not None else None)
            for name in self._tables()
        ]
        virtual = [
            r["name"]
            for r in self._rows(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                "'CREATE VIRTUAL TABLE%USING FTS%'"
            )
        ]
        fts = None
        if pages is not None:
            fts = sum(
                b for n, b in pages.items() if any(n == v or n.startswith(f"{v}_") for v in virtual)
            )
        return Sizes(
            path=self.path,
            file_bytes=_file_size(self.path),
            wal_bytes=_file_size(self.path + "-wal"),
            fts_bytes=fts,
            page_size=int(self._scalar("PRAGMA page_size")),
            free_pages=int(self._scalar("PRAGMA freelist_count")),
            tables=tables,
        )

    def _pages(self) -> dict[str, int] | None:
        """Bytes per table, its indexes counted with it; None without ``dbstat``."""
        try:
            rows = self._rows(
                "SELECT coalesce(m.tbl_name, s.name) AS name, sum(s.pgsize) AS bytes "
                "FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name "
                "WHERE s.aggregate = 1 GROUP BY 1"
            )
        except sqlite3.OperationalError:  # no such table: dbstat (not compiled in)
            return None
        return {r["name"]: int(r["bytes"]) for r in rows}


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
