"""What ranking reads (see bot.core.ranking): the matched articles' fields with their matches
marked, how many articles hold each term, field-length averages, stories' prominence.

Every read here is bounded by the window searched or the terms typed, never by the corpus:
the corpus-wide figures (articles, average field lengths) are kept per store and computed
again only when an article changes (m015's ranking version), from the newest ``SAMPLE`` articles.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from storage.base import StoreBase

T = TypeVar("T")

SAMPLE = 5000  # newest articles the field averages are estimated from
MARKS = ("char(1)", "char(2)")  # what highlight() puts around a match (bot.core.ranking)
_FIELD_COLUMNS = {"title": 0, "excerpt": 1, "provider": 2, "topics": 3}  # in articles_fts


def _marked_window(
    fts_query: str, window: int, lo: int | None, hi: int | None
) -> tuple[str, tuple[Any, ...]]:
    """The statement (and its parameters) of the ``window`` newest matches of ``fts_query``,
    ids from ``lo`` to ``hi`` when given: (id, each field with its matches marked)."""
    open_, close = MARKS
    columns = ", ".join(
        f"highlight(articles_fts, {i}, {open_}, {close})" for i in _FIELD_COLUMNS.values()
    )
    span = "" if lo is None or hi is None else " AND rowid BETWEEN ? AND ?"
    params: tuple[Any, ...] = (fts_query,) + (() if not span else (lo, hi)) + (window,)
    sql = (
        f"SELECT rowid AS id, {columns} FROM articles_fts "
        f"WHERE articles_fts MATCH ?{span} ORDER BY rowid DESC LIMIT ?"
    )
    return sql, params


def _window_statement(
    fts_query: str, window: int, lo: int | None, hi: int | None
) -> tuple[str, tuple[Any, ...]]:
    """The window statement of :meth:`RankingMixin.match_window_except`: the marked window
    JOINed with what ranking needs besides the text."""
    marked, params = _marked_window(fts_query, window, lo, hi)
    sql = (
        "SELECT m.*, a.story_id, a.published_ts, a.quality, a.domain, "
        "coalesce(a.is_main, 0), s.outlets, s.lead_id, coalesce(l.is_main, 0) "
        f"FROM ({marked}) AS m "
        "JOIN articles a ON a.id = m.id "
        "LEFT JOIN stories s ON s.id = a.story_id "
        "LEFT JOIN articles l ON l.id = s.lead_id "
        "ORDER BY m.id DESC"
    )
    return sql, params


def _in_snapshot(conn: sqlite3.Connection, step: Callable[[sqlite3.Connection], T]) -> T:
    """``step(conn)`` inside one read transaction, so its statements see one state of the
    database (a read connection is in autocommit: each statement would see the latest); inside
    the writer's open transaction, as it is."""
    if conn.in_transaction:
        return step(conn)
    conn.execute("BEGIN")
    try:
        return step(conn)
    finally:
        conn.execute("COMMIT")


