"""Stories formed over a stream of articles, in arrival order, transitively but guarded
against chaining.

For each article that arrives (:meth:`Grouper.add`):

1. **Candidates**: the articles within ``WINDOW`` (72 h; ``LONG_WINDOW``, a week, for very
   strong evidence) that share a *rare* word with it, found in at least one of the two headlines
   (an index of headline words and one of all words, each a time-sorted list per word), and
   those whose headline reports the same kind of event within a day (results, an outage:
   :func:`.text.kinds`; their reports share no rare word, as a rule). A handful per article,
   where comparing with everything in the window would be hundreds.
2. **Links**: a candidate is linked when the evidence accepts the pair
   (:mod:`.evidence`) and no veto separates them (:mod:`.vetoes`).
3. **Joining**: the article joins the story of its best link, then the stories of its other
   links are merged in, each only if

   - the link is enough for a story of that size: a story of several members is joined on one
     *strong* link or on links to two of its members, never on one weak match (one weak match
     is how "Microsoft cloud outage" chains one outage into the next);
   - the story would not span more than ``MAX_SPAN`` (a week): an event's coverage does not
     last longer (a press release re-run by another site six days later, "Scality Announces 1
     Terabit Per Second Performance ..."; a preview's blog post and its update notice six days
     apart, "Optimize cost and performance with Query Acceleration ..." / "Query Acceleration
     for Azure Data Lake Storage now in preview", each judged one story), a product line's or
     a lawsuit's does;
   - no pair across the two sides trips a veto. This is what keeps "watchdog clears the JEDI
     award" and "judge puts the JEDI suit on hold" apart when a third article links to both.

A re-published article joins its first publication's story whatever the time between them
(up to ``REPUBLISHED_WINDOW``): the same outlet with the same headline and excerpt (a ZDNet
article listed again 36 days later, judged one story), or with the same headline of at least
``RERUN_MIN_WORDS`` words, whatever its excerpt (Geeky Gadgets' "Reminder: Save 95% on the
Complete Microsoft Azure eBook & Video Course Bundle", re-run every few days for two months with
its excerpt's price changed, judged one story each time). A roundup's headline comes back every
week over other news, and is no re-run. Another outlet's copy is a link like any other, within
the span.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.core.grouping.evidence import KIND_SECONDS, Evidence, evidence
from bot.core.grouping.model import Doc, Item
from bot.core.grouping.stats import CorpusStats
from bot.core.grouping.text import Features
from bot.core.grouping.vetoes import unlinked_substitution, veto

HOUR = 3600
WINDOW = 72 * HOUR
LONG_WINDOW = 7 * 24 * HOUR
MAX_SPAN = 7 * 24 * HOUR
REPUBLISHED_WINDOW = 60 * 24 * HOUR
RERUN_MIN_WORDS = 5  # a headline this long, word for word again, is the same piece run again
# More than half the cross pairs of two stories unlinked substitutions: two events. (A quarter
# kept apart the two halves of one announcement, each worded its own way: "Microsoft Gets Into
# 5G Race With Azure Cloud for Telecom Operators" / "Microsoft Unveils 5G/Telco Playbook With
# 'Azure For Operators'"; Amazon's second JEDI protest / "Microsoft says Amazon has filed a new
# protest 'out of view of the public'".)
UNLINKED_SHARE = 0.5


@dataclass(frozen=True)
class Story:
    """A story as the grouper holds it now: its id and its members' keys (arrival order)."""

    id: int
    keys: tuple[str, ...]


@dataclass
class _Story:
    id: int
    keys: list[str]
    first_ts: int
    last_ts: int


@dataclass
class _Postings:
    """(published_ts, key) pairs of one word, kept sorted by time."""

    entries: list[tuple[int, str]] = field(default_factory=list)

    def add(self, ts: int, key: str) -> None:
        if not self.entries or self.entries[-1] <= (ts, key):
            self.entries.append((ts, key))  # arrival in date order: the common case
        else:
            bisect.insort(self.entries, (ts, key))

    def between(self, lo: int, hi: int) -> Iterator[str]:
        start = bisect.bisect_left(self.entries, (lo, ""))
        for ts, key in self.entries[start:]:
            if ts > hi:
                return
            yield key


