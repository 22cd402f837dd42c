"""How search and digests order what they found: plain functions over plain numbers, no SQL
and no Slack (the store hands the matched fields over; :mod:`bot.core.search` and
:mod:`bot.core.digest` call these).

A story's score is the best score among its matching articles::

    score = relevance × freshness × prominence × (1 + QUALITY_WEIGHT × quality)

relevance   BM25F (Robertson & Zaragoza, *The Probabilistic Relevance Framework: BM25 and
            Beyond*, 2009, section 3): each query term's occurrences are counted per field
            (headline, excerpt, the article's own topic labels, outlet), each field weighted and
            normalised by its own length against that field's average, the fields summed, and
            the sum saturated once::

                tf~(t)  = sum over fields f of  W_f × occ_f(t) / (1 - B_f + B_f × len_f / avg_f)
                BM25F   = sum over terms t of   idf(t) × tf~(t) / (K1 + tf~(t))
                idf(t)  = ln(1 + (N - df + 0.5) / (df + 0.5))

            ``occ`` counts 1 for the word in the form it was typed ("earnings") and ``STEM_ONLY``
            for another word of the same stem ("earned"). The result is divided by the best
            candidate's, so the best match has relevance 1.0.
            Why not FTS5's ``bm25()`` with column weights: it normalises length over the whole
            row (a long excerpt drowns a headline match), clamps the IDF of a word in half the
            rows, and cannot tell a word's exact form from its stem; every headline match
            scored 0.86-1.0 and quality decided.
freshness   a decay that scales relevance (Elasticsearch's ``function_score`` "exp" decay:
            origin the query's moment, an offset, a half-life): 1.0 for what is at most
            ``offset`` old, then halved every ``half_life``. A factor, not a term added: the
            ratio between two stories' scores depends on how much fresher one is, not on how old
            the corpus is, so relevance still separates stories two weeks old.
prominence  the story's reach (``stories`` of :mod:`bot.core.regroup`):
            ``1 + P_OUTLETS × log2(independent outlets)`` (at most ``MAX_OUTLETS`` counted), times
            ``MAIN_BOOST`` when the story's lead is an article some file is about (not only a
            related mention).
quality     the editorial score q as q / (q + 100), 0.3 when unknown: at most a
            ``QUALITY_WEIGHT`` share of the score, a tie-breaker between stories otherwise
            alike (a factor too, so it stays a tie-breaker when freshness is small).

Articles with all of the query's words come before those with only some (the search's
fallback); within each, the score orders. Ties go to the newer article.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import Stemmer  # type: ignore[import-not-found]  # PyStemmer publishes no type information

# -- the formula's constants, with why -------------------------------------------------------

K1 = 1.2  # saturation: a word's tenth occurrence adds little (BM25's usual 1.2)


@dataclass(frozen=True)
class Field:
    weight: float  # how much one occurrence here says, against one in the excerpt
    b: float  # how much a long field dilutes an occurrence (0: not at all, 1: fully)


FIELDS: dict[str, Field] = {
    # A headline is what the story is about: one word there says three times one in the excerpt.
    "title": Field(3.0, 0.5),
    # Excerpts vary most in length (a line to a paragraph): normalise them most.
    "excerpt": Field(1.0, 0.75),
    # The article's own upstream labels (never inherited ones: see bot.core.articles).
    "topics": Field(1.0, 0.5),
    # The outlet's name ("Azure Blog" for "azure") is weak evidence, whatever its length.
    "provider": Field(0.3, 0.0),
}
STEM_ONLY = 0.5  # an occurrence of another form of the word's stem ("earned" for "earnings")

P_OUTLETS = 0.3  # each doubling of independent outlets adds this to prominence
MAX_OUTLETS = 16  # beyond this a story is as prominent as it gets
MAIN_BOOST = 1.25  # the story's lead is an article a file is about, not only a mention
QUALITY_WEIGHT = 0.05  # editorial quality: a tie-breaker, never more
OFF_LEAD = 0.5  # a story found through a member whose lead does not match: half as relevant


@dataclass(frozen=True)
class Decay:
    """Freshness: 1.0 up to ``offset_hours`` old, then halved every ``half_life_hours``."""

    offset_hours: float
    half_life_hours: float

    def __call__(self, published_ts: int | None, now_ts: float) -> float:
        if published_ts is None:
            return 0.5 ** (1 + self.offset_hours / self.half_life_hours)  # an undated article
        age_hours = max(0.0, (now_ts - published_ts) / 3600 - self.offset_hours)
        return float(0.5 ** (age_hours / self.half_life_hours))


# Search: the best recent stories; a month-old story that is squarely on the query still beats
# a fresh passing mention (half as relevant, a month older: 0.5 vs 0.42).
SEARCH_DECAY = Decay(offset_hours=24.0 * 7, half_life_hours=24.0 * 365)
# Digests look back 36 hours: this morning's news before yesterday morning's, all else equal.
DIGEST_DECAY = Decay(offset_hours=6.0, half_life_hours=24.0)


# -- terms ------------------------------------------------------------------------------------

_PORTER = Stemmer.Stemmer("porter")  # the index's stemmer (FTS5's "porter" tokenizer)
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKED = re.compile("\x01(.*?)\x02", re.DOTALL)
MARK_OPEN, MARK_CLOSE = "\x01", "\x02"  # what the store's highlight() puts around a match


@functools.lru_cache(maxsize=65_536)  # the same few words recur across a window's matches
def stem(word: str) -> str:
    return str(_PORTER.stemWord(word.lower()))


@dataclass(frozen=True)
class QueryTerm:
    """One term of a query, as ranking sees it: its words as typed (lower case) and stemmed."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(w) for w in self.words)