class RankingMixin(StoreBase):
    """Methods of Store (see storage.store) for ranking search and digest candidates."""

    _corpus_stats: tuple[int, int, dict[str, float]] | None = None  # (version, n, averages)
    _stats_lock = threading.Lock()

    def match_marked(
        self, fts_query: str, window: int, lo: int | None = None, hi: int | None = None
    ) -> list[tuple[Any, ...]]:
        """(id, title, excerpt, provider, topics) of the ``window`` newest articles matching
        ``fts_query`` (with ids from ``lo`` to ``hi``, when given), each field with its matches
        between char(1) and char(2) (FTS5's ``highlight()``, which knows the index's stemming:
        what matched is what is marked). Newest first: article ids are time keys, so this
        costs the window, not the number of matches."""
        sql, params = _marked_window(fts_query, window, lo, hi)
        rows = self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [tuple(r) for r in rows]

    def ranking_version(self) -> int:
        """A number that grows whenever what ranking reads of an article or a story changes
        (m015's triggers, in any process): rankings kept from before are still right while it
        stays."""
        return int(self._scalar("SELECT n FROM ranking_version WHERE id = 1") or 0)

    def match_window_except(
        self,
        fts_query: str,
        window: int,
        lo: int | None,
        hi: int | None,
        version: int | None,
        known: AbstractSet[int],
    ) -> tuple[int, list[int], list[tuple[Any, ...]]]:
        """The ``window`` newest articles matching ``fts_query`` (ids from ``lo`` to ``hi``
        when given), for a caller that keeps rows of it from before (bot.core.matches): (the
        ranking version, the window's ids newest first, the rows of the ids not in ``known``).
        When the version is not ``version``, ``known`` is out of date and every row comes back.
        One read snapshot: the three agree; on this thread's read connection, so searches
        answer side by side, not one at a time.

        A row is :meth:`match_marked`'s, followed by what ranking needs besides the text, in one
        statement: (id, title, excerpt, provider, topics, story_id, published_ts, quality,
        domain, is_main, the story's outlets, its lead's id, whether the lead is a main
        article); the last three are None for an article without a stored story. One JOIN
        instead of two more look-ups by ids (~1.5 ms at 400 articles)."""

        def read(conn: sqlite3.Connection) -> tuple[int, list[int], list[tuple[Any, ...]]]:
            now = int(conn.execute("SELECT n FROM ranking_version WHERE id = 1").fetchone()[0])
            if now != version or not known:
                sql, params = _window_statement(fts_query, window, lo, hi)
                rows = [tuple(r) for r in conn.execute(sql, params)]
                return now, [r[0] for r in rows], rows
            span = "" if lo is None or hi is None else " AND rowid BETWEEN ? AND ?"
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?{span} "
                    "ORDER BY rowid DESC LIMIT ?",
                    (fts_query,) + (() if not span else (lo, hi)) + (window,),
                )
            ]
            missing = {i for i in ids if i not in known}
            if not missing:
                return now, ids, []
            sql, params = _window_statement(fts_query, len(ids), min(missing), max(missing))
            return now, ids, [tuple(r) for r in conn.execute(sql, params) if r[0] in missing]

        return self._read(lambda conn: _in_snapshot(conn, read))

    def ranking_rows(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """What ranking needs of each article besides its text: id, story_id, published_ts,
        quality, domain, is_main."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            found += self._rows(
                "SELECT id, story_id, published_ts, quality, domain, coalesce(is_main, 0) "
                f"AS is_main FROM articles WHERE id IN ({marks})",
                chunk,
            )
        return found

    def term_documents(self, terms: Iterable[str]) -> dict[str, int]:
        """{indexed term (a stem): articles holding it}; a term the index lacks is left out."""
        wanted = sorted(set(terms))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        # search_terms (m012, storage.vocabulary): fts5vocab would count a term's articles by
        # reading its whole list of them (~80 ms for a word in most of 1M articles).
        return {
            r["term"]: int(r["docs"])
            for r in self._rows(
                f"SELECT term, docs FROM search_terms WHERE term IN ({marks})", wanted
            )
        }

    def prefix_documents(self, prefix: str, limit: int = 200) -> int:
        """Articles holding some term beginning with ``prefix`` (an over-count: an article with
        two such terms counts twice), over at most ``limit`` terms."""
        rows = self._rows(
            "SELECT docs FROM search_terms WHERE term >= ? AND term < ? LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return sum(int(r["docs"]) for r in rows)

    def corpus_stats(self) -> tuple[int, dict[str, float]]:
        """(articles, {field: average words}) — computed again only after an article changed
        (:meth:`ranking_version`); the averages from the newest ``SAMPLE`` articles."""
        # m015's version, not the newest id: a load of older articles (an archive) changes the
        # count without a newer article (tests/core/test_matches.py)
        newest = self.ranking_version()
        cached = self._corpus_stats
        if cached is not None and cached[0] == newest:
            return cached[1], cached[2]
        with self._stats_lock:
            n = int(self._scalar("SELECT count(*) FROM articles"))
            words = "length({0}) - length(replace({0}, ' ', '')) + 1"
            row = self._one(
                "SELECT "
                + ", ".join(
                    f"avg(CASE WHEN coalesce({c}, '') = '' THEN 0 ELSE {words.format(c)} END) "
                    f"AS {c}"
                    for c in _FIELD_COLUMNS
                )
                + f" FROM (SELECT {', '.join(_FIELD_COLUMNS)} FROM articles "
                "ORDER BY id DESC LIMIT ?)",
                (SAMPLE,),
            )
            averages = {c: float((row or {}).get(c) or 1.0) for c in _FIELD_COLUMNS}
            self._corpus_stats = (int(newest), n, averages)
            return n, averages

    def story_prominence(self, story_ids: Iterable[int]) -> dict[int, tuple[int, bool, int]]:
        """{story id: (independent outlets, whether its lead is a file's main article, the
        lead's id)} for the stored stories among ``story_ids`` (a one-article story has none)."""
        found: dict[int, tuple[int, bool, int]] = {}
        ids = list(dict.fromkeys(story_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self._rows(
                "SELECT s.id, s.outlets, s.lead_id, coalesce(a.is_main, 0) AS main FROM stories s "
                f"LEFT JOIN articles a ON a.id = s.lead_id WHERE s.id IN ({marks})",
                chunk,
            ):
                found[int(r["id"])] = (int(r["outlets"]), bool(r["main"]), int(r["lead_id"]))
        return found
