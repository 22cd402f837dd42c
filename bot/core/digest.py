"""Composing a channel's morning digest as plain data (no Slack here).

For each of the channel's active topics, in the order the channel subscribed them:

1. the articles matching the topic (the search's query language and index, ``to_fts``) that
   were published in the ``max_age_hours`` before the digest's time, newest ``WINDOW`` first;
2. ranked with the search's formula (``bot.core.search.ranked_stories``: relevance to the
   topic × freshness × the story's prominence, :mod:`bot.core.ranking`), freshness decaying
   from the digest's time (``DIGEST_DECAY``: this morning's news before yesterday's), and
   collapsed to one entry per story (its best-scoring article leads);
3. minus the stories this channel was ever sent (``deliveries``) and those already placed
   under another topic of this same digest; at most ``items_per_topic``.

A DM digest (a user's follows) has one cap for all of it, the user's ``items``: its follows
share it fairly, round by round (each follow's best story, then each one's second, ...), so
five items over three busy follows are 2, 2 and 1, and a follow with fewer stories leaves its
turns to the others. A story two topics found is placed once, under the first whose turn
reaches it (in a channel's digest, where topics are filled one after another: the earlier
topic). Sections keep the order of the subscriptions either way.

Each entry shows the story's lead (``stories.lead_id``; a story without one, its best-scoring
article) and names each of its other outlets once. A digest whose topics found nothing is
empty: the job posts nothing unless ``post_when_empty``.

Preferences (issue 5) apply here, so the job, ``/news preview`` and ``newsbot digest`` agree:
a channel's ``items_per_topic``, ``skip_weekends`` and muted outlets; for a DM digest (a user's
follows) the user's ``items`` (per digest), ``skip_weekends`` and muted outlets. A story whose
lead is muted (or published after the digest's time) is led by the next of its articles in
lead order; a story with no unmuted article is left out.

Ranking per (topic, window) does not depend on the channel, so a :class:`Composer` keeps the
ranked stories of recent windows: thousands of channels due at 08:00 share the work.

An empty digest, or a quiet topic, is explained on demand (:meth:`Composer.explain`, for
``/news preview`` and ``newsbot digest --dry-run``, never for the scheduled job): the window,
each quiet topic's newest matching story, whether this conversation was ever sent a digest,
whether an empty one is posted, and, when the database holds newsbot's bundled sample alone
(the shell loads it on an empty database), a moment of the sample whose digest is full
(``newsbot shell --at``). The renderers word these facts.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.core import ranking, schedule
from bot.core.articles import parse_text
from bot.core.matches import MatchMemo
from bot.core.preferences import is_muted
from bot.core.query import parse
from bot.core.search import (
    other_outlets,
    ranked_stories,
    same_outlet,
    shown_article,
    terms_of,
)
from storage.store import SEQ_SPAN, Store, time_key

WINDOW = 1000  # newest matches ranked per topic (as search does)
CACHE_DEPTH = 60  # ranked stories kept per (topic, window); more are computed when needed
CACHE_SIZE = 4096

if TYPE_CHECKING:
    from bot.config import Config


@dataclass(frozen=True)
class DigestSettings:
    max_age_hours: float = 36.0
    items_per_topic: int = 5
    post_when_empty: bool = False
    grace_hours: float = 2.0
    # the digest.* keys of the same names (bot.config.DigestConfig says what each is for)
    lease_seconds: int = 600
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    retry_inline_seconds: float = 60.0
    post_settle_seconds: float = 15.0

    @classmethod
    def from_config(cls, config: Config) -> DigestSettings:
        d = config.digest
        return cls(
            max_age_hours=d.max_age_hours,
            items_per_topic=d.items_per_topic,
            post_when_empty=d.post_when_empty,
            grace_hours=d.grace_hours,
            lease_seconds=d.lease_seconds,
            retry_base_seconds=d.retry_base_seconds,
            retry_cap_seconds=d.retry_cap_seconds,
            retry_inline_seconds=d.retry_inline_seconds,
            post_settle_seconds=d.post_settle_seconds,
        )


@dataclass
class DigestEntry:
    story_id: int
    score: float
    article: dict[str, Any]  # the leading article (columns of storage.store.ARTICLE_COLUMNS)
    also: list[dict[str, Any]] = field(default_factory=list)  # the story's other articles

    @property
    def outlets(self) -> list[str]:
        """The other outlets that told this story by name (their domain when they have none),
        once each, never the leading one's (``search.same_outlet``; ``also`` comes from
        ``search.other_outlets``, which leaves it out already)."""
        others = (m for m in self.also if not same_outlet(m, self.article))
        return [n for n in dict.fromkeys(m.get("provider") or m.get("domain") for m in others) if n]


@dataclass
class TopicSection:
    topic: str  # as the subscriber typed it
    topic_key: str
    entries: list[DigestEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Sample:
    """newsbot's bundled sample (``bot/sample/seed.txt``, what the shell loads into an empty
    database): how many articles, the first's and the newest's time, each article's time."""

    articles: int
    first_ts: int
    newest_ts: int
    newest_url: str
    times: tuple[int, ...]


@dataclass
class EmptyFacts:
    """What is true of a digest with nothing (or of its quiet topics), for its renderers to
    say: the window it takes stories from, each quiet topic's newest matching story, whether
    this conversation was ever sent a digest, and whether an empty digest is posted."""

    window_start: dt.datetime  # a digest holds stories published from here ...
    window_end: dt.datetime  # ... to here (its time; a preview's: now)
    window_hours: float  # digest.max_age_hours
    next_due: dt.datetime | None  # a preview: when the next digest is posted (UTC)
    ever_sent: bool  # a digest was ever posted to this conversation
    post_when_empty: bool  # digest.post_when_empty: an empty digest is posted all the same
    # topic_key -> the newest story matching that quiet topic published by window_end (its
    # published_ts; None: no story matches it at all)
    newest: dict[str, int | None] = field(default_factory=dict)
    sample: Sample | None = None  # the database holds the bundled sample and nothing else
    sample_at: dt.datetime | None = None  # with the sample: a digest time whose digest is full


@dataclass
class Digest:
    team_id: str
    channel_id: str
    local_date: dt.date
    due: dt.datetime  # the digest's time (UTC): stories are from the window before it
    tz: str
    sections: list[TopicSection]
    quiet_day: bool = False  # a weekend the channel or user skips: nothing is posted
    facts: EmptyFacts | None = None  # why it is empty or a topic quiet (Composer.explain)

    @property
    def posts(self) -> bool:
        """Whether the job posts this digest (``post_when_empty`` aside)."""
        return not self.quiet_day and not self.is_empty

    @property
    def entries(self) -> list[DigestEntry]:
        return [e for s in self.sections for e in s.entries]

    @property
    def is_empty(self) -> bool:
        return not any(s.entries for s in self.sections)

    def plan(self) -> list[tuple[int, int, str]]:
        """What the post delivers: (story_id, article_id, topic_key) per entry."""
        return [
            (e.story_id, e.article["id"], s.topic_key) for s in self.sections for e in s.entries
        ]


@dataclass(frozen=True)
class Preferences:
    items_per_topic: int
    total: int | None  # a cap over the whole digest (a user's "items per digest")
    skip_weekends: bool
    muted: set[str]


@dataclass
class _Ranked:
    stories: list[tuple[int, int, float]]  # (story_id, article_id, score), best first
    complete: bool  # False: cut at the cache depth, more exist


@dataclass
class _Pool:
    """What one digest may still place: not a story the conversation was sent (``delivered``),
    muted, or placed under another topic already (all three in ``skip``)."""

    team_id: str
    channel_id: str
    due_ts: int
    muted: set[str]
    skip: set[int]


@dataclass
class _Cursor:
    """One topic's ranked stories for one digest, taken best first (``stories`` is the shared
    cached list: read, never changed)."""

    topic: str
    stories: list[tuple[int, int, float]]
    complete: bool
    at: int = 0


class Composer:
    """Composes digests; keeps each (topic, window)'s ranking for the next channel."""

    def __init__(
        self, store: Store, settings: DigestSettings | None = None, cache_size: int = CACHE_SIZE
    ) -> None:
        self.store = store
        self.settings = settings or DigestSettings()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int], _Ranked] = OrderedDict()
        self._cache_lock = threading.Lock()  # the scheduler runs jobs on several threads
        # each topic's scored matches, for its next window (the next time of day it is due)
        self.memo = MatchMemo()

    # -- ranking -----------------------------------------------------------------------------

    def _rank(self, topic: str, due_ts: int, depth: int | None) -> _Ranked:
        parsed = parse(topic)
        if parsed is None:
            return _Ranked([], True)
        lo = time_key(int(due_ts - self.settings.max_age_hours * 3600))
        hi = time_key(due_ts) + SEQ_SPAN - 1  # published at or before the digest's second
        found = ranked_stories(
            self.store,
            terms_of(parsed),
            parsed.fts(),
            due_ts,
            ranking.DIGEST_DECAY,
            lo=lo,
            hi=hi,
            window=WINDOW,
            memo=self.memo,
        )
        ranked = [(r.story_id, r.article_id, r.score) for r in found]
        if depth is not None and len(ranked) > depth:
            return _Ranked(ranked[:depth], False)
        return _Ranked(ranked, True)

    def ranked(self, topic: str, due_ts: int) -> _Ranked:
        key = (" ".join(topic.lower().split()), due_ts)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        ranked = self._rank(topic, due_ts, CACHE_DEPTH)
        with self._cache_lock:
            self._cache[key] = ranked
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return ranked

    # -- composing ---------------------------------------------------------------------------

    def compose(
        self,
        team_id: str,
        channel_id: str,
        due: dt.datetime,
        *,
        topics: Sequence[dict[str, Any]] | None = None,
        local_date: dt.date | None = None,
    ) -> Digest:
        """The digest of ``channel_id`` as of ``due`` (its scheduled instant).

        ``topics`` are subscription rows (``topic``, ``topic_key``, ``tz``); by default the
        channel's active subscriptions.
        """
        if topics is None:
            topics = self.store.active_subscriptions(team_id, channel_id)
        tz = topics[0]["tz"] if topics else "UTC"
        day = local_date or schedule.local_date(due, tz)
        due_ts = int(due.timestamp())
        prefs = self.preferences(team_id, channel_id, topics[0].get("kind") if topics else None)
        if prefs.skip_weekends and day.weekday() >= 5:
            return Digest(
                team_id,
                channel_id,
                day,
                due.astimezone(dt.UTC),
                tz,
                [TopicSection(t["topic"], t["topic_key"]) for t in topics],
                quiet_day=True,
            )
        rankings = [self.ranked(t["topic"], due_ts) for t in topics]
        skip = self.store.delivered_story_ids(
            team_id, channel_id, (s for r in rankings for s, _, _ in r.stories)
        )
        if prefs.muted:
            skip |= self._muted_stories(rankings, prefs.muted, due_ts)
        pool = _Pool(team_id, channel_id, due_ts, prefs.muted, skip)
        cursors = [
            _Cursor(t["topic"], r.stories, r.complete)
            for t, r in zip(topics, rankings, strict=True)
        ]
        if prefs.total is None:
            picks = [self._fill(c, pool, prefs.items_per_topic) for c in cursors]
        else:
            picks = self._share(cursors, pool, prefs.items_per_topic, prefs.total)
        sections = self._hydrate(topics, picks, due_ts, prefs.muted)
        return Digest(team_id, channel_id, day, due.astimezone(dt.UTC), tz, sections)

    # -- preferences -------------------------------------------------------------------------

    def preferences(self, team_id: str, channel_id: str, kind: str | None) -> Preferences:
        """The channel's (or, for a DM digest, the user's) settings that shape its digest."""
        if kind == "dm":
            user = self.store.user_settings(team_id, channel_id)
            items = int(user["items"])
            return Preferences(
                items,
                items,
                bool(user["skip_weekends"]),
                self.store.muted_domains(team_id, "user", channel_id),
            )
        channel = self.store.channel_settings(team_id, channel_id)
        return Preferences(
            int(channel["items_per_topic"] or self.settings.items_per_topic),
            None,
            bool(channel["skip_weekends"]),
            self.store.muted_domains(team_id, "channel", channel_id),
        )

    def _muted_stories(self, rankings: Sequence[_Ranked], muted: set[str], due_ts: int) -> set[int]:
        """Stories among these rankings with no unmuted article published by ``due_ts``."""
        story_ids = list({s for r in rankings for s, _, _ in r.stories})
        open_ = {
            m["story_id"]
            for m in self.store.story_members(story_ids)
            if not is_muted(m["domain"], muted)
            and (m["published_ts"] is None or m["published_ts"] <= due_ts)
        }
        return set(story_ids) - open_

    def _next(self, cursor: _Cursor, pool: _Pool) -> tuple[int, int, float] | None:
        """The topic's best story this digest may still place (now placed), or None."""
        while True:
            while cursor.at < len(cursor.stories):
                story = cursor.stories[cursor.at]
                cursor.at += 1
                if story[0] not in pool.skip:
                    pool.skip.add(story[0])
                    return story
            if cursor.complete:
                return None
            # The cached top stories ran out for this conversation: rank the whole window.
            full = self._rank(cursor.topic, pool.due_ts, None)
            pool.skip |= self.store.delivered_story_ids(
                pool.team_id, pool.channel_id, (s for s, _, _ in full.stories)
            )
            if pool.muted:
                pool.skip |= self._muted_stories([full], pool.muted, pool.due_ts)
            cursor.stories, cursor.complete, cursor.at = full.stories, True, 0

    def _fill(self, cursor: _Cursor, pool: _Pool, limit: int) -> list[tuple[int, int, float]]:
        """A channel's topic: its best ``limit`` stories still free."""
        out: list[tuple[int, int, float]] = []
        while len(out) < limit and (story := self._next(cursor, pool)) is not None:
            out.append(story)
        return out

    def _share(
        self, cursors: list[_Cursor], pool: _Pool, limit: int, total: int
    ) -> list[list[tuple[int, int, float]]]:
        """A DM digest's ``total`` stories shared among its follows round-robin by rank: each
        follow's best, then each one's second, ... (at most ``limit`` each); a follow out of
        stories drops out of the rounds and leaves its turns to the others."""
        picks: list[list[tuple[int, int, float]]] = [[] for _ in cursors]
        open_ = list(range(len(cursors)))
        while total > 0 and open_:
            for n in list(open_):
                if total == 0:
                    break
                story = self._next(cursors[n], pool) if len(picks[n]) < limit else None
                if story is None:
                    open_.remove(n)
                    continue
                picks[n].append(story)
                total -= 1
        return picks

    def _hydrate(
        self,
        topics: Sequence[dict[str, Any]],
        picks: list[list[tuple[int, int, float]]],
        due_ts: int,
        muted: AbstractSet[str] = frozenset(),
    ) -> list[TopicSection]:
        story_ids = [s for chosen in picks for s, _, _ in chosen]
        by_story: dict[int, list[dict[str, Any]]] = {}
        for m in self.store.story_members(story_ids):  # each story's in lead order
            by_story.setdefault(m["story_id"], []).append(m)
        leads = self.store.story_leads(story_ids)
        rows = {r["id"]: r for group in by_story.values() for r in group}
        missing = [a for chosen in picks for _, a, _ in chosen if a not in rows]
        rows.update((r["id"], r) for r in self.store.articles(missing))
        sections = []
        for sub, chosen in zip(topics, picks, strict=True):
            entries = []
            for story_id, article_id, s in chosen:
                ranked = rows.get(article_id)
                members = [
                    m
                    for m in by_story.get(story_id, [])
                    if (m["published_ts"] is None or m["published_ts"] <= due_ts)
                    and not is_muted(m["domain"], muted)
                ]
                if ranked is not None and is_muted(ranked["domain"], muted):
                    ranked = None  # another outlet of the story stands in
                if ranked is None and not members:  # deleted meanwhile, or all muted
                    continue
                lead = shown_article(members, leads.get(story_id), ranked or members[0])
                entries.append(DigestEntry(story_id, s, lead, other_outlets(members, lead)))
            sections.append(TopicSection(sub["topic"], sub["topic_key"], entries))
        return sections

    # -- explaining an empty digest ----------------------------------------------------------

    def explain(self, digest: Digest, *, next_due: dt.datetime | None = None) -> Digest:
        """``digest`` with its :class:`EmptyFacts` when it is empty or a topic is quiet (else
        as it is). ``next_due``: a preview's, when the digest it shows is posted."""
        if digest.entries and all(s.entries for s in digest.sections):
            return digest
        end = digest.due
        due_ts = int(end.timestamp())
        topics = self.store.active_subscriptions(digest.team_id, digest.channel_id)
        quiet = [s for s in digest.sections if not s.entries]
        newest = {s.topic_key: self._newest(s.topic, due_ts) for s in quiet}
        runs = self.store.digest_runs(digest.team_id, digest.channel_id)
        facts = EmptyFacts(
            window_start=end - dt.timedelta(hours=self.settings.max_age_hours),
            window_end=end,
            window_hours=self.settings.max_age_hours,
            next_due=next_due,
            ever_sent=any(r["state"] == "done" for r in runs),
            post_when_empty=self.settings.post_when_empty,
            newest=newest,
        )
        sample = bundled_sample()
        if topics and self._holds_only(sample):
            t = topics[0]
            facts.sample = sample
            facts.sample_at = self._fullest_morning(
                sample, [s.topic for s in quiet], t["hour"], t["minute"], t["tz"]
            )
        digest.facts = facts
        return digest

    def _newest(self, topic: str, due_ts: int) -> int | None:
        """The time of the newest article matching ``topic`` published by ``due_ts``."""
        parsed = parse(topic)
        if parsed is None:
            return None
        hi = time_key(due_ts) + SEQ_SPAN - 1
        rows = self.store.match_marked(parsed.fts(), 1, EARLIEST_KEY, hi)
        if not rows:
            return None
        found = self.store.ranking_rows([rows[0][0]])
        return found[0]["published_ts"] if found else None

    def _holds_only(self, sample: Sample) -> bool:
        """Whether the database holds the bundled sample and nothing else: its newest article
        is there (an index look-up), and as many articles as the sample has (counted only
        then: a count costs the whole table)."""
        if self.store.article_id_for_urls([sample.newest_url]) is None:
            return False
        return self.store.count_articles() == sample.articles

    def _fullest_morning(
        self, sample: Sample, topics: Sequence[str], hour: int, minute: int, tz: str
    ) -> dt.datetime:
        """The digest time (``hour:minute`` in ``tz``) within the sample's days whose window
        holds the most of the sample's articles on ``topics`` (the latest of equals; when none
        is on them, the most articles of any kind): where a preview shows a full digest."""
        mornings = sorted({schedule.next_due(_utc(ts), hour, minute, tz)[1] for ts in sample.times})
        window = self.settings.max_age_hours * 3600

        def on_topics(due: dt.datetime) -> int:
            lo, hi = time_key(int(due.timestamp() - window)), time_key(int(due.timestamp()))
            found: set[int] = set()
            for topic in topics:
                parsed = parse(topic)
                if parsed is not None:
                    rows = self.store.match_marked(parsed.fts(), WINDOW, lo, hi + SEQ_SPAN - 1)
                    found.update(r[0] for r in rows)
            return len(found)

        def any_kind(due: dt.datetime) -> int:
            end = due.timestamp()
            return sum(1 for ts in sample.times if end - window <= ts <= end)

        score = on_topics if any(on_topics(m) for m in mornings) else any_kind
        return max(reversed(mornings), key=score)


