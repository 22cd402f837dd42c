"""Story-aware search over the store. Plain data in, plain data out: no Slack here.

The query language is :mod:`bot.core.query`; corrections are :mod:`bot.core.correct`.

Finding something sensible. A question's stop words ("how", "to", "on") are not required,
unless the query has nothing else. When fewer than a page of stories match, each plain word
that matches nothing is replaced by the nearest term of the index's vocabulary (``fts5vocab``,
m009; :func:`bot.core.correct.nearest_term`); then, if still fewer than a page have every word, the stories with some of them
follow (``StoryHit.partial``). ``SearchResult.note`` says either. A phrase, an excluded
word and a prefix are never corrected; ``to_fts`` (digests' topics) still requires all.

Ranking. The index hands back the ``WINDOW`` newest matches (article ids are time keys, so this
costs the window, not the number of matches: a word in every article is as fast as a rare one),
and each is scored::

    score = 0.60 * relevance + 0.30 * freshness + 0.10 * quality
    relevance = bm25 / best bm25 among the matches   (1.0 for the best match; headline words
                weigh 4x, topics 2x, excerpt 1x, outlet 0.5x)
    freshness = 0.5 ** (age in hours / 72)           (halves every 3 days)
    quality   = q / (q + 100) for the editorial score q, 0.3 when unknown

Relevance leads; between equally relevant stories the fresher wins, then the better. Articles
of one story collapse into one entry, ranked by its best-scoring article and shown by the
story's lead (``stories.lead_id``: a file's main article, then the best, then the earliest;
:mod:`bot.core.regroup`), or, when the lead is muted, by the next of its articles in that
order. The entry names each of the story's other outlets once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.correct import correct, rewritten, shown_words
from bot.core.preferences import is_muted
from bot.core.query import MAX_TERMS, Query, Term, parse, to_fts
from storage.store import Store

__all__ = [  # the query language (bot.core.query) is re-exported for the search's callers
    "MAX_TERMS",
    "SearchResult",
    "StoryHit",
    "Term",
    "hit_to_json",
    "other_outlets",
    "outlet_key",
    "parse",
    "score",
    "search",
    "shown_article",
    "to_fts",
]

WINDOW = 1000
HALF_LIFE_HOURS = 72.0
W_RELEVANCE, W_FRESHNESS, W_QUALITY = 0.60, 0.30, 0.10


@dataclass
class StoryHit:
    story_id: int
    score: float
    article: dict[str, Any]
    also: list[dict[str, Any]] = field(default_factory=list)  # other articles of the story
    partial: bool = False  # has only some of the query's words (the fallback)


@dataclass
class SearchResult:
    query: str
    hits: list[StoryHit]
    total: int  # stories found (within the window)
    offset: int = 0
    message: str | None = None  # why there is nothing to show, in plain words
    note: str | None = None  # what was searched instead of what was typed, in plain words

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


def score(
    bm25: float, best_bm25: float, published_ts: int | None, quality: int | None, now_ts: float
) -> float:
    relevance = bm25 / best_bm25 if best_bm25 < 0 else 1.0
    if published_ts is None:
        freshness = 0.0
    else:
        age_hours = max(0.0, (now_ts - published_ts) / 3600)
        freshness = 0.5 ** (age_hours / HALF_LIFE_HOURS)
    q = 0.3 if quality is None or quality < 0 else quality / (quality + 100)
    return W_RELEVANCE * relevance + W_FRESHNESS * freshness + W_QUALITY * q


def search(
    store: Store,
    query: str,
    *,
    limit: int = 5,
    offset: int = 0,
    now: dt.datetime | None = None,
    exclude_domains: Iterable[str] = (),
) -> SearchResult:
    query = (query or "").strip()
    parsed = parse(query)
    if parsed is None:
        return SearchResult(query, [], 0, offset, "Type a word or two to search for.")
    muted = {d.lower() for d in exclude_domains}
    now_ts = (now or dt.datetime.now(dt.UTC)).timestamp()
    content = parsed.content()
    ranked = _rank(store, content.fts(), muted, now_ts)
    corrected: dict[str, str] = {}  # typed word -> the index's term it is searched as
    if len(ranked) < limit:
        corrected = correct(store, content)
        if corrected:
            ranked = _rank(store, content.fts(), muted, now_ts)
    some, all_words = False, len(ranked)
    if len(ranked) < limit and len(content.groups) > 1 and not content.stop_words_only:
        ranked, some = _with_some_words(store, content, ranked, muted, now_ts)
    if not ranked:
        return SearchResult(query, [], 0, offset, f"No stories match “{query[:100]}”.")
    page = ranked[offset : offset + limit]
    _fill(store, page, muted)
    message = None if page else "No more stories."
    shown = shown_words(corrected, page)
    note = _note(query, content, corrected, shown, some=some, all_words=all_words)
    return SearchResult(query, page, len(ranked), offset, message, note)


def _note(
    query: str,
    content: Query,
    corrected: dict[str, str],
    shown: dict[str, str],
    *,
    some: bool,
    all_words: int,
) -> str | None:
    """What was searched, when it is not what was typed: corrected words, some words only
    (``corrected``: typed word -> index term; ``shown``: typed word -> the word to show;
    ``some``: stories with some words follow the ``all_words`` stories with all of them)."""
    notes = []
    if shown:
        notes.append(f"Showing results for {rewritten(query, shown)[:100]}.")
    if some:
        as_shown = {term: shown[typed] for typed, term in corrected.items()}
        words = ", ".join(
            as_shown.get(" ".join(t.words), " ".join(t.words)) for g in content.groups for t in g
        )[:100]
        if all_words:
            notes.append(f"Few stories have all of {words}; then stories with some of them.")
        else:
            notes.append(f"No story has all of {words}; showing stories with some of them.")
    return " ".join(notes) or None


def _rank(store: Store, expression: str, muted: set[str], now_ts: float) -> list[StoryHit]:
    """The stories of the ``WINDOW`` newest articles matching ``expression``, best first, each
    carrying its best-scoring article's ranking fields."""
    matches = store.match_newest(expression, WINDOW)
    if not matches:
        return []
    best_bm25 = min(b for _, b in matches)
    # Rank on the few fields scoring needs; whole rows come with the page's story members.
    rows = {r["id"]: r for r in store.ranking_fields([i for i, _ in matches])}
    best: dict[int, StoryHit] = {}
    for article_id, bm25 in matches:
        row = rows.get(article_id)
        if row is None or is_muted(row["domain"], muted):
            continue
        s = score(bm25, best_bm25, row["published_ts"], row["quality"], now_ts)
        hit = best.get(row["story_id"])
        if hit is None or s > hit.score:
            best[row["story_id"]] = StoryHit(row["story_id"], s, row)
    return sorted(best.values(), key=lambda h: (-h.score, -h.article["id"]))


