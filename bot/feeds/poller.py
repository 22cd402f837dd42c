"""One polling round over the sources that are due (issue 13, item 2): what the scheduler runs
every minute (``sources-poll``) and ``newsbot sources poll [ID]`` runs once.

A round takes at most ``per_round`` due sources, the longest overdue first. Feeds are fetched
``concurrency`` at a time on threads (the network is the wait; :mod:`bot.feeds.fetch` bounds
each fetch by its deadline and byte cap), then settled one by one on the calling thread: the
body parsed (:mod:`bot.feeds.items`), its articles written in short transactions
(:mod:`bot.feeds.ingest`), the source's outcome recorded with its next poll time
(:mod:`bot.feeds.policy`). Folder sources are scanned (:mod:`bot.feeds.folders`). The stories
the round touched are regrouped by the scheduler's regroup job (:mod:`bot.feeds.job`), or by
``newsbot sources poll`` after its round: not inside the round, which would then wait minutes
at a thousand feeds (``bench/poll.py``).

Nothing is lost or doubled by a kill at any point: a source's validators (ETag, Last-Modified,
body hash) are stored only after its articles are, so a round killed before that fetches the
same body again, and writing an article twice changes nothing (its identity is its canonical
address). A source removed while its fetch was in flight is left alone.

Health: after ``FAILING_FOR`` of failures, or ``QUIET_FOR`` without a new item on a source
that used to bring some, and when the server says a feed is gone (410), whoever added the
source is told once (``notify``); a success or a new item resets it, so the next run of
failures is told again, never twice in a row.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.feeds import policy
from bot.feeds.fetch import FetchResult, FetchSettings, Validators, fetch, make_client
from bot.feeds.folders import scan_folder
from bot.feeds.ingest import ingest
from bot.feeds.items import parse_feed
from storage.sources import Source
from storage.store import Store

log = logging.getLogger("newsbot.feeds")

Clock = Callable[[], dt.datetime]
Notify = Callable[[Source, str], bool]  # (source, what to say) -> whether it was said

FAILING_FOR = dt.timedelta(hours=24)
QUIET_FOR = dt.timedelta(days=7)
MOVED_AFTER = 3  # permanent redirects to one address in a row before the address is updated


@dataclass(frozen=True)
class PollSettings:
    fetch: FetchSettings = field(default_factory=FetchSettings)
    every: float = policy.DEFAULT_INTERVAL  # seconds between polls of a source
    floor: float = policy.MIN_INTERVAL  # the shortest interval a source may get
    concurrency: int = 4  # fetches at once
    per_round: int = 50  # sources a round takes at most (the next round takes the rest)

    @classmethod
    def from_config(cls, config: Any) -> PollSettings:
        s = config.sources
        return cls(
            fetch=FetchSettings(
                connect_timeout=s.timeout_seconds,
                read_timeout=s.timeout_seconds,
                deadline=s.deadline_seconds,
                max_bytes=s.max_bytes,
                allow_private=s.allow_private,
            ),
            every=max(s.poll_minutes, s.min_poll_minutes) * 60.0,
            floor=s.min_poll_minutes * 60.0,
            concurrency=s.concurrency,
        )


@dataclass
class Polled:
    """What one source's poll came to."""

    source_id: int
    address: str
    outcome: str  # a fetch's outcome, "failed" for a body that is no feed, or "scanned"
    new: int = 0
    updated: int = 0
    error: str | None = None
    next_poll_at: dt.datetime | None = None

    def line(self) -> str:
        what = self.error or f"{self.new} new, {self.updated} updated"
        return f"#{self.source_id} {self.outcome}: {what}"


@dataclass
class Round:
    polled: list[Polled] = field(default_factory=list)
    told: int = 0  # health notices sent

    @property
    def new(self) -> int:
        return sum(p.new for p in self.polled)


