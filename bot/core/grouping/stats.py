"""Corpus statistics, kept up to date as articles arrive: how rare a word is, and whether it is
a name.

- **Document frequency** (``df``): in how many articles a word occurs (headline or excerpt).
  Its inverse (``idf``) weighs the evidence: sharing "Kinvolk" says far more than sharing
  "Azure", in a corpus where nearly every article says "Azure". A *rare* word is one in fewer
  than ``RARE_FRACTION`` of the articles: only rare words make two articles candidates.
- **Name-likeness**: how often a word is written capitalised in the middle of a sentence
  against in lower case. "Datadog", "Sphere", "Jenkins" are names; "tablet", "frontier",
  "born" are words. A rare name in each of two headlines that the other article never
  mentions is the mark of a template press release for two companies ("DataVisor now
  available in the Microsoft Azure Marketplace" / "eBaoCloud InsureMO is now available ...").
  A word needs evidence to be a name: capitalised more often than not, or written as only
  names are (``AMERGINT``, ``DataVisor``: :mod:`.text`); "joint" in a Title-Case headline is
  no evidence of anything.

The object is plain data: :meth:`CorpusStats.to_dict` / :meth:`CorpusStats.from_dict` give and
take JSON-able values, so the statistics can be stored (phase 2: in the database) and restored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bot.core.grouping.text import Features

RARE_FRACTION = 0.02  # a word in under 2% of the articles is rare ...
RARE_MIN_DF = 12  # ... and so is one in at most 12 (a young corpus has few articles)


class CorpusStats:
    """Document frequencies and case counts of the articles added so far."""

    def __init__(self) -> None:
        self.n = 0
        self.df: Counter[str] = Counter()
        self.capitals: Counter[str] = Counter()
        self.lower: Counter[str] = Counter()
        self._idf_cache: dict[str, float] = {}
        self._idf_n = -1

    def add(self, f: Features) -> None:
        """Count one article in (call once per article, whatever its number of mentions)."""
        self.n += 1
        self.df.update(f.words)
        self.capitals.update(f.capitals)
        self.lower.update(f.lower)

    def idf(self, word: str) -> float:
        """log(N / df), smoothed; a word never seen weighs as one seen once."""
        if self._idf_n != self.n:  # cached between two arrivals (N moves the weights)
            self._idf_cache.clear()
            self._idf_n = self.n
        value = self._idf_cache.get(word)
        if value is None:
            value = math.log((self.n + 1) / (self.df.get(word, 0) + 0.5))
            self._idf_cache[word] = value
        return value

    def rare_df(self) -> float:
        """The document frequency under which a word is rare."""
        return max(RARE_MIN_DF, RARE_FRACTION * self.n)

    def is_rare(self, word: str) -> bool:
        return self.df.get(word, 0) <= self.rare_df()

    def name_likeness(self, word: str) -> float:
        """Share of its mid-sentence uses that are capitalised (0.5 with no evidence either way)."""
        cap, low = self.capitals.get(word, 0), self.lower.get(word, 0)
        return (cap + 0.5) / (cap + low + 1.0)

    def is_name(self, word: str) -> bool:
        """Capitalised more often than not (so seen so at least once); a number (a digit in
        it) never is one: numbers have their own veto."""
        if any(c.isdigit() for c in word):
            return False
        return self.capitals.get(word, 0) > self.lower.get(word, 0)

    # -- weighing words --------------------------------------------------------------------------

    def weight(self, words: Iterable[str]) -> float:
        """Sum of squared IDF: a set of words as a binary vector's squared length."""
        idf = self.idf
        return sum(idf(w) ** 2 for w in words)

    def cosine(self, a: frozenset[str], b: frozenset[str]) -> float:
        """IDF-weighted cosine of two sets of words."""
        shared = a & b
        if not shared:
            return 0.0
        return self.weight(shared) / math.sqrt(self.weight(a) * self.weight(b))

    # -- storing and restoring -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able contents (``from_dict`` gives back an equal object)."""
        return {
            "n": self.n,
            "df": dict(self.df),
            "capitals": dict(self.capitals),
            "lower": dict(self.lower),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusStats:
        stats = cls()
        stats.n = int(data["n"])
        stats.df = Counter({str(k): int(v) for k, v in data["df"].items()})
        stats.capitals = Counter({str(k): int(v) for k, v in data["capitals"].items()})
        stats.lower = Counter({str(k): int(v) for k, v in data["lower"].items()})
        return stats

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CorpusStats):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable
