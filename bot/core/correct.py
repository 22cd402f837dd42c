"""Correcting a word that matches nothing (issue 12, item 1): the nearest term of the search
index's vocabulary, and the words to show for it ("Showing results for kubernetes"). Plain data
in, plain data out: no Slack here.

A word is corrected only when it matches nothing; the candidates share its first two letters
and are about its length; rapidfuzz's ratio (C, well kept) decides how near they are, with a
frequent term winning over a rare one as near.

Speed (issue 12, item 7). The candidates are a range of ``search_terms`` (m012,
:mod:`storage.vocabulary`), the index's vocabulary kept as a plain table: a range costs its
terms only, where FTS5's own ``fts5vocab`` read every article of each term in it (a range
holding a word found in most articles cost ~150 ms at 1M articles). rapidfuzz's
``process.extract`` scores the range in C: a large vocabulary has thousands of terms under
two letters. Each of the (at most 3) best is then looked up once in the index. Whether a word
matches anything is asked without ranking (``Store.matches_any``): bm25() would first count every
article of each word (~8 ms for a word in most of 100k articles, ~50 ms at 1M).
"""

from __future__ import annotations

import math
import re
from typing import Any

import Stemmer  # type: ignore[import-not-found]  # PyStemmer publishes no type information
from rapidfuzz import fuzz, process

from bot.core.query import Query, Term
from storage.store import Store

# A correction is at least this similar (rapidfuzz's ratio, 0-100) to the word typed; among
# near terms, each tenfold of articles holding one weighs as FREQUENCY_WEIGHT points of it.
CORRECTION_CUTOFF = 80.0
FREQUENCY_WEIGHT = 2.0
# The index's stemmer (FTS5's "porter"): what a shown word must stem to.
PORTER = Stemmer.Stemmer("porter")
_WORD = re.compile(r"\w+", re.UNICODE)


def correct(store: Store, query: Query) -> dict[str, str]:
    """Replace, in ``query``, each word that matches nothing by the nearest word of the index;
    returns {typed word: the index term searched instead}. Costs a look-up per word only when
    the query found too little, and a vocabulary range only for a word that matches nothing."""
    corrected: dict[str, str] = {}
    for group in query.groups:
        for i, term in enumerate(group):
            if not term.correctable or store.matches_any(term.fts()):
                continue
            nearest = nearest_term(store, term.words[0])
            if nearest is not None:
                corrected[term.words[0]] = nearest
                group[i] = Term([nearest], typed=nearest)
    return corrected


def nearest_term(store: Store, word: str) -> str | None:
    """The index's term nearest ``word`` (a frequent one before a rare one as near), among
    those sharing its first two letters and about its length; None when none is near enough.
    The first two letters keep the look-up to a narrow range of the vocabulary (a typo there
    is not corrected)."""
    stem = str(PORTER.stemWord(word))
    docs = dict(store.vocabulary(word[:2], max(2, len(stem) - 3), len(word) + 2))
    near = _similar(word, list(docs))
    # A term is also as near as it is to the stem, unless it is a mere beginning of the stem
    # ("kuber" for "kubernetes").
    for term, similarity in _similar(stem, [t for t in docs if len(t) >= len(stem) - 1]).items():
        near[term] = max(near.get(term, 0.0), similarity)
    scored = sorted(
        ((s + FREQUENCY_WEIGHT * math.log10(docs[t] + 1), t) for t, s in near.items()),
        reverse=True,
    )
    for _, term in scored[:3]:
        # The index stems what it is asked for again: keep a term that still finds itself.
        if store.matches_any(f'"{term}"'):
            return term
    return None


def _similar(word: str, terms: list[str]) -> dict[str, float]:
    """{term: rapidfuzz ratio to ``word``} of the ``terms`` at least ``CORRECTION_CUTOFF``
    similar to it."""
    found = process.extract(
        word, terms, scorer=fuzz.ratio, score_cutoff=CORRECTION_CUTOFF, limit=None
    )
    return {str(term): float(similarity) for term, similarity, _ in found}


def shown_words(corrected: dict[str, str], page: list[Any]) -> dict[str, str]:
    """{typed word: the word to show for its correction}: a word of the shown stories that
    stems to the index term searched ("kubernetes" for "kubernet"), else the term itself."""
    if not corrected:
        return {}
    words: dict[str, str] = {}
    for hit in page:
        text = f"{hit.article.get('title') or ''} {hit.article.get('excerpt') or ''}"
        for w in _WORD.findall(text.lower()):
            words.setdefault(str(PORTER.stemWord(w)), w)
    return {typed: words.get(term, term) for typed, term in corrected.items()}


def rewritten(query: str, shown: dict[str, str]) -> str:
    """The query as typed, each corrected word replaced by the word searched."""
    return _WORD.sub(lambda m: shown.get(m.group(0).lower(), m.group(0)), query)