class Poller:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: PollSettings | None = None,
        *,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings or PollSettings()
        self.client = client or make_client(self.settings.fetch)
        self.rng = rng or random.Random()
        self.notify = notify

    def close(self) -> None:
        self.client.close()

    # -- a round --------------------------------------------------------------------------

    def run_round(self, only: int | None = None) -> Round:
        """Poll the due sources (or only source ``only``, due or not, unless it is gone)."""
        now = self.clock()
        if only is not None:
            one = self.store.source(only)
            sources = [one] if one is not None and one.state != "gone" else []
        else:
            sources = self.store.due_sources(now, self.settings.per_round)
        result = Round()
        feeds = [s for s in sources if s.kind == "feed"]
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            fetched = list(pool.map(self._fetch, feeds))
        for source, answer in zip(feeds, fetched, strict=True):
            result.polled.append(self._settle(source, answer, now))
        for source in (s for s in sources if s.kind == "folder"):
            result.polled.append(self._scan(source, now))
        if any(p.new or p.updated for p in result.polled):
            # The words, at once (cheap); the stories, by the regroup job (bot.feeds.job) or
            # the caller (newsbot sources poll): at a thousand feeds the week's regroup takes
            # minutes, and a round must not wait for it (its pending notes are in the database).
            self.store.refresh_search_terms()
        result.told = self.tell(now)
        for p in result.polled:
            log.info("source %s", p.line())
        return result

    def _fetch(self, source: Source) -> FetchResult:
        validators = Validators(source.etag, source.last_modified, source.body_hash)
        return fetch(source.address, validators, self.settings.fetch, self.client)

    # -- settling one feed ------------------------------------------------------------------

    def _settle(self, source: Source, answer: FetchResult, now: dt.datetime) -> Polled:
        polled = Polled(source.id, source.address, answer.outcome, error=answer.error)
        if answer.outcome == "gone":
            self.store.record_gone(source.id, now, answer.error or "gone (410)")
            return polled  # told by tell(), at the end of this round (and again if Slack fails)
        if answer.outcome in ("failed", "throttled"):
            return self._failed(source, polled, answer.error or "failed", now, answer)
        self.store.note_moved(source.id, answer.moved_to, MOVED_AFTER)
        if answer.outcome != "ok" or answer.body is None:  # 304, or the same body again
            polled.next_poll_at = self._next("not_modified", now, 0, answer)
            self.store.record_not_modified(source.id, polled.next_poll_at, now)
            return polled
        parsed = parse_feed(answer.body, answer.final_url, now, source.topics)
        if not parsed.ok:
            return self._failed(source, polled, parsed.error or "not a feed", now, answer)
        report = ingest(
            self.store, parsed.articles, f"feed:{source.address}", self.clock, regroup_after=False
        )
        ids = [self.store.article_id_for_urls([a.url]) for a in parsed.articles]
        polled.new = self.store.note_source_items(source.id, [i for i in ids if i is not None], now)
        polled.updated = report.updated
        polled.next_poll_at = self._next("ok", now, 0, answer, parsed.ttl_minutes)
        # Validators last: a kill before this line fetches the same body again next time.
        self.store.record_success(
            source.id, answer.validators, polled.next_poll_at, now, polled.new, parsed.title
        )
        return polled

    def _failed(
        self, source: Source, polled: Polled, error: str, now: dt.datetime, answer: FetchResult
    ) -> Polled:
        polled.outcome = "throttled" if answer.outcome == "throttled" else "failed"
        polled.error = error
        failures = source.consecutive_failures + 1
        polled.next_poll_at = self._next(polled.outcome, now, failures, answer)
        self.store.record_failure(source.id, error, polled.next_poll_at, now)
        return polled

    def _next(
        self,
        outcome: str,
        now: dt.datetime,
        failures: int,
        answer: FetchResult,
        ttl_minutes: float | None = None,
    ) -> dt.datetime:
        when = policy.next_poll(
            outcome,
            now,
            self.settings.every,
            failures,
            self.rng,
            max_age=answer.max_age,
            ttl_minutes=ttl_minutes,
            retry_after=answer.retry_after,
            floor=self.settings.floor,
        )
        return when or now + dt.timedelta(seconds=self.settings.every)

    # -- folders ----------------------------------------------------------------------------

    def _scan(self, source: Source, now: dt.datetime) -> Polled:
        scan = scan_folder(self.store, source, self.clock)
        polled = Polled(source.id, source.address, "scanned", error=scan.error)
        if scan.error:
            polled.outcome = "failed"
            failures = source.consecutive_failures + 1
            polled.next_poll_at = now + dt.timedelta(
                seconds=policy.failure_delay(
                    failures, self.settings.every, self.rng, self.settings.floor
                )
            )
            self.store.record_failure(source.id, scan.error, polled.next_poll_at, now)
            return polled
        polled.new, polled.updated = scan.new_items, len(scan.changed)
        polled.next_poll_at = now + dt.timedelta(
            seconds=policy.success_delay(self.settings.every, self.rng, floor=self.settings.floor)
        )
        no_validators = Validators(None, None, None)
        self.store.record_success(
            source.id, no_validators, polled.next_poll_at, now, scan.new_items
        )
        return polled

    # -- health -----------------------------------------------------------------------------

    def tell(self, now: dt.datetime) -> int:
        """Tell whoever added a source that it has failed for ``FAILING_FOR``, or brought
        nothing new for ``QUIET_FOR`` after bringing some: once each time it happens."""
        told = 0
        for source in self.store.sources():
            if source.state == "gone":
                if source.notified_failing_at is None and self._say(
                    source,
                    f"the feed {source.address} is gone (the server said 410): "
                    "it is no longer polled",
                ):
                    self.store.set_notified(source.id, "failing", now)
                    told += 1
                continue
            if source.state != "active":
                continue
            if (
                source.failing
                and source.notified_failing_at is None
                and source.failing_since is not None
                and now - source.failing_since >= FAILING_FOR
            ):
                said = self._say(
                    source,
                    f"the feed {source.address} has failed since "
                    f"{source.failing_since:%Y-%m-%d %H:%M} UTC ({source.last_error})",
                )
                if said:
                    self.store.set_notified(source.id, "failing", now)
                    told += 1
            elif (
                not source.failing
                and source.last_new_item_at is not None
                and source.notified_quiet_at is None
                and now - source.last_new_item_at >= QUIET_FOR
            ):
                said = self._say(
                    source,
                    f"the feed {source.address} has brought nothing new since "
                    f"{source.last_new_item_at:%Y-%m-%d}",
                )
                if said:
                    self.store.set_notified(source.id, "quiet", now)
                    told += 1
        return told

    def _say(self, source: Source, text: str) -> bool:
        if self.notify is None:
            log.warning("source #%d: %s", source.id, text)
            return True
        try:
            return self.notify(source, text)
        except Exception:  # a notice must never stop a round
            log.exception("source #%d: could not tell %s", source.id, source.added_by)
            return False
