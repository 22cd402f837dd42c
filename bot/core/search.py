"""Story-aware search over the store. Plain data in, plain data out: no Slack here.

The query language is :mod:`bot.core.query`; corrections are :mod:`bot.core.correct`.

Finding something sensible. A question's stop words ("how", "to", "on") are not required,
unless the query has nothing else. When fewer than a page of stories match, each plain word
that matches nothing is replaced by the nearest term of the index's vocabulary
(``search_terms``, m012; :func:`bot.core.correct.nearest_term`); then, if still fewer than a
page have every word, the stories with some of them follow (``StoryHit.partial``). ``SearchResult.note`` says either. A phrase, an excluded
word and a prefix are never corrected; ``to_fts`` (digests' topics) still requires all.

Ranking (:mod:`bot.core.ranking` holds the formula and why). The index hands back the
``WINDOW`` newest matches with their matches marked (article ids are time keys, so this costs
the window, not the number of matches: a word in every article is as fast as a rare one); each
is scored ``relevance (BM25F per field) × freshness (a decay from the query's moment) ×
prominence (the story's outlets, a main lead) + a little quality``. Articles of one story
collapse into one entry, ranked by its best-scoring article and shown by the story's lead
(``stories.lead_id``: a file's main article, then the best, then the earliest;
:mod:`bot.core.regroup`), or, when the lead is muted, by the next of its articles in that
order. The entry names each of the story's other outlets once. A story is listed once in an
answer, and a page asked for with the stories already shown never shows one of them again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rapidfuzz import fuzz

from bot.core import ranking
from bot.core.correct import correct, rewritten, shown_words
from bot.core.matches import Match, MatchMemo, idfs
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
    "ranked_stories",
    "same_outlet",
    "search",
    "shown_article",
    "to_fts",
]

# Newest matches ranked. 200: scoring a match (its fields marked by highlight(), BM25F) costs
# ~25-30 us at 1M articles, so the window is most of a search's time; on our judged queries 200
# rank about as well as 400 and 1000 (bench/relevance/score.py, nDCG@5 / P@5: 200 0.731 / 0.749,
# 400 0.734 / 0.754, 1000 0.738 / 0.760; 150 starts to lose questions, 0.729 / 0.743):
# freshness leaves older matches little chance anyway.
WINDOW = 200


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
    moment: float | None = None  # the query's moment (a timestamp): the next pages rank as of it
    shown: list[int] = field(default_factory=list)  # articles shown so far, this page included

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


def search(
    store: Store,
    query: str,
    *,
    limit: int = 5,
    offset: int = 0,
    now: dt.datetime | None = None,
    exclude_domains: Iterable[str] = (),
    shown: Iterable[int] = (),
    memo: MatchMemo | None = None,
) -> SearchResult:
    """The page of stories at ``offset`` for ``query``, at the moment ``now``. ``shown``: the
    articles already shown to this reader for this query (earlier pages): their stories are
    left out of this page whatever happened meanwhile (a load, a regroup), so paging never
    shows a story twice. ``memo``: the matches scored by earlier searches, for this one to
    reuse (:mod:`bot.core.matches`; the same answer, less work)."""
    query = (query or "").strip()
    parsed = parse(query)
    if parsed is None:
        return SearchResult(query, [], 0, offset, "Type a word or two to search for.")
    muted = {d.lower() for d in exclude_domains}
    now_ts = (now or dt.datetime.now(dt.UTC)).timestamp()
    content = parsed.content()
    memo = memo if memo is not None else MatchMemo()
    ranked = _rank_all_words(store, content, muted, now_ts, memo)
    corrected: dict[str, str] = {}  # typed word -> the index's term it is searched as
    if len(ranked) < limit:
        corrected = correct(store, content)
        if corrected:
            _as_written(store, content, corrected)
            ranked = _rank_all_words(store, content, muted, now_ts, memo)
    all_words = len(ranked)
    if len(ranked) < limit and len(content.groups) > 1 and not content.stop_words_only:
        ranked = ranked + _with_some_words(store, content, ranked, muted, now_ts, memo)
    some = len(ranked) > all_words
    if not ranked:
        return SearchResult(query, [], 0, offset, f"No stories match “{query[:100]}”.")
    earlier = list(dict.fromkeys(shown))
    page = _page(store, ranked, offset, limit, set(earlier), all_words)
    _fill(store, page, muted)
    message = None if page else "No more stories."
    words = shown_words(corrected, page)
    note = _note(query, content, corrected, words, some=some, all_words=all_words)
    now_shown = earlier + [h.article["id"] for h in page]
    return SearchResult(query, page, len(ranked), offset, message, note, now_ts, now_shown)


def _as_written(store: Store, query: Query, corrected: dict[str, str]) -> None:
    """Each corrected term (an index stem, "recognit") as the word the articles write that is
    nearest the word typed ("recognition" for "recogniton", not "recognized"), so the ranking
    counts that form as the one typed, as it would had it been typed right."""
    nearest = {term: typed for typed, term in corrected.items()}
    for group in query.groups:
        for i, term in enumerate(group):
            typed = nearest.get(term.words[0]) if len(term.words) == 1 else None
            if typed is None:
                continue
            forms = {
                w.lower()
                for row in store.match_marked(term.fts(), 20)
                for field in row[1:]
                for w in ranking.marked_words(field or "")
            }
            if forms:
                best = max(sorted(forms), key=lambda w: fuzz.ratio(typed, w))
                group[i] = Term([best], typed=best)


def _page(
    store: Store,
    ranked: list[RankedStory],
    offset: int,
    limit: int,
    shown: set[int],
    all_words: int,
) -> list[StoryHit]:
    """``ranked[offset:offset + limit]``; with ``shown`` (the articles of every earlier page),
    the first ``limit`` stories that hold none of them: whatever moved meanwhile (a load, a
    regroup), no story comes back and none is skipped. Those after the first ``all_words``
    have only some of the words. Only the page becomes hits (a ranking holds hundreds)."""
    if not shown:
        chosen = list(range(offset, min(offset + limit, len(ranked))))
    else:
        seen = {r["story_id"] for r in store.ranking_rows(sorted(shown))} | shown
        chosen = [i for i, r in enumerate(ranked) if r.story_id not in seen][:limit]
    return [
        StoryHit(ranked[i].story_id, ranked[i].score, ranked[i].row, partial=i >= all_words)
        for i in chosen
    ]


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


def _rank(
    store: Store,
    query: Query,
    expression: str,
    muted: set[str],
    now_ts: float,
    memo: MatchMemo | None = None,
) -> list[RankedStory]:
    """The stories of the ``WINDOW`` newest articles matching ``expression``, best first."""
    return ranked_stories(
        store, terms_of(query), expression, now_ts, ranking.SEARCH_DECAY, muted=muted, memo=memo
    )


def _rank_all_words(
    store: Store, query: Query, muted: set[str], now_ts: float, memo: MatchMemo | None = None
) -> list[RankedStory]:
    """The stories with every word of ``query``. FTS5 answers an AND of frequent words that
    no article holds together by walking their whole lists (~160 ms for six words at 1M
    articles), newest first at that, which walks slower than oldest first (~2x); two rare
    words alone, oldest first and stopping at the first, say so in a few: when the two
    rarest plain words never meet, nothing has them all. (Two words as well: "contoso
    fabrikam" walked 10-15 ms newest first at 1M, 4-6 ms oldest first.)"""
    plain = [g[0] for g in query.groups if len(g) == 1 and not g[0].prefix]
    if len(plain) >= 2:
        docs = store.term_documents(
            s for t in plain for s in ranking.QueryTerm(tuple(t.words)).stems
        )
        rarest = sorted(plain, key=lambda t: min(docs.get(ranking.stem(w), 0) for w in t.words))[:2]
        if not store.matches_any(" AND ".join(t.fts() for t in rarest)):
            return []
    return _rank(store, query, query.fts(), muted, now_ts, memo)


class RankedStory(NamedTuple):
    """A story as ranked: a tuple (a thousand are made per ranking)."""

    story_id: int
    article_id: int  # its best-scoring article
    score: float
    match: Match  # that article as ranking read it

    @property
    def row(self) -> dict[str, Any]:
        """That article's ranking fields (see Store.ranking_rows)."""
        m = self.match
        values = (m.id, m.story_id, m.published_ts, m.quality, m.domain, m.is_main)
        return dict(zip(_RANKING_FIELDS, values, strict=True))


def terms_of(query: Query) -> list[ranking.QueryTerm]:
    """The query's positive terms as ranking weighs them (excluded words match nothing)."""
    return [ranking.QueryTerm(tuple(t.words), t.prefix) for g in query.groups for t in g]


def ranked_stories(
    store: Store,
    terms: list[ranking.QueryTerm],
    expression: str,
    now_ts: float,
    decay: ranking.Decay,
    *,
    muted: set[str] | frozenset[str] = frozenset(),
    window: int = WINDOW,
    lo: int | None = None,
    hi: int | None = None,
    memo: MatchMemo | None = None,
) -> list[RankedStory]:
    """The stories of the ``window`` newest articles matching ``expression`` (ids from ``lo``
    to ``hi`` when given), best first, each scored by its best article
    (:func:`bot.core.ranking.final_score`); articles of muted outlets are left out. Search and
    digests both rank with this, each with its own freshness decay. ``memo`` keeps the
    matches' scores for the next ranking of the same query (:mod:`bot.core.matches`: the same
    result, less work)."""
    matches = (memo if memo is not None else MatchMemo()).window(
        store, terms, expression, window, lo, hi
    )
    if not matches:
        return []
    relevance = ranking.normalised({m.id: m.raw for m in matches})
    story_relevance, score = ranking.story_relevance, ranking.factored_score
    best: dict[int, tuple[float, Match]] = {}  # story -> its best article's score, the article
    for m in matches:
        if muted and is_muted(m.domain, muted):
            continue
        story_id = m.story_id if m.story_id is not None else m.id
        s = score(
            story_relevance(relevance[m.id], relevance.get(m.lead), m.id == m.lead),
            decay(m.published_ts, now_ts),
            m.prominence,
            m.quality_factor,
        )
        held = best.get(story_id)
        if held is None or s > held[0]:
            best[story_id] = (s, m)
    found = [RankedStory(story, m.id, s, m) for story, (s, m) in best.items()]
    found.sort(key=lambda r: (-r.score, -r.article_id))
    return found


# What RankedStory.row holds (Store.ranking_rows' columns).
_RANKING_FIELDS = ("id", "story_id", "published_ts", "quality", "domain", "is_main")
_idfs = idfs  # bot.core.matches.idfs, by its old name


def _with_some_words(
    store: Store,
    query: Query,
    ranked: list[RankedStory],
    muted: set[str],
    now_ts: float,
    memo: MatchMemo | None = None,
) -> list[RankedStory]:
    """The stories with only some of the words, after ``ranked`` (those with every word)."""
    have = {h.story_id for h in ranked}
    return [
        h
        for h in _rank(store, query, query.any_fts(), muted, now_ts, memo)
        if h.story_id not in have
    ]


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


_NOT_WORD = re.compile(r"[\W_]+")


def _name_key(name: str | None) -> str:
    """An outlet's name as compared: any case, no spaces or punctuation, no leading "the"
    ("The Reuters." and "reuters" are one)."""
    key = _NOT_WORD.sub("", (name or "").casefold())
    return key[3:] if key.startswith("the") and len(key) > 6 else key


def _domain_key(domain: str | None) -> str:
    return (domain or "").strip().casefold().removeprefix("www.")


def outlet_key(row: dict[str, Any]) -> str:
    """What tells one outlet from another at a glance: its name (any case, no punctuation),
    else its domain. (:func:`same_outlet` also matches a name with a domain.)"""
    return _name_key(row.get("provider")) or _domain_key(row.get("domain"))


def same_outlet(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two articles are from one outlet: the same name (case and punctuation aside),
    the same domain (``www.`` aside: muting goes by domain too), or one's name is a label of
    the other's domain ("Reuters" and reuters.com)."""
    name_a, name_b = _name_key(a.get("provider")), _name_key(b.get("provider"))
    domain_a, domain_b = _domain_key(a.get("domain")), _domain_key(b.get("domain"))
    if (name_a and name_a == name_b) or (domain_a and domain_a == domain_b):
        return True
    labels_a = {_name_key(x) for x in domain_a.split(".")[:-1]}
    labels_b = {_name_key(x) for x in domain_b.split(".")[:-1]}
    return bool(name_a in labels_b - {""} or name_b in labels_a - {""})


def other_outlets(members: list[dict[str, Any]], shown: dict[str, Any]) -> list[dict[str, Any]]:
    """One article for each of the story's other outlets (the first in ``members``' order),
    leaving out the shown article's outlet (:func:`same_outlet`): a Reuters story never says
    "also: Reuters", whether the other article spells it "REUTERS", "Reuters." or reuters.com.
    Search and digests both name a story's outlets with this."""
    out: list[dict[str, Any]] = []
    for m in members:
        if m["id"] == shown["id"] or same_outlet(m, shown):
            continue
        if not any(same_outlet(m, o) for o in out):
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
