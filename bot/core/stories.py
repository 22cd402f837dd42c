"""Telling when two articles report the same event (one *story*).

The rule, tuned on real news (the seed file and the Power Apps corpus):

1. **Time**: both published within ``WINDOW_SECONDS`` (3 days) of each other. A product's
   preview in May and its general availability in October are two stories.
2. **Headlines alike**: the content words of the two titles (lower-cased, light stemming,
   stop-words out) match one to one, a word matching an equal word, a close spelling
   (rapidfuzz ratio >= 85) or a word it contains (``suit``/``lawsuit``); at least
   ``MIN_TITLE_SIMILARITY`` of the union must match.
3. **No substitution**: a headline word that the other article (headline or excerpt) never
   mentions may stand on one side only, as an addition ("RE-TRANSMISSION: ..."), and only when
   the headlines are very alike (``ADDITION_SIMILARITY``). Press releases cut from one template
   ("Acme now available in the Contoso Marketplace" / "Globex now available ...") differ in
   words on *both* sides, the names of their subjects, so they stay apart.

Candidates come from an index of each headline's longest words (``title_keys``: articles in
the time window sharing two of them), so grouping costs one B-tree look-up per article.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from rapidfuzz import fuzz

WINDOW_SECONDS = 3 * 24 * 3600
MIN_TITLE_SIMILARITY = 0.75
ADDITION_SIMILARITY = 0.8

STOP_WORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from", "with", "without", "into", "onto", "over", "under", "about", "after", "before", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "their", "his", "her", "our", "your", "my", "we", "you", "they", "he", "she", "i", "me", "us", "them", "not", "no", "new", "now", "than", "then", "so", "if", "up", "out", "off", "via", "vs", "will", "would", "can", "could", "may", "might", "has", "have", "had", "do", "does", "did", "just", "more", "most", "says", "say", "said", "how", "why", "what", "when", "where", "who", "which", "while", "amid"]
)
_WORD = re.compile(r"[$€£]?\w+(?:[.,']\w+)*", re.UNICODE)


def _stem(word: str) -> str:
    if word[-1] != "s" or len(word) <= 4:
        return word
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def words(text: str, stem: bool = True) -> list[str]:
    """Content words of a text, lower-cased and lightly stemmed, in order, de-duplicated."""
    return list(_words(text, stem))


@functools.lru_cache(maxsize=4096)  # the loader compares each new headline with a few others
def _words(text: str, stem: bool) -> tuple[str, ...]:
    out = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("'", "")
        if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(_stem(word) if stem else word)
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=1 << 16)  # a pure function of two words, asked again and again
def _alike(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.isdigit() or b.isdigit() or a[0] in "$€£" or b[0] in "$€£":
        return False  # numbers and amounts must agree exactly
    if min(len(a), len(b)) >= 4 and (
        a in b or b in a or (len(a) == len(b) and sorted(a) == sorted(b))
    ):
        return True  # suit/lawsuit, and transposed letters (ITSM/ISTM)
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b, score_cutoff=85) >= 85


def title_similarity(a: Iterable[str], b: Iterable[str], at_least: float = 0.0) -> float:
    """Share of the two headlines' words that match one to one.

    With ``at_least``, gives up (returning 0.0) as soon as the share cannot reach it.
    """
    a, b = list(a), list(b)
    if not a or not b:
        return 0.0
    unmatched = list(b)
    matched = 0
    total = len(a) + len(b)
    for left, word in enumerate(a, start=1):
        for i, other in enumerate(unmatched):
            if _alike(word, other):
                matched += 1
                del unmatched[i]
                break
        else:
            # every remaining word of a matching would still fall short
            if 2 * (matched + len(a) - left) / total < at_least:
                return 0.0
    return 2 * matched / total


def _strangers(title_words: Iterable[str], other_text_words: AbstractSet[str]) -> int:
    """How many headline words the other article never mentions."""
    return sum(
        1
        for w in title_words
        if w not in other_text_words and not any(_alike(w, o) for o in other_text_words)
    )


@dataclass(frozen=True)
class StoryText:
    """What the rule needs of an article."""

    title: str
    excerpt: str
    published_ts: int | None

    @property
    def title_words(self) -> tuple[str, ...]:
        return _words(self.title, True)

    @property
    def all_words(self) -> frozenset[str]:
        return _all_words(self.title, self.excerpt)


@functools.lru_cache(maxsize=1024)
def _all_words(title: str, excerpt: str) -> frozenset[str]:
    return frozenset(_words(title, True)) | frozenset(_words(excerpt, True))


def same_story(a: StoryText, b: StoryText) -> bool:
    if a.published_ts is None or b.published_ts is None:
        return False
    if abs(a.published_ts - b.published_ts) > WINDOW_SECONDS:
        return False
    ta, tb = a.title_words, b.title_words
    if 2 * min(len(ta), len(tb)) < MIN_TITLE_SIMILARITY * (len(ta) + len(tb)):
        return False  # too unequal in length for enough words to match one to one
    similarity = title_similarity(ta, tb, at_least=MIN_TITLE_SIMILARITY)
    if similarity < MIN_TITLE_SIMILARITY:
        return False
    strangers_a, strangers_b = _strangers(ta, b.all_words), _strangers(tb, a.all_words)
    if strangers_a and strangers_b:
        return False  # a substitution: another subject in the same template
    return not (strangers_a or strangers_b) or similarity >= ADDITION_SIMILARITY


MAX_KEYS = 4


_KEY_WORD = re.compile(r"[^\W\d_]\w{2,}")  # a letter, then two or more word characters


def title_keys(title: str) -> list[str]:
    """The headline's longest content words (a proxy for its rarest): an article's candidates
    are the articles in the time window sharing two of them (one, for one-key headlines)."""
    found = {_stem(w) for w in _KEY_WORD.findall(title.lower()) if w not in STOP_WORDS}
    return sorted(found, key=lambda w: (-len(w), w))[:MAX_KEYS]