def idf(df: int, n: int) -> float:
    """BM25's inverse document frequency, never negative (the "+1" form)."""
    df = max(0, min(df, n))
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


# -- relevance ---------------------------------------------------------------------------------


class Candidate(NamedTuple):
    """A matched article's fields as the index marked them (``MARK_OPEN``/``MARK_CLOSE`` around
    each match); ``topics`` is its own labels as the JSON text stored. A tuple: a thousand are
    made per search."""

    article_id: int
    title: str
    excerpt: str
    provider: str
    topics: str


def marked_words(marked: str) -> list[str]:
    """The words of a marked field that matched."""
    return [w for span in _MARKED.findall(marked) for w in _WORD.findall(span)]


def field_length(text: str) -> int:
    """Words in a field (spaces + 1: a count, not a tokenisation, for speed on the window)."""
    return text.count(" ") + 1 if text else 0


def occurrences(marked: str, terms: Sequence[QueryTerm]) -> list[float]:
    """Per term, its weighted occurrences in a marked field: 1 per match in the typed form,
    ``STEM_ONLY`` per match in another form of its stem; a phrase counts once per whole match;
    a prefix term (``kube*``) counts 1 per word beginning with its prefix."""
    index, prefixes = _term_index(terms if isinstance(terms, tuple) else tuple(terms))
    return _count(marked, index, prefixes, len(terms))


def _count(
    marked: str,
    index: dict[str, list[tuple[int, str, float]]],
    prefixes: list[tuple[int, str]],
    n: int,
) -> list[float]:
    counts = [0.0] * n
    if MARK_OPEN not in marked:
        return counts
    for span in _MARKED.findall(marked):
        for word in _WORD.findall(span.lower()):
            for i, typed, share in index.get(stem(word), ()):
                counts[i] += share if word == typed else share * STEM_ONLY
            for i, prefix in prefixes:
                if word.startswith(prefix):
                    counts[i] += 1.0
    return counts


@functools.lru_cache(maxsize=256)  # once per query, not once per field of each match
def _term_index(
    terms: tuple[QueryTerm, ...],
) -> tuple[dict[str, list[tuple[int, str, float]]], list[tuple[int, str]]]:
    """stem -> [(term index, the word as typed, its share of one match of the term)] for the
    terms that are not prefixes; and [(term index, prefix)] for those that are."""
    index: dict[str, list[tuple[int, str, float]]] = {}
    for i, term in enumerate(terms):
        if term.prefix:
            continue
        share = 1.0 / len(term.words)
        for word, word_stem in zip(term.words, term.stems, strict=True):
            index.setdefault(word_stem, []).append((i, word, share))
    return index, [(i, t.words[-1]) for i, t in enumerate(terms) if t.prefix]


def bm25f(
    candidate: Candidate,
    terms: Sequence[QueryTerm],
    idfs: Sequence[float],
    averages: Mapping[str, float],
) -> float:
    """The BM25F relevance of one candidate (see the module's docstring)."""
    return _Scorer(tuple(terms), tuple(idfs), averages).bm25f(candidate)