def _with_some_words(
    store: Store, query: Query, ranked: list[StoryHit], muted: set[str], now_ts: float
) -> tuple[list[StoryHit], bool]:
    """``ranked`` (the stories with every word), then the stories with only some of them;
    and whether there are any of those."""
    have = {h.story_id for h in ranked}
    some = [h for h in _rank(store, query.any_fts(), muted, now_ts) if h.story_id not in have]
    for hit in some:
        hit.partial = True
    return ranked + some, bool(some)


def _fill(store: Store, page: list[StoryHit], muted: set[str]) -> None:
    """Each hit shown by its story's lead, naming the story's other outlets."""
    story_ids = [h.story_id for h in page]
    by_story: dict[int, list[dict[str, Any]]] = {}
    for m in store.story_members(story_ids):  # each story's in lead order
        if not is_muted(m["domain"], muted):
            by_story.setdefault(m["story_id"], []).append(m)
    leads = store.story_leads(story_ids)
    for hit in page:
        members = by_story.get(hit.story_id, [])
        hit.article = shown_article(members, leads.get(hit.story_id), hit.article)
        hit.also = other_outlets(members, hit.article)


def shown_article(
    members: list[dict[str, Any]], lead_id: int | None, matched: dict[str, Any]
) -> dict[str, Any]:
    """The article to show for a story: its lead when it is among ``members`` (the story's
    articles that may be shown, in lead order), else the first of them; a story with no stored
    lead (one article, or grouped by other code) shows ``matched`` (its whole row, if among
    the members)."""
    if lead_id is None:
        return next((m for m in members if m["id"] == matched["id"]), matched)
    return next((m for m in members if m["id"] == lead_id), members[0] if members else matched)


def outlet_key(row: dict[str, Any]) -> str:
    """What tells one outlet from another: its name (any case), else its domain."""
    return (row.get("provider") or row.get("domain") or "").strip().casefold()


def other_outlets(members: list[dict[str, Any]], shown: dict[str, Any]) -> list[dict[str, Any]]:
    """One article for each of the story's other outlets (the first in ``members``' order),
    leaving out the shown article's outlet."""
    seen = {outlet_key(shown)}
    out = []
    for m in members:
        key = outlet_key(m)
        if m["id"] != shown["id"] and key not in seen:
            seen.add(key)
            out.append(m)
    return out


def hit_to_json(hit: StoryHit) -> dict[str, Any]:
    a = hit.article
    return {
        "title": a["title"],
        "url": a["web_url"],
        "provider": a["provider"],
        "domain": a["domain"],
        "published": a["published"],
        "excerpt": a["excerpt"],
        "topics": json.loads(a["topics"] or "[]"),
        "score": round(hit.score, 6),
        "story_id": hit.story_id,
        "also": [{"provider": m["provider"], "url": m["web_url"]} for m in hit.also],
        # true: the story has only some of the query's words (the fallback after whole matches)
        "partial": hit.partial,
    }