@dataclass(frozen=True)
class Link:
    """A pair with evidence enough to join (``accepted``) or only to corroborate another
    link to the same story: the article it leads to, and the evidence for it."""

    key: str
    evidence: Evidence

    @property
    def accepted(self) -> bool:
        return self.evidence.accepted


class Grouper:
    """Articles in, stories out. ``stats`` may be shared (and stored) by the caller; the
    grouper adds each new article to it."""

    def __init__(self, stats: CorpusStats | None = None) -> None:
        self.stats = stats if stats is not None else CorpusStats()
        self.docs: dict[str, Doc] = {}
        self._story_of: dict[str, int] = {}
        self._stories: dict[int, _Story] = {}
        self._next_id = 1
        self._title_index: dict[str, _Postings] = {}
        self._text_index: dict[str, _Postings] = {}
        self._kind_index: dict[str, _Postings] = {}  # kind of event -> its headlines
        self._published: dict[tuple[str, str], list[str]] = {}  # (domain, publication key)
        self._vetoes: dict[tuple[str, str], str | None] = {}
        self._unlinked: dict[tuple[str, str], bool] = {}
        self.comparisons = 0  # evidence worked out (a measure of cost)

    # -- queries --------------------------------------------------------------------------------

    def story_of(self, key: str) -> int:
        return self._story_of[key]

    def story(self, story_id: int) -> Story:
        s = self._stories[story_id]
        return Story(s.id, tuple(s.keys))

    def stories(self) -> Iterator[Story]:
        for s in self._stories.values():
            yield Story(s.id, tuple(s.keys))

    def members(self, story_id: int) -> list[Item]:
        return [self.docs[k].item for k in self._stories[story_id].keys]

    # -- arrival --------------------------------------------------------------------------------

    def add(self, item: Item) -> int:
        """Group one article; returns its story's id. An article seen before keeps its story."""
        if item.key in self._story_of:
            return self._story_of[item.key]
        doc = Doc.of(item)
        self.stats.add(doc.f)
        self.docs[item.key] = doc
        links = self.links(doc)
        story_id = self._join(doc, links)
        self._index(doc)
        return story_id

    def candidates(self, doc: Doc) -> set[str]:
        """Keys of earlier articles near in time sharing a rare word found in a headline."""
        lo, hi = doc.ts - LONG_WINDOW, doc.ts + LONG_WINDOW
        found: set[str] = set()
        rare = self.stats.is_rare
        for word in doc.f.title_words:
            postings = self._text_index.get(word)
            if postings is not None and rare(word):
                found.update(postings.between(lo, hi))
        for word in doc.f.words:
            postings = self._title_index.get(word)
            if postings is not None and rare(word):
                found.update(postings.between(lo, hi))
        for kind in doc.f.kinds:  # one company's results or outage, worded any way
            postings = self._kind_index.get(kind)
            if postings is not None:
                found.update(postings.between(doc.ts - KIND_SECONDS, doc.ts + KIND_SECONDS))
        found.discard(doc.key)
        return found

    def links(self, doc: Doc) -> list[Link]:
        """Unvetoed pairs of ``doc`` with earlier articles that join or corroborate, best
        first."""
        out = []
        for key in self.candidates(doc):
            other = self.docs[key]
            self.comparisons += 1
            ev = evidence(doc, other, self.stats)
            if not ev.supports:
                continue
            if abs(doc.ts - other.ts) > WINDOW and not ev.far:
                continue
            if self._veto(doc, other) is None:
                out.append(Link(key, ev))
        out.sort(key=lambda link: (-link.evidence.score, link.key))
        return out

    # -- forming stories ----------------------------------------------------------------------

    def _veto(self, a: Doc, b: Doc) -> str | None:
        pair = (a.key, b.key) if a.key < b.key else (b.key, a.key)
        if pair not in self._vetoes:
            self._vetoes[pair] = veto(a, b, self.stats)
        return self._vetoes[pair]

    def _unlinked_pair(self, a: Doc, b: Doc) -> bool:
        """Without evidence of their own, a substitution of rare words (see
        vetoes.unlinked_substitution)."""
        pair = (a.key, b.key) if a.key < b.key else (b.key, a.key)
        if pair not in self._unlinked:
            self._unlinked[pair] = (
                unlinked_substitution(a, b, self.stats) and not evidence(a, b, self.stats).supports
            )
        return self._unlinked[pair]

    def _join(self, doc: Doc, links: list[Link]) -> int:
        by_story: dict[int, list[Link]] = {}
        for link in links:
            by_story.setdefault(self._story_of[link.key], []).append(link)
        mine = self._new_story(doc)
        republished = self._republished(doc)
        if republished is not None:  # first, whatever the links: a link must mind the span
            self._merge(mine, republished, check_span=False)
        for story_id, story_links in by_story.items():  # best link first (links are sorted)
            story = self._stories[story_id]
            if story_id == self._story_of[doc.key]:
                continue
            if not _enough(story_links, len(story.keys)):
                continue
            self._merge(self._story_of[doc.key], story_id, check_span=True)
        return self._story_of[doc.key]

    def _republished(self, doc: Doc) -> int | None:
        """The story of an earlier publication of the same piece, if any."""
        for pub in publication_keys(doc.f):
            for key in self._published.get((doc.domain, pub), []):
                if abs(self.docs[key].ts - doc.ts) <= REPUBLISHED_WINDOW:
                    return self._story_of[key]
        return None

    def _new_story(self, doc: Doc) -> int:
        story = _Story(self._next_id, [doc.key], doc.ts, doc.ts)
        self._next_id += 1
        self._stories[story.id] = story
        self._story_of[doc.key] = story.id
        return story.id

    def _merge(self, into_id: int, other_id: int, check_span: bool) -> bool:
        """Merge story ``other_id`` into ``into_id`` unless the span or a veto forbids it."""
        into, other = self._stories[into_id], self._stories[other_id]
        first, last = min(into.first_ts, other.first_ts), max(into.last_ts, other.last_ts)
        if check_span and last - first > MAX_SPAN:
            return False
        both_stories = len(into.keys) > 1 and len(other.keys) > 1
        unlinked = 0
        for a in into.keys:
            for b in other.keys:
                if self._veto(self.docs[a], self.docs[b]) is not None:
                    return False
                if both_stories and self._unlinked_pair(self.docs[a], self.docs[b]):
                    unlinked += 1
        if unlinked > UNLINKED_SHARE * len(into.keys) * len(other.keys):
            return False
        if (len(into.keys), -into.id) < (len(other.keys), -other.id):
            into, other = other, into  # the larger story keeps its id (of two alike, the older)
        into.keys.extend(other.keys)
        into.first_ts, into.last_ts = first, last
        for key in other.keys:
            self._story_of[key] = into.id
        del self._stories[other.id]
        return True

    def _index(self, doc: Doc) -> None:
        for word in doc.f.title_words:
            self._title_index.setdefault(word, _Postings()).add(doc.ts, doc.key)
        for word in doc.f.words:
            self._text_index.setdefault(word, _Postings()).add(doc.ts, doc.key)
        for kind in doc.f.kinds:
            self._kind_index.setdefault(kind, _Postings()).add(doc.ts, doc.key)
        for pub in publication_keys(doc.f):
            self._published.setdefault((doc.domain, pub), []).append(doc.key)


def publication_keys(f: Features) -> list[str]:
    """The keys that make two articles of one outlet, within ``REPUBLISHED_WINDOW``, one
    piece published again (the module says which): its headline and excerpt, if it has an
    excerpt, and its headline's words, if it is a long enough headline and no roundup's."""
    keys = []
    if f.has_excerpt:
        keys.append("text:" + f.text_key)
    if len(f.title_words) >= RERUN_MIN_WORDS and not f.roundup:
        keys.append("headline:" + " ".join(sorted(f.title_words)))
    return keys


def _enough(links: list[Link], story_size: int) -> bool:
    """Whether these links of a new article to one story's members (best first) may bring it
    in: an accepted link, and for a story of several members a strong one or another member's
    corroboration (a weaker link)."""
    if not links[0].accepted:
        return False
    if story_size <= 1:
        return True
    return links[0].evidence.strong or len(links) >= 2
