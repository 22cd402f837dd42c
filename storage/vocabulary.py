"""The search index's vocabulary as a plain table: SQL for ``search_terms`` and
``search_terms_pending`` (m012). Part of :class:`Store`.

Search corrects a word that matches nothing to the nearest indexed term
(:mod:`bot.core.correct`), among the terms sharing its first two letters.

Why a table of our own. FTS5's ``fts5vocab`` (m009) is always current, but it counts a term's
articles by reading the term's whole list of articles: a two-letter range holding a word found
in most articles costs ~30 ms at 200k articles, 100-200 ms at 1M (bench/search.py).
``search_terms`` holds the same rows, (term, articles holding it), in a WITHOUT ROWID table
keyed on the term: a range costs its rows only, whatever the size of the index.

Keeping it current. Triggers (m012) note in ``search_terms_pending`` each article written,
changed in an indexed column or deleted, with the text the table counts for it (``counted``,
``was_*``) until it is folded in. :meth:`VocabularyMixin.refresh_search_terms` folds them in:
FTS5 itself tokenises the texts counted and the articles' current texts in a temporary
contentless FTS5 table with the index's tokenizer, and the table takes the differences of the
two tables' ``fts5vocab`` counts. So it costs the articles written since, not the index (~8 ms
for 50 synthetic articles, ~15 ms for 200, ~80 ms for 5,000: the terms they change); past a
quarter of the articles it builds the table again from ``fts5vocab`` instead (~4 s at 1M
articles). A load should call it once it has written (as it regroups);
:meth:`VocabularyMixin.vocabulary` folds in a few pending articles itself, without waiting for
the write lock, so the table catches up without one.
"""

from __future__ import annotations

import re
import sqlite3

from storage.base import StoreBase, is_busy

# Pending articles a vocabulary look-up folds in itself (~8 ms at most, in a search).
FOLD_INLINE = 50
# Past this share of the articles pending, building the table again is cheaper than folding
# (a fold costs ~16 us per article taken in, a build ~4 us per article held).
REBUILD_SHARE = 0.25
_TOKENIZE = re.compile(r"""tokenize\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*")""", re.IGNORECASE)
_COLUMNS = "title, excerpt, provider, topics"  # the index's columns (m001's FTS_COLUMNS)


