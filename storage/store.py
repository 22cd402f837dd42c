"""The store: the one module that writes SQL.

Everything newsbot keeps lives in one SQLite file, opened through sqlite-utils in WAL mode, its
schema versioned by ``storage.migrations``. Callers get plain dicts and ints back.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from storage.digests import DigestsMixin
from storage.migrations import migrations
from storage.preferences import PreferencesMixin
from storage.subscriptions import SubscriptionsMixin

T = TypeVar("T")

# Article ids are time keys: publication second * SEQ_SPAN + a sequence number within that second.
SEQ_SPAN = 1 << 12
# bm25() weights per FTS column (title, excerpt, provider, topics): a word in the headline
# says more than one in the excerpt.
BM25_WEIGHTS = (4.0, 1.0, 0.5, 2.0)

ARTICLE_COLUMNS = (
    "id", "url", "web_url", "title", "excerpt", "provider", "domain", "published",
    "published_ts", "category", "type", "quality", "heat", "topics", "parent_id", "story_id",
)


def default_db_path() -> str:
    return os.environ.get("NEWSBOT_DB") or "newsbot.db"


def time_key(published_ts: int, seq: int = 0) -> int:
    return int(published_ts) * SEQ_SPAN + seq


BUSY_SECONDS = 30.0  # how long a write waits for another process's transaction to end
BUSY_POLL = 0.002  # seconds between tries while it waits


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Store(SubscriptionsMixin, DigestsMixin, PreferencesMixin):
    """A newsbot database. Safe to share between threads (calls are serialised).

    Waiting for the write lock. SQLite's own busy handler sleeps longer and longer between
    tries (up to 100 ms), so a writer waiting behind a long series of short transactions (a
    load beside the running bot) almost never hits the gap between two of them and can starve
    for its whole timeout. So the connection's handler gives up after a few milliseconds and
    :meth:`_retrying` tries again every ``BUSY_POLL`` seconds until ``busy_seconds``: a waiter
    gets in at the first gap (the loader leaves one after each transaction, see
    ``bot.core.loader``). Past ``busy_seconds``, ``sqlite3.OperationalError`` ("database is
    locked") reaches the caller, for whom it is a transient error.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_seconds: float = BUSY_SECONDS
                 ) -> None:
        self.path = str(path)
        self.busy_seconds = busy_seconds
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: a statement outside transaction() commits at once (Python's implicit
        # BEGIN would otherwise leave a transaction open after a lone write), and
        # transaction() issues BEGIN itself.
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=0.005,
                               isolation_level=None)
        self.db = Database(conn)
        self._lock = threading.RLock()
        self._depth = 0  # savepoints open (see transaction())
        if self.path != ":memory:":
            self._retrying(self.db.enable_wal)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._retrying(lambda: self._migrate())

    def _migrate(self) -> None:
        with self.transaction():
            migrations.apply(self.db)

    def close(self) -> None:
        self.db.conn.close()

    # -- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Store]:
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

    def immediate(self) -> contextlib.AbstractContextManager[Store]:
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
                if (not is_busy(exc) or self.db.conn.in_transaction
                        or time.monotonic() >= deadline):
                    raise
            time.sleep(BUSY_POLL)

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            cur = self.db.conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

        with self._lock:
            return self._retrying(read)

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            row = self._retrying(lambda: self.db.conn.execute(sql, params).fetchone())
        return row[0] if row else None

    def _write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._retrying(lambda: self.db.conn.execute(sql, params))

    # -- articles ----------------------------------------------------------------------------

    def article_id_for_urls(self, urls: Iterable[str]) -> int | None:
        """The id of the article known under any of these canonical addresses.

        The first address that is known wins; for each, its own article before an alias.
        """
        urls = list(dict.fromkeys(urls))
        if not urls:
            return None
        marks = ", ".join("?" * len(urls))
        with self._lock:
            found = self.db.conn.execute(
                f"SELECT url, 0, id FROM articles WHERE url IN ({marks}) UNION ALL "
                f"SELECT alias, 1, article_id FROM url_aliases WHERE alias IN ({marks})",
                urls + urls,
            ).fetchall()
        found = [r for r in found if r[2] is not None]
        if not found:
            return None
        rank = {url: i for i, url in enumerate(urls)}
        return int(min(found, key=lambda r: (rank[r[0]], r[1]))[2])

    def new_article_id(self, published_ts: int) -> int:
        lo = time_key(published_ts)
        top = self._scalar(
            "SELECT max(id) FROM articles WHERE id >= ? AND id < ?", (lo, lo + SEQ_SPAN)
        )
        if top is None:
            return lo
        if top + 1 < lo + SEQ_SPAN:
            return int(top) + 1
        # A full second (4,096 articles): take the first free key after it.
        nxt = int(top) + 1
        while self._scalar("SELECT 1 FROM articles WHERE id = ?", (nxt,)):
            nxt += 1
        return nxt

    def insert_article(self, row: dict[str, Any]) -> None:
        cols = list(row)
        self._write(
            f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        )

    def insert_articles(self, rows: Iterable[dict[str, Any]], batch: int = 5000) -> int:
        """Insert complete rows (ids and story ids given, same keys in each) in bulk.

        For building large databases (the benchmarks): no look-ups and no story grouping, one
        transaction per ``batch`` rows. Returns how many rows were inserted.
        """
        it = iter(rows)
        total = 0
        while chunk := list(itertools.islice(it, batch)):
            cols = list(chunk[0])
            sql = f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            with self.transaction():
                self.db.conn.executemany(sql, ([r[c] for c in cols] for r in chunk))
            total += len(chunk)
        return total

    def update_article(self, article_id: int, row: dict[str, Any]) -> bool:
        """Update changed fields only; returns whether anything changed."""
        cols = [c for c in row if c != "id"]
        current = self._rows(
            f"SELECT {', '.join(cols)} FROM articles WHERE id = ?", (article_id,)
        )
        if current and all(current[0][c] == row[c] for c in cols):
            return False
        changed = [c for c in cols if not current or current[0][c] != row[c]]
        self._write(
            f"UPDATE articles SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?",
            [row[c] for c in changed] + [article_id],
        )
        return True

    def add_aliases(self, article_id: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            self._write(
                "INSERT OR IGNORE INTO url_aliases (alias, article_id) VALUES (?, ?)",
                (alias, article_id),
            )

    def article(self, article_id: int) -> dict[str, Any] | None:
        rows = self.articles([article_id])
        return rows[0] if rows else None

    def article_for_update(self, article_id: int) -> dict[str, Any]:
        """Every stored column of one article."""
        return self._rows("SELECT * FROM articles WHERE id = ?", (article_id,))[0]

    def articles(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        return self._rows(
            f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE id IN ({marks})", list(ids)
        )

    def ranking_fields(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """What ranking needs of each article (id, story, time, quality, outlet): no texts."""
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        return self._rows(
            "SELECT id, story_id, published_ts, quality, domain FROM articles "
            f"WHERE id IN ({marks})",
            list(ids),
        )

    def article_by_url(self, url: str) -> dict[str, Any] | None:
        found = self.article_id_for_urls([url])
        return self.article(found) if found is not None else None

    def count_articles(self) -> int:
        return int(self._scalar("SELECT count(*) FROM articles"))

    def count_stories(self) -> int:
        return int(self._scalar("SELECT count(DISTINCT story_id) FROM articles"))

    def article_extra(self, article_id: int) -> dict[str, Any]:
        raw = self._scalar("SELECT extra FROM articles WHERE id = ?", (article_id,))
        return json.loads(raw) if raw else {}

    # -- stories -----------------------------------------------------------------------------

    def add_title_keys(self, article_id: int, keys: Sequence[str]) -> None:
        with self._lock:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO title_keys (key, article_id) VALUES (?, ?)",
                [(k, article_id) for k in keys],
            )

    def story_candidates(
        self, keys: Sequence[str], lo_id: int, hi_id: int, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Articles in an id (= time) window sharing two of ``keys`` (one, if only one is
        given) in their ``title_keys``."""
        if not keys:
            return []
        marks = ", ".join("?" * len(keys))
        return self._rows(
            "SELECT a.id, a.title, a.excerpt, a.story_id, a.published_ts, a.domain "
            "FROM articles a JOIN ("
            f"  SELECT article_id FROM title_keys WHERE key IN ({marks})"
            "   AND article_id BETWEEN ? AND ? GROUP BY article_id HAVING count(*) >= ? LIMIT ?"
            ") k ON a.id = k.article_id",
            (*keys, lo_id, hi_id, min(2, len(keys)), limit),
        )

    def set_story(self, article_id: int, story_id: int) -> None:
        self._write("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))

    def merge_stories(self, keep: int, others: Iterable[int]) -> None:
        for other in others:
            if other != keep:
                self._write("UPDATE articles SET story_id = ? WHERE story_id = ?", (keep, other))

    def story_members(self, story_ids: Sequence[int]) -> list[dict[str, Any]]:
        if not story_ids:
            return []
        marks = ", ".join("?" * len(story_ids))
        return self._rows(
            f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE story_id IN ({marks}) "
            "ORDER BY story_id, quality DESC, id",
            list(story_ids),
        )

    # -- search ------------------------------------------------------------------------------

    def match_newest(self, fts_query: str, window: int) -> list[tuple[int, float]]:
        """(id, bm25) of the ``window`` newest articles matching ``fts_query``.

        FTS5 walks its index in rowid order, and ids are time keys, so this costs the window,
        not the number of matches: a word found in every article is as cheap as a rare one.
        """
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        with self._lock:
            cur = self.db.conn.execute(
                f"SELECT rowid, bm25(articles_fts, {weights}) FROM articles_fts "
                "WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                (fts_query, window),
            )
            return [(int(r[0]), float(r[1])) for r in cur.fetchall()]

    def optimize(self) -> None:
        """Merge the FTS index's segments (after a large load)."""
        with self._lock:
            self.db.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
            self.db.conn.commit()


