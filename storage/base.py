"""The store's connections and the typed primitives every part of :class:`Store` writes SQL with.

:class:`StoreBase` opens the SQLite file and owns how it is used: one write connection, whose
lock serialises the threads that write, transactions (nested ones become savepoints), waiting
for the write lock, a read connection per thread for reads outside a transaction (WAL lets
readers run beside each other and beside the writer), and the helpers ``_rows``, ``_one``,
``_scalar`` and ``_write``. The mixins of ``storage.store``
(subscriptions, digests, preferences) subclass it, so the type checker knows every attribute
and signature they use; it holds no schema (``storage.store.Store`` applies the migrations).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self, TypeVar

from sqlite_utils import Database

T = TypeVar("T")

Params = Sequence[Any] | dict[str, Any]  # positional (``?``) or named (``:name``) parameters
Row = dict[str, Any]

BUSY_SECONDS = 30.0  # how long a write waits for another process's transaction to end
BUSY_POLL = 0.002  # seconds between tries while it waits
JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024  # bytes of WAL kept after a reset (see __init__)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _alive(thread: weakref.ref[threading.Thread]) -> bool:
    t = thread()
    return t is not None and t.is_alive()


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
    _local: threading.local  # this thread's read connection
    # every thread's read connection with its thread, to close them all (and a dead
    # thread's when another opens one: sqlite3 connections take no weak references)
    _readers: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]]
    _readers_lock: threading.Lock

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
        self._local = threading.local()
        self._readers = []
        self._readers_lock = threading.Lock()
        if self.path != ":memory:":
            self._retrying(self.db.enable_wal)
        conn.execute("PRAGMA synchronous=NORMAL")
        # The WAL keeps its high-water size after a checkpoint unless told: a big load or prune
        # would leave a WAL of gigabytes for good. Past this limit SQLite cuts it back each time
        # it resets the log. 16 MiB is four times what the auto-checkpoint lets the WAL reach in
        # normal use (1,000 pages of 4 KiB), so ordinary cycles reuse the file as it is.
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        conn.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for _, reader in readers:
            reader.close()
        self.db.conn.close()

    # -- reading -----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (opened at its first read, closed with the store or
        when the thread ends): ``query_only``, in autocommit, so each statement reads the
        latest committed state. Readers never wait for the write lock in WAL mode, so twenty
        searches answer side by side instead of queueing on one connection's lock (issue 15,
        item 3)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, check_same_thread=False, timeout=0.005, isolation_level=None
            )
            conn.execute("PRAGMA query_only=1")
            # the writer's per-connection settings that a reader's queries may report
            conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
            self._local.conn = conn
            with self._readers_lock:
                ended = [(t, c) for t, c in self._readers if not _alive(t)]
                for _, old in ended:
                    old.close()
                self._readers = [(t, c) for t, c in self._readers if _alive(t)]
                self._readers.append((weakref.ref(threading.current_thread()), conn))
        return conn

    def _read(self, step: Callable[[sqlite3.Connection], T]) -> T:
        """``step(connection)`` on the connection this read must use: the writer's, under its
        lock, when this thread is inside a transaction (it must see its own writes) or the
        database is in memory (a connection of its own would be another, empty database);
        else this thread's own read connection, with no lock at all."""
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            with self._lock:
                return self._retrying(lambda: step(self.db.conn))
        # Holding the lock now means this thread held it already (it is reentrant) or nobody
        # did: a transaction open on the writer is then this thread's own.
        if self._lock.acquire(blocking=False):
            try:
                if self.db.conn.in_transaction:
                    return self._retrying(lambda: step(self.db.conn))
            finally:
                self._lock.release()
        reader = self._reader()
        return self._retrying(lambda: step(reader), reader)

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

    def _retrying(self, step: Callable[[], T], conn: sqlite3.Connection | None = None) -> T:
        """``step()``, tried again every ``BUSY_POLL`` s while the database is busy, for at
        most ``busy_seconds`` (see the class docstring). Inside a transaction (of ``conn``,
        default the writer) the lock is ours already: no waiting there."""
        conn = conn or self.db.conn
        deadline = time.monotonic() + self.busy_seconds
        while True:
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or conn.in_transaction or time.monotonic() >= deadline:
                    raise
            time.sleep(BUSY_POLL)

    # -- statements --------------------------------------------------------------------------

    def _rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row the query returns, as a dict by column name."""

        def read(conn: sqlite3.Connection) -> list[Row]:
            cur = conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

        return self._read(read)

    def _one(self, sql: str, params: Params = ()) -> Row | None:
        """The query's first row, or None when it returns none."""
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the query's first row (None when it returns no row)."""

        def first(conn: sqlite3.Connection) -> Any:
            cur = conn.execute(sql, params)
            try:
                return cur.fetchone()
            finally:
                # a statement left unfinished keeps its read transaction open: that reader
                # would see this moment's data for good, and the WAL could not be reset
                cur.close()

        row = self._read(first)
        return row[0] if row else None

    def _write(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement (its cursor tells ``rowcount``)."""
        with self._lock:
            return self._retrying(lambda: self.db.conn.execute(sql, params))