class VocabularyMixin(StoreBase):
    """Methods of Store (see storage.store) for the search index's vocabulary."""

    def vocabulary(self, prefix: str, shortest: int, longest: int) -> list[tuple[str, int]]:
        """(term, articles holding it) of the indexed terms that begin with ``prefix`` and are
        ``shortest`` to ``longest`` characters long (terms are the index's stems).

        A range of ``search_terms``' key: it costs the range's rows, not the index. First
        folds in up to ``FOLD_INLINE`` pending articles, unless another connection is writing.
        """
        if not prefix:
            return []
        lo = prefix
        hi = prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))
        with self._lock:
            self._fold_some(FOLD_INLINE)
            cur = self.db.conn.execute(
                "SELECT term, docs FROM search_terms WHERE term >= ? AND term < ? "
                "AND length(term) BETWEEN ? AND ?",
                (lo, hi, shortest, longest),
            )
            return [(str(r[0]), int(r[1])) for r in cur.fetchall()]

    def matches_any(self, fts_query: str) -> bool:
        """Whether any article matches ``fts_query``. The first match ends it, and nothing is
        ranked: bm25() would first count every article of each term (~50 ms for a word in
        most of 1M articles)."""
        found = self._read(
            lambda conn: conn.execute(
                "SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", (fts_query,)
            ).fetchall()
        )
        return bool(found)

    def refresh_search_terms(self) -> int:
        """Bring ``search_terms`` up to date with the index (waiting for the write lock);
        returns how many pending articles it took in."""
        with self.transaction():
            pending = int(self._scalar("SELECT count(*) FROM search_terms_pending"))
            if not pending:
                return 0
            articles = int(self._scalar("SELECT count(*) FROM articles"))
            if pending > REBUILD_SHARE * articles:
                self._rebuild_search_terms()
            else:
                self._fold(None)
            return pending

    def search_terms_pending(self) -> int:
        """How many articles ``search_terms`` has yet to take in."""
        return int(self._scalar("SELECT count(*) FROM search_terms_pending"))

    # -- internals ---------------------------------------------------------------------------

    def _fold_some(self, limit: int) -> None:
        """Fold in up to ``limit`` pending articles, in a transaction of their own; nothing when
        there are none, inside a caller's transaction, or when another connection writes."""
        conn = self.db.conn
        if (
            conn.in_transaction
            or not conn.execute("SELECT 1 FROM search_terms_pending LIMIT 1").fetchone()
        ):
            return
        try:
            conn.execute("BEGIN IMMEDIATE")  # the connection waits a few ms at most
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                return  # a load is writing: look up what the table has now
            raise
        try:
            self._fold(limit)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _rebuild_search_terms(self) -> None:
        """The table from ``fts5vocab`` (inside a transaction): reads every term's articles."""
        conn = self.db.conn
        conn.execute("DELETE FROM search_terms")
        conn.execute(
            "INSERT INTO search_terms (term, docs) SELECT term, doc FROM articles_fts_vocab"
        )
        conn.execute("DELETE FROM search_terms_pending")

    def _fold(self, limit: int | None) -> None:
        """Take the first ``limit`` pending articles (all: None) into ``search_terms``, inside
        a transaction: less the terms of the text counted for each, plus those of its text now
        (none once deleted)."""
        conn = self.db.conn
        self._ready_fold_table()
        bound = None  # the last pending article taken in (None: all)
        if limit is not None:
            row = conn.execute(
                "SELECT article_id FROM search_terms_pending ORDER BY article_id LIMIT 1 OFFSET ?",
                (limit - 1,),
            ).fetchone()
            bound = row[0] if row else None
        taken = "(?1 IS NULL OR p.article_id <= ?1)"
        was = self._counted_terms(
            "SELECT p.was_title, p.was_excerpt, p.was_provider, p.was_topics "
            f"FROM search_terms_pending p WHERE p.counted = 1 AND {taken}",
            bound,
        )
        now = self._counted_terms(
            "SELECT a.title, a.excerpt, a.provider, a.topics FROM search_terms_pending p "
            f"JOIN articles a ON a.id = p.article_id WHERE {taken}",
            bound,
        )
        changes = [(t, now.get(t, 0) - was.get(t, 0)) for t in now.keys() | was.keys()]
        changes = [(t, d) for t, d in changes if d]
        conn.executemany(
            "INSERT INTO search_terms (term, docs) VALUES (?, ?) "
            "ON CONFLICT (term) DO UPDATE SET docs = docs + excluded.docs",
            changes,
        )
        conn.executemany(
            "DELETE FROM search_terms WHERE term = ? AND docs <= 0",
            [(t,) for t, d in changes if d < 0],
        )
        conn.execute(f"DELETE FROM search_terms_pending AS p WHERE {taken}", (bound,))

    def _counted_terms(self, texts_sql: str, bound: int | None) -> dict[str, int]:
        """{term: texts holding it} of the texts (4 columns, in the index's order) the query
        returns (its ``?1``: ``bound``), as the index's tokenizer makes them."""
        conn = self.db.conn
        conn.execute(f"INSERT INTO temp.search_terms_fold ({_COLUMNS}) {texts_sql}", (bound,))
        counts = {
            str(t): int(d)
            for t, d in conn.execute("SELECT term, doc FROM temp.search_terms_fold_vocab")
        }
        conn.execute("INSERT INTO temp.search_terms_fold (search_terms_fold) VALUES ('delete-all')")
        return counts

    def _ready_fold_table(self) -> None:
        """The temporary FTS5 table the folds tokenise with: contentless, with the index's own
        tokenizer (read from its schema, so the terms are the index's). Made again after a
        rollback that undid it: ``IF NOT EXISTS`` costs a schema look-up."""
        conn = self.db.conn
        sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'articles_fts'"
        ).fetchone()[0]
        found = _TOKENIZE.search(sql)
        tokenize = f", tokenize={found.group(1)}" if found else ""
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms_fold "
            f"USING fts5({_COLUMNS}{tokenize}, content='')"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms_fold_vocab "
            "USING fts5vocab(temp, search_terms_fold, row)"
        )
