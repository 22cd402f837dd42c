"""Story-aware search over the store. Plain data in, plain data out: no Slack here.

Any text a person can type is a valid query. ``to_fts`` turns it into an FTS5 expression that
cannot be a syntax error: every word is quoted, and only these operators are understood:
``"a phrase"``, ``OR`` between words, ``-word`` or ``NOT word`` to exclude, ``word*`` for a
prefix. Everything else (brackets, ``NEAR(``, ``:``, emoji) is punctuation between words.

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
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.preferences import is_muted
from storage.store import Store

WINDOW = 1000
MAX_QUERY_CHARS = 2000
MAX_TERMS = 32
HALF_LIFE_HOURS = 72.0
W_RELEVANCE, W_FRESHNESS, W_QUALITY = 0.60, 0.30, 0.10

_TOKEN = re.compile(r'"[^"]*"?|\S+')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class _Term:
    words: list[str]
    prefix: bool = False

    def fts(self) -> str:
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")


def to_fts(query: str) -> str | None:
    """A safe FTS5 expression for a typed query, or None when it has no searchable word."""
    groups: list[list[_Term]] = []  # AND of ORs
    negated: list[_Term] = []
    join_or = negate_next = False
    for token in _TOKEN.findall(query[:MAX_QUERY_CHARS]):
        if token == "OR":
            join_or = bool(groups)
            continue
        if token in ("AND", "NOT"):
            negate_next = token == "NOT"
            continue
        negative = negate_next or (token.startswith("-") and len(token) > 1)
        negate_next = False
        words = _WORD.findall(token)
        if not words:
            continue
        term = _Term(
            [w.lower() for w in words],
            prefix=token.rstrip('"').endswith("*") and len(words[-1]) >= 2,
        )
        if negative:
            negated.append(term)
        elif join_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_or = False
        if len(groups) + len(negated) >= MAX_TERMS:
            break
    if not groups:
        return None
    positive = " AND ".join(
        "(" + " OR ".join(t.fts() for t in g) + ")" if len(g) > 1 else g[0].fts() for g in groups
    )
    if negated:
        return f"({positive}) NOT (" + " OR ".join(t.fts() for t in negated) + ")"
    return positive


@dataclass
class StoryHit:
    story_id: int
    score: float
    article: dict[str, Any]
    also: list[dict[str, Any]] = field(default_factory=list)  # other articles of the story


@dataclass
class SearchResult:
    query: str
    hits: list[StoryHit]
    total: int  # stories found (within the window)
    offset: int = 0
    message: str | None = None  # why there is nothing to show, in plain words

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
    expression = to_fts(query)
    if expression is None:
        return SearchResult(query, [], 0, offset, "Type a word or two to search for.")
    muted = {d.lower() for d in exclude_domains}
    now_ts = (now or dt.datetime.now(dt.UTC)).timestamp()
    matches = store.match_newest(expression, WINDOW)
    if not matches:
        return SearchResult(query, [], 0, offset, f"No stories match “{query[:100]}”.")
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
    ranked = sorted(best.values(), key=lambda h: (-h.score, -h.article["id"]))
    page = ranked[offset : offset + limit]
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
    message = None if page else "No more stories."
    return SearchResult(query, page, len(ranked), offset, message)


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
    }
