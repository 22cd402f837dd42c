"""Evidence that two articles report the same event, weighed by how rare the shared words are.

Each measure uses IDF weights from :class:`.stats.CorpusStats` (binary term weights: a word is
in a text or not; headlines and excerpts are too short for counts to mean much):

- ``title_cosine``: cosine of the two headlines. High for reworded copies of one headline
  ("Microsoft Acquires ADRM To Create Intelligent Data Lake In Azure" / "Microsoft Acquires
  ADRM for Azure Cloud, Intelligent Data Lakes").
- ``cover_a`` / ``cover_b``: how much of each headline (by weight) the *other article's* whole
  text mentions. A headline worded differently is still covered by the other's excerpt
  ("Microsoft Launches Cloud for Healthcare" / "first vertical cloud offering: Microsoft Cloud
  for Healthcare").
- ``text_cosine``: cosine of the whole texts (headline and excerpt).
- ``short_covered``: an article with no excerpt whose headline the other covers fully (the
  Azure update "Query Acceleration for Azure Data Lake Storage now in preview" and the blog
  post announcing it).
- ``shared_names``: weight of the rare names both headlines carry ("Kinvolk", "Softomotive").
- ``same_kind``: both headlines report one kind of event, results or an outage
  (:func:`.text.kinds`), of a name both carry, within ``KIND_SECONDS``: a company reports
  its quarter once, and rarely goes down twice in a day. Reports of one results day or one
  outage word it every which way and share little else ("Microsoft cloud strength drives
  second quarter results" / "Microsoft's Q2 Azure posts revenue growth of 50% ..."; "Microsoft
  Azure outage affects XBox Live and more across United States" / "No fooling: Microsoft cloud
  outage takes Azure, Teams and Office 365 offline", each judged one story), where other
  outages and quarters are days or months apart (the 2020-09-28 and 2020-10-07 outages; the
  March 15 and April 1, 2021 ones).

:func:`evidence` folds them into one weighted score: ``accepted`` (joins two articles; within
one outlet the headlines must be alike too), ``supports`` (corroborates a link to another
member of a story), ``strong`` (joins a story of several members alone), ``far`` (joins
articles more than 72 h apart).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.grouping.model import Doc
from bot.core.grouping.stats import CorpusStats

ACCEPT = 0.75  # score at which one pair is enough to join two articles
STRONG = 1.1  # score at which one pair alone may bring an article into a larger story
SUPPORT = 0.5  # score of a second member's pair that corroborates an accepted one
FAR = 1.3  # score at which two articles up to cluster.LONG_WINDOW apart may join
SAME_OUTLET_TITLE_COSINE = 0.7  # one outlet words one event alike, or it is two events
SHARED_NAME_SECONDS = 24 * 3600
KIND_SECONDS = 24 * 3600
RARE_NAME_FRACTION = 0.007  # a name in under 0.7% of the articles ...
RARE_NAME_MIN_DF = 3  # ... or in at most 3
# The weights of the score, chosen on set B (azure-story-pairs-dev.json) by a coarse search
# and kept round: a headline cosine of 0.625 joins alone; so do headlines with a cosine of 0.2,
# each covered a third by the other's text, and whole texts at a cosine of 0.2; a very rare
# name in both headlines within a day counts for a little (0.2) where the rest is close.
W_TITLE, W_COVER, W_TEXT, W_SHORT, W_NAME = 1.2, 1.0, 0.8, 0.4, 0.2
W_KIND = 0.6  # one company's results or outage, the same day: nearly enough alone


@dataclass(frozen=True)
class Evidence:
    title_cosine: float
    cover_a: float
    cover_b: float
    text_cosine: float
    short_covered: bool
    shared_name: bool  # a very rare name in both headlines, a day apart at most
    same_outlet: bool
    score: float
    same_kind: bool = False  # one kind of event of one name, within KIND_SECONDS

    @property
    def accepted(self) -> bool:
        if self.same_outlet and self.title_cosine < SAME_OUTLET_TITLE_COSINE:
            return False
        return self.score >= ACCEPT

    @property
    def supports(self) -> bool:
        """Too weak to join on, enough to corroborate a link to another member of a story."""
        return self.score >= SUPPORT and not (
            self.same_outlet and self.title_cosine < SAME_OUTLET_TITLE_COSINE
        )

    @property
    def strong(self) -> bool:
        return self.accepted and self.score >= STRONG

    @property
    def far(self) -> bool:
        return self.accepted and self.score >= FAR


def _cover(title: frozenset[str], text: frozenset[str], stats: CorpusStats) -> float:
    total = stats.weight(title)
    return stats.weight(title & text) / total if total else 0.0


def shares_rare_name(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """Both headlines carry one very rare name, a day apart at most ("Kinvolk", "FedEx")."""
    if abs(a.ts - b.ts) > SHARED_NAME_SECONDS:
        return False
    limit = max(RARE_NAME_MIN_DF, RARE_NAME_FRACTION * stats.n)
    return any(
        stats.df.get(w, 0) <= limit and stats.is_name(w) for w in a.f.title_words & b.f.title_words
    )


def same_kind(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """Both headlines report one kind of event of a name they both carry, within
    ``KIND_SECONDS``."""
    if abs(a.ts - b.ts) > KIND_SECONDS or not a.f.kinds & b.f.kinds:
        return False
    return any(stats.is_name(w) for w in a.f.title_words & b.f.title_words)


def evidence(a: Doc, b: Doc, stats: CorpusStats) -> Evidence:
    """How strongly ``a`` and ``b`` look like one event (no vetoes here: see :mod:`.vetoes`)."""
    title_cos = stats.cosine(a.f.title_words, b.f.title_words)
    cover_a = _cover(a.f.title_words, b.f.words, stats)
    cover_b = _cover(b.f.title_words, a.f.words, stats)
    text_cos = stats.cosine(a.f.words, b.f.words)
    short = (not a.f.has_excerpt and cover_a >= 0.999) or (not b.f.has_excerpt and cover_b >= 0.999)
    name = shares_rare_name(a, b, stats)
    kind = same_kind(a, b, stats)
    value = (
        W_TITLE * title_cos
        + W_COVER * min(cover_a, cover_b)
        + W_TEXT * text_cos
        + (W_SHORT if short else 0.0)
        + (W_NAME if name else 0.0)
        + (W_KIND if kind else 0.0)
    )
    return Evidence(
        title_cosine=title_cos,
        cover_a=cover_a,
        cover_b=cover_b,
        text_cosine=text_cos,
        short_covered=short,
        shared_name=name,
        same_outlet=bool(a.domain) and a.domain == b.domain,
        score=value,
        same_kind=kind,
    )
