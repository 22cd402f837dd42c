"""A topic's scored matches, kept from one ranking to the next (issue 15, item 2).

Ranking a window of matches (:func:`bot.core.search.ranked_stories`) costs, per article, FTS5's
``highlight()`` over its four fields, the JOINs for its story and BM25F in Python: ~20 us, so a
digest topic whose 36 hours hold a thousand matches takes ~20 ms at 1M articles. None of that
depends on the moment ranked. Only freshness does, and which articles the window holds.

The same topic is ranked again and again: for each time of day its channels take their
digest (08:00 in a dozen time zones, 07:30, ...), for each reader who searches it. A
:class:`MatchMemo` keeps, per query, each article's raw BM25F and ranking fields
(:class:`Match`); the next ranking asks the store for the window's ids alone and the full rows
of the ids it does not hold (:meth:`storage.store.Store.match_window_except`), then only
freshness and the sums are computed again. Nothing is approximated: a ranking through the
memo is the ranking without it (``tests/core/test_matches.py`` checks them equal).

What is kept is right while three things stay as they were, and is dropped when one moves:

- the store's ranking version (m015: triggers bump it when an article's indexed text, story,
  date, quality, outlet or ``is_main`` changes, or a story's lead or outlets; in any process),
  read in the same snapshot as the window;
- the query terms' IDFs (the vocabulary table, folded in after a load);
- the corpus's field-length averages (:meth:`storage.store.Store.corpus_stats`).

Memory is bounded: at most ``max_rows`` matches over all queries (the least recently ranked
queries are dropped first), and a query's matches are trimmed to its latest window when they
grow past ``KEEP_WINDOWS`` windows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bot.core import ranking
from storage.store import Store

MAX_ROWS = 60_000  # matches kept over all queries (~480 bytes each: ~30 MB at most)
KEEP_WINDOWS = 6  # a query's matches trimmed to its latest window past this many windows


class Match(NamedTuple):
    """One matched article as ranking uses it, whatever the moment: a tuple (a thousand are
    read per ranking)."""

    id: int
    raw: float  # BM25F before the window's best divides it (bot.core.ranking.bm25f)
    story_id: int | None
    published_ts: int | None
    quality: int | None
    domain: str | None
    is_main: int
    outlets: int  # the story's independent outlets (1 without a stored story)
    lead: int  # the story's lead (the article itself without a stored story)
    main_lead: bool  # the lead is a file's main article
    prominence: float  # ranking.prominence(outlets, main_lead)
    quality_factor: float  # 1 + QUALITY_WEIGHT × ranking.quality_score(quality)


@dataclass
class _Entry:
    version: int
    idfs: tuple[float, ...]
    averages: tuple[tuple[str, float], ...]
    rows: dict[int, Match] = field(default_factory=dict)


def to_match(row: Sequence[Any], raw: float) -> Match:
    """A :meth:`storage.store.Store.match_window_except` row (its fields after the marked
    text) with its raw BM25F."""
    article_id, story, domain, is_main = row[0], row[5], row[8], int(row[9])
    if row[10] is not None:  # a stored story: its outlets, its lead, whether the lead is main
        outlets, lead, main_lead = int(row[10]), int(row[11]), bool(row[12])
    else:
        outlets, lead, main_lead = 1, article_id, bool(is_main)
    quality = row[7]
    return Match(
        article_id,
        raw,
        story,
        row[6],
        quality,
        domain,
        is_main,
        outlets,
        lead,
        main_lead,
        ranking.prominence(outlets, main_lead),
        1 + ranking.QUALITY_WEIGHT * ranking.quality_score(quality),
    )


class MatchMemo:
    """Scored matches per query, shared by the threads that rank (see the module's doc)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._entries: OrderedDict[tuple[str, tuple[ranking.QueryTerm, ...]], _Entry] = (
            OrderedDict()
        )
        self._held = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Queries held."""
        return len(self._entries)

    @property
    def held(self) -> int:
        """Matches held, over all queries."""
        return self._held

    def window(
        self,
        store: Store,
        terms: Sequence[ranking.QueryTerm],
        expression: str,
        window: int,
        lo: int | None = None,
        hi: int | None = None,
    ) -> list[Match]:
        """The ``window`` newest articles matching ``expression`` (ids from ``lo`` to ``hi``
        when given), newest first, each with its raw BM25F for ``terms``."""
        key = (expression, tuple(terms))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        known: Mapping[int, Match] = entry.rows if entry is not None else {}
        version, ids, rows = store.match_window_except(
            expression, window, lo, hi, entry.version if entry else None, known.keys()
        )
        if not ids:
            return []
        idfs, averages = _statistics(store, terms, len(ids))
        partial = len(rows) < len(ids)
        if partial and (entry is None or (entry.idfs, entry.averages) != (idfs, averages)):
            # the corpus's statistics moved since the rows kept were scored: all again
            version, ids, rows = store.match_window_except(
                expression, window, lo, hi, None, frozenset()
            )
            known = {}
            idfs, averages = _statistics(store, terms, len(ids))
        fresh = _scored(rows, terms, idfs, averages)
        found = [fresh.get(i) or known[i] for i in ids]
        self._keep(key, version, idfs, averages, fresh, found, window)
        return found

    def _keep(
        self,
        key: tuple[str, tuple[ranking.QueryTerm, ...]],
        version: int,
        idfs: tuple[float, ...],
        averages: tuple[tuple[str, float], ...],
        fresh: dict[int, Match],
        found: list[Match],
        window: int,
    ) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or (entry.version, entry.idfs, entry.averages) != (
                version,
                idfs,
                averages,
            ):
                if entry is not None:
                    self._held -= len(entry.rows)
                entry = self._entries[key] = _Entry(version, idfs, averages)
                fresh = {m.id: m for m in found}
            elif len(entry.rows) + len(fresh) > KEEP_WINDOWS * max(window, 1):
                self._held -= len(entry.rows)
                entry.rows = {}
                fresh = {m.id: m for m in found}
            before = len(entry.rows)
            entry.rows.update(fresh)
            self._held += len(entry.rows) - before
            self._entries.move_to_end(key)
            while self._held > self.max_rows and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self._held -= len(dropped.rows)


def _statistics(
    store: Store, terms: Sequence[ranking.QueryTerm], matched: int
) -> tuple[tuple[float, ...], tuple[tuple[str, float], ...]]:
    """(each term's IDF, the field-length averages) as the corpus stands."""
    n, averages = store.corpus_stats()
    return tuple(idfs(store, terms, n, matched)), tuple(sorted(averages.items()))


def idfs(store: Store, terms: Sequence[ranking.QueryTerm], n: int, matched: int) -> list[float]:
    """Each term's IDF from the index's vocabulary: a phrase weighs as its rarest word, a
    prefix as all its terms together; a stem the vocabulary does not hold (our stemmer and the
    index's disagree) as rare as the matches found allow."""
    docs = store.term_documents(s for t in terms if not t.prefix for s in t.stems)
    out = []
    for t in terms:
        if t.prefix:
            df = store.prefix_documents(t.words[-1])
        else:
            df = min(docs.get(s, 0) for s in t.stems)
        out.append(ranking.idf(max(df, 1 if df else matched), n))
    return out


def _scored(
    rows: list[tuple[Any, ...]],
    terms: Sequence[ranking.QueryTerm],
    idfs_: tuple[float, ...],
    averages: tuple[tuple[str, float], ...],
) -> dict[int, Match]:
    if not rows:
        return {}
    raw = ranking.raw_relevances(
        (ranking.Candidate(*r[:5]) for r in rows), terms, idfs_, dict(averages)
    )
    return {r[0]: to_match(r, raw[r[0]]) for r in rows}