class _Scorer:
    """BM25F for one query: what does not change between its candidates, computed once (a
    search scores up to a thousand of them)."""

    def __init__(
        self, terms: tuple[QueryTerm, ...], idfs: tuple[float, ...], averages: Mapping[str, float]
    ) -> None:
        self.terms = terms
        self.idfs = idfs
        self.index, self.prefixes = _term_index(terms)
        # A marked span as highlight() gives it ("Apps", "Power Apps") -> what it adds to each
        # term: a window marks the same few spans again and again, so each is read once.
        self.spans: dict[str, list[tuple[int, float]]] = {}
        # (field, weight, 1 - b, b / average length)
        self.fields = [
            (name, f.weight, 1 - f.b, f.b / max(averages.get(name, 1.0), 1.0))
            for name, f in FIELDS.items()
        ]

    def bm25f(self, candidate: Candidate) -> float:
        tf = [0.0] * len(self.terms)
        for name, weight, keep, per_word in self.fields:
            marked: str = getattr(candidate, name)
            if not marked or MARK_OPEN not in marked:
                continue
            scale = weight / (keep + per_word * field_length(marked))
            counts = [0.0] * len(self.terms)
            for span in _MARKED.findall(marked):
                adds = self.spans.get(span)
                if adds is None:
                    found = _count(
                        MARK_OPEN + span + MARK_CLOSE, self.index, self.prefixes, len(self.terms)
                    )
                    adds = self.spans[span] = [(i, c) for i, c in enumerate(found) if c]
                for i, c in adds:
                    counts[i] += c
            for i, c in enumerate(counts):
                if c:
                    tf[i] += c * scale
        return sum(w * t / (K1 + t) for w, t in zip(self.idfs, tf, strict=True) if t)


# -- the whole score ----------------------------------------------------------------------------


def prominence(outlets: int | None, lead_is_main: bool) -> float:
    n = min(max(outlets or 1, 1), MAX_OUTLETS)
    return (1 + P_OUTLETS * math.log2(n)) * (MAIN_BOOST if lead_is_main else 1.0)


def quality_score(quality: int | None) -> float:
    return 0.3 if quality is None or quality < 0 else quality / (quality + 100)


def story_relevance(article: float, lead: float | None, is_lead: bool) -> float:
    """How relevant a story is through one of its matching articles: fully when that article
    is the story's lead (the one shown), else at most as relevant as the lead, or at most
    ``OFF_LEAD`` of the article's own when the lead does not match at all (the entry shown would
    not be about the query: a member mentions it in passing)."""
    if is_lead:
        return article
    if lead is None:
        return article * OFF_LEAD
    return max(lead, min(article, lead + (article - lead) * OFF_LEAD))


def final_score(relevance: float, freshness: float, prominence_: float, quality: float) -> float:
    """Prominence lifts a story as much as it is relevant: a story many outlets reported that
    only mentions the query's words in passing is not lifted over one about them."""
    return factored_score(relevance, freshness, prominence_, 1 + QUALITY_WEIGHT * quality)


def factored_score(
    relevance: float, freshness: float, prominence_: float, quality_factor: float
) -> float:
    """:func:`final_score` with its quality as the factor ``1 + QUALITY_WEIGHT × quality``
    (computed once per article by a caller that ranks it again and again)."""
    boost = 1 + (prominence_ - 1) * relevance
    return relevance * freshness * boost * quality_factor


def relevances(
    candidates: Iterable[Candidate],
    terms: Sequence[QueryTerm],
    idfs: Sequence[float],
    averages: Mapping[str, float],
) -> dict[int, float]:
    """{article id: relevance in (0, 1]}: each candidate's BM25F over the best one's."""
    return normalised(raw_relevances(candidates, terms, idfs, averages))


def raw_relevances(
    candidates: Iterable[Candidate],
    terms: Sequence[QueryTerm],
    idfs: Sequence[float],
    averages: Mapping[str, float],
) -> dict[int, float]:
    """{article id: its BM25F}, before :func:`normalised` divides it by the best's."""
    scorer = _Scorer(tuple(terms), tuple(idfs), averages)
    return {c.article_id: scorer.bm25f(c) for c in candidates}


def normalised(raw: Mapping[int, float]) -> dict[int, float]:
    """Each raw BM25F over the best one's, in (0, 1]."""
    best = max(raw.values(), default=0.0)
    if best <= 0:
        return dict.fromkeys(raw, 1.0)  # matched on nothing the fields show (an outlet alias)
    return {k: max(v / best, 1e-6) for k, v in raw.items()}
