"""The store: the one module that writes SQL.

Everything newsbot keeps lives in one SQLite file, opened through sqlite-utils in WAL mode, its
schema versioned by ``storage.migrations``. Callers get plain dicts and ints back.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from storage.base import BUSY_SECONDS
from storage.digests import DigestsMixin
from storage.housekeeping import HousekeepingMixin
from storage.migrations import migrations
from storage.preferences import PreferencesMixin
from storage.ranking import RankingMixin
from storage.sources import SourcesMixin
from storage.stories import LEAD_ORDER, StoriesMixin
from storage.subscriptions import SubscriptionsMixin
from storage.vocabulary import VocabularyMixin

# Article ids are time keys: publication second * SEQ_SPAN + a sequence number within that second.
SEQ_SPAN = 1 << 12
# bm25() weights per FTS column (title, excerpt, provider, topics): a word in the headline
# says more than one in the excerpt.
BM25_WEIGHTS = (4.0, 1.0, 0.5, 2.0)

ARTICLE_COLUMNS = (
    "id",
    "url",
    "web_url",
    "title",
    "excerpt",
    "provider",
    "domain",
    "published",
    "published_ts",
    "category",
    "type",
    "quality",
    "heat",
    "topics",
    "parent_id",
    "story_id",
)


def default_db_path() -> str:
    return os.environ.get("NEWSBOT_DB") or "newsbot.db"


def time_key(published_ts: int, seq: int = 0) -> int:
    return int(published_ts) * SEQ_SPAN + seq


class Store(
    DigestsMixin,
    SubscriptionsMixin,
    PreferencesMixin,
    StoriesMixin,
    RankingMixin,
    VocabularyMixin,
    SourcesMixin,
    HousekeepingMixin,
):
    """A newsbot database, its schema brought up to date on opening (``storage.migrations``).

    The connection, its transactions and the way it waits for the write lock are
    :class:`storage.base.StoreBase`'s; the mixins add the SQL of each part of the schema.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_seconds: float = BUSY_SECONDS) -> None:
        super().__init__(path, busy_seconds=busy_seconds)
        with self._lock:
            self._retrying(lambda: self._migrate())

    def _migrate(self) -> None:
        with self.transaction():
            migrations.apply(self.db)

    # -- articles ----------------------------------------------------------------------------

    def article_id_for_urls(self, urls: Iterable[str]) -> int | None:
        """The id of the article known under any of these canonical addresses.

        The first address that is known wins; for each, its own article before an alias.
        """
        urls = list(dict.fromkeys(urls))
        if not urls:
            return None
        marks = ", ".join("?" * len(urls))
        found = self._read(
            lambda conn: conn.execute(
                f"SELECT url, 0, id FROM articles WHERE url IN ({marks}) UNION ALL "
                f"SELECT alias, 1, article_id FROM url_aliases WHERE alias IN ({marks})",
                urls + urls,
            ).fetchall()
        )
        found = [r for r in found if r[2] is not None]
        if not found:
            return None
        rank = {url: i for i, url in enumerate(urls)}
        return int(min(found, key=lambda r: (rank[r[0]], r[1]))[2])

    def data_version(self) -> int:
        """A number that changes when another connection commits (``PRAGMA data_version``):
        what this one has read may be out of date."""
        return int(self._scalar("PRAGMA data_version"))

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
        current = self._rows(f"SELECT {', '.join(cols)} FROM articles WHERE id = ?", (article_id,))
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

    def set_story(self, article_id: int, story_id: int) -> None:
        self._write("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))

    def merge_stories(self, keep: int, others: Iterable[int]) -> None:
        for other in others:
            if other != keep:
                self._write("UPDATE articles SET story_id = ? WHERE story_id = ?", (keep, other))

    def story_members(self, story_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The articles of these stories, each story's in the order its lead is chosen (a
        main article first, then the best quality, then the earliest: ``LEAD_ORDER``)."""
        if not story_ids:
            return []
        marks = ", ".join("?" * len(story_ids))
        return self._rows(
            f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE story_id IN ({marks}) "
            f"ORDER BY story_id, {LEAD_ORDER}",
            list(story_ids),
        )

    # -- search ------------------------------------------------------------------------------

    def match_newest(self, fts_query: str, window: int) -> list[tuple[int, float]]:
        """(id, bm25) of the ``window`` newest articles matching ``fts_query``.

        FTS5 walks its index in rowid order, and ids are time keys, so this costs the window,
        not the number of matches: a word found in every article is as cheap as a rare one.
        """
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT rowid, bm25(articles_fts, {weights}) FROM articles_fts "
                "WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                (fts_query, window),
            ).fetchall()
        )
        return [(int(r[0]), float(r[1])) for r in rows]

    def optimize(self) -> None:
        """Merge the FTS index's segments (after a large load)."""
        with self._lock:
            self.db.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
            self.db.conn.commit()