EARLIEST_KEY = -(1 << 62)  # below every article id (time keys; before 1970 they are negative)


def _utc(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


@functools.cache
def bundled_sample() -> Sample:
    """The bundled sample's facts, read once from ``bot/sample/seed.txt``."""
    text = resources.files("bot.sample").joinpath("seed.txt").read_text("utf-8")
    first = parse_text(text)
    articles = [first, *first.related]
    times = tuple(sorted(a.published_ts for a in articles if a.published_ts is not None))
    newest = max(articles, key=lambda a: a.published_ts or 0)
    return Sample(len({a.url for a in articles}), times[0], times[-1], newest.url, times)


def compose_digest(
    store: Store,
    team_id: str,
    channel_id: str,
    due: dt.datetime,
    settings: DigestSettings | None = None,
) -> Digest:
    """One digest, without a shared cache (see :class:`Composer` for many)."""
    return Composer(store, settings, cache_size=16).compose(team_id, channel_id, due)


def preview_digest(
    store: Store,
    team_id: str,
    channel_id: str,
    now: dt.datetime,
    settings: DigestSettings | None = None,
) -> Digest | None:
    """What this channel's next digest would hold if it were posted now (``/news preview``):
    stories from the window before ``now`` not yet sent here, dated with the next digest's
    local date (a weekend the channel skips is passed over), explained when empty
    (:meth:`Composer.explain`). None when the channel has no active subscription. Changes
    nothing."""
    topics = store.active_subscriptions(team_id, channel_id)
    if not topics:
        return None
    t = topics[0]
    day, _ = schedule.next_due(now, t["hour"], t["minute"], t["tz"])
    composer = Composer(store, settings, cache_size=16)
    if composer.preferences(team_id, channel_id, t.get("kind")).skip_weekends:
        while day.weekday() >= 5:  # skipped: the next digest posted is Monday's
            day += dt.timedelta(days=1)
    digest = composer.compose(team_id, channel_id, now, topics=topics, local_date=day)
    return composer.explain(digest, next_due=schedule.due_at(day, t["hour"], t["minute"], t["tz"]))
