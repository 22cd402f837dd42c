"""The store's connection and the typed primitives every part of :class:`Store` writes SQL with.

:class:`StoreBase` opens the SQLite file and owns how it is used: one lock serialising the
threads, transactions (nested ones become savepoints), waiting for the write lock, and the
helpers ``_rows``, ``_one``, ``_scalar`` and ``_write``. The mixins of ``storage.store``
(subscriptions, digests, preferences) subclass it, so the type checker knows every attribute
and signature they use; it holds no schema (``storage.store.Store`` applies the migrations).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self, TypeVar

from sqlite_utils import Database

T = TypeVar("T")

Params = Sequence[Any] | dict[str, Any]  # positional (``?``) or named (``:name``) parameters
Row = dict[str, Any]

BUSY_SECONDS = 30.0  # how long a write waits for another process's transaction to end
BUSY_POLL = 0.002  # seconds between tries while it waits


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class StoreBase:
    """An open newsbot database. Safe to share between threads (calls are serialised).

    Waiting for the write lock. SQLite's own busy handler sleeps longer and longer between
    tries (up to 100 ms), so a writer waiting behind a long series of short transactions (a
    load beside the running bot) almost never hits the gap between two of them and can starve
    for its whole timeout. So the connection's handler gives up after a few milliseconds and
    :meth:`_retrying` tries again every ``BUSY_POLL`` seconds until ``busy_seconds``: a waiter
    gets in at the first gap (the loader leaves one after each transaction, see
    ``bot.core.loader``). Past ``busy_seconds``, ``sqlite3.OperationalError`` ("database is
    locked") reaches the caller, for whom it is a transient error.
    """

    path: str
    busy_seconds: float
    db: Database
    _lock: threading.RLock
    _depth: int  # savepoints open (see transaction())

    def __init__(self, path: str | os.PathLike[str], *, busy_seconds: float = BUSY_SECONDS) -> None:
        self.path = str(path)
        self.busy_seconds = busy_seconds
        # Autocommit mode: a statement outside transaction() commits at once (Python's implicit
        # BEGIN would otherwise leave a transaction open after a lone write), and
        # transaction() issues BEGIN itself.
        conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=0.005, isolation_level=None
        )
        self.db = Database(conn)
        self._lock = threading.RLock()
        self._depth = 0
        if self.path != ":memory:":
            self._retrying(self.db.enable_wal)
        conn.execute("PRAGMA synchronous=NORMAL")
        # The WAL keeps its high-water size after a checkpoint unless told: a big load or prune
        # would leave a WAL of gigabytes for good. Past this limit SQLite cuts it back each time
        # it resets the log. 16 MiB is four times what the auto-checkpoint lets the WAL reach in
        # normal use (1,000 pages of 4 KiB), so ordinary cycles reuse the file as it is.
        conn.execute("PRAGMA journal_size_limit=16777216")
        conn.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        self.db.conn.close()

    # -- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Self]:
        """All or nothing; nested calls become savepoints of the outer transaction.

        Every transaction takes SQLite's write lock at once (``BEGIN IMMEDIATE``), so what it
        reads cannot change before it writes, whatever other processes do (``immediate`` is
        kept for callers that say so).
        Savepoints are named by depth, not at random, so their statements stay in the
        connection's statement cache (the loader opens one per file).
        """
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                with self._savepoint(conn):
                    yield self
                return
            # Always IMMEDIATE: every transaction here writes, and one that starts deferred
            # and upgrades later can fail mid-way with "database is locked".
            self._retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self
            except BaseException:
                if conn.in_transaction:  # an error may already have ended it
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def immediate(self) -> contextlib.AbstractContextManager[Self]:
        """``transaction(immediate=True)``."""
        return self.transaction(immediate=True)

    @contextlib.contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        self._depth += 1
        name = f"newsbot_{self._depth}"
        try:
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    def _retrying(self, step: Callable[[], T]) -> T:
        """``step()``, tried again every ``BUSY_POLL`` s while the database is busy, for at
        most ``busy_seconds`` (see the class docstring). Inside a transaction the lock is
        ours already: no waiting there."""
        deadline = time.monotonic() + self.busy_seconds
        while True:
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or self.db.conn.in_transaction or time.monotonic() >= deadline:
                    raise
            time.sleep(BUSY_POLL)

    # -- statements --------------------------------------------------------------------------

    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row the query returns, as a dict by column name."""

        def read() -> list[Row]:
            cur = self.db.conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

        with self._lock:
            return self._retrying(read)

    def _one(self, sql: str, params: Params = ()) -> Row | None:
        """The query's first row, or None when it returns none."""
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the query's first row (None when it returns no row)."""
        with self._lock:
            row = self._retrying(lambda: self.db.conn.execute(sql, params).fetchone())
        return row[0] if row else None

    def _write(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement (its cursor tells ``rowcount``)."""
        with self._lock:
            return self._retrying(lambda: self.db.conn.execute(sql, params))
