"""The digest job: post one channel's morning digest, exactly once, whatever happens.

``DigestRunner.run_channel(team, channel)`` is what the scheduler fires at the channel's hour,
what the catch-up at start runs, and what ``newsbot digest`` runs. Step by step:

1. The channel's most recent due time (``bot.core.schedule.last_due``) as of the clock. A zone
   the machine does not know pauses the channel (with the reason, and a notice to the
   subscriber); it never stops the scheduler.
2. Runs of earlier dates still unsettled (a killed or frozen process's ``posting`` run, a
   ``waiting`` one) are settled first (:meth:`DigestRunner.settle`): their post is looked for
   in Slack and adopted, with its deliveries, or the skip is recorded. So no story is repeated
   because an earlier post's outcome was unknown.
3. More than ``digest.grace_hours`` late: settle this date's run if it has one, else log and
   note the skip. Nothing is posted.
4. Claim the run for that local date (``Store.claim_digest_run``: ``BEGIN IMMEDIATE``, a
   lease). Finished, or held by a live process: nothing to do now (``busy`` says when the lease
   ends, and the scheduler comes back then). A lease ends by time; a process known to be dead
   (this machine, this PID namespace, its PID gone) ends it sooner, never later.
5. If an earlier attempt's outcome is unknown (``post_unknown``: the answer was lost, or was a
   5xx), look for that post in ``conversations.history``, narrowed to the attempts' time window
   with a small page: found, record it (adopted) and stop. The database is the source of truth
   otherwise: a post known not to have reached Slack is never looked for.
6. Compose (``bot.core.digest``), render (``bot.render.digest_blocks``). Nothing new: no post
   (unless ``digest.post_when_empty``).
7. The fence: ``Store.begin_digest_post`` checks, immediately before every ``chat.postMessage``
   (each retry included), that this process still holds the run, and records that a post may
   reach Slack. A process frozen past its lease wakes to find the run taken and posts nothing.
8. ``chat.postMessage`` with the metadata (``event_type: news_digest``, the date) and no
   unfurls; on success the message ts and the deliveries in one transaction.

Failures. 429: wait ``Retry-After`` here, not in slack_sdk's handler, so the fence is checked
after the wait. A 5xx, a dropped connection, a timeout, a busy database: transient, tried
again with exponential backoff (``RetryPolicy``). A run keeps trying in-process for
``inline_seconds``, then hands the run back (state ``waiting``, ``retry_at``) for the scheduler
(or any process) to take up then; when the next try would fall past the grace period, the run
is settled: adopted if its post turns out to be in Slack, else recorded ``skipped`` and logged
once. ``not_in_channel``, ``channel_not_found``, ``is_archived``, ``account_inactive``: the
channel's subscriptions are paused with the reason, each subscriber gets a notice (kept in the
database until Slack takes it: :meth:`DigestRunner.send_notices`), the run ends ``paused``.
Anything else Slack refuses ends the run ``failed``. Nothing raised by Slack, the network or
the store leaves ``run_channel``: the scheduler never dies.

In the code: :meth:`DigestRunner._attempt` is one try (steps 5-8); the fence and the post are
:meth:`DigestRunner._post_once`, whose Slack side (the call, its answer sorted into an
``Outcome``: posted, transient, unknown, gone, refused) is :mod:`bot.digests.posting`, as is the
history search. :meth:`DigestRunner._deliver` loops over tries; after a passing failure
:mod:`bot.digests.retry` says where the next one happens (here, handed back, or none), and the
runner carries that out with the lease (renewed over a wait, released when handed back).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.core import schedule
from bot.core.digest import Composer, Digest, DigestSettings
from bot.core.owners import owner_gone, process_owner
from bot.core.service.base import LOCAL_TEAM
from bot.digests.notices import send_notices
from bot.digests.posting import (
    CALL_ERRORS,
    NOT_SENT,
    Outcome,
    call_failed,
    find_digest,
    post_digest,
)
from bot.digests.retry import Retries, RetryPolicy
from bot.render.digest_blocks import DigestMessage, digest_message
from bot.slack.client import make_client
from storage.store import Store

log = logging.getLogger("newsbot.digests")

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]

REASONS = {
    "not_in_channel": "newsbot is not a member of the channel",
    "channel_not_found": "the channel no longer exists (or newsbot cannot see it)",
    "is_archived": "the channel is archived",
    "account_inactive": "newsbot's Slack account is inactive",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The name this process holds digest runs under (bot.core.owners: a machine, PID namespace,
# PID and token, so a dead holder's lease can be ended early).
PROCESS_OWNER = process_owner()


def _subscribed_after(subscribed_at: str | None, due: dt.datetime) -> bool:
    """Whether a subscription made at ``subscribed_at`` (ISO 8601) came after ``due``."""
    if not subscribed_at:
        return False
    try:
        when = dt.datetime.fromisoformat(subscribed_at)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when > due


# Looking for our own late post (see DigestRunner._lost): tries, and the longest wait between
# two (Slack's 5xx and dropped connections pass in seconds; the run is already another's).
LATE_LOOKUPS = 5
LATE_LOOKUP_WAIT = 10.0


def digest_client(token: str | None, base_url: str | None = None, timeout: int = 10) -> WebClient:
    """The client for digest posts and notices: no retry handlers at all. A 429's wait happens
    in the runner, which checks its lease after it; a 5xx or a dropped connection may come
    *after* Slack stored the message, so the runner retries those itself, looking first."""
    client = make_client(token, base_url, retry_connection_errors=False, timeout=timeout)
    client.retry_handlers = []
    return client


@dataclass
class RunResult:
    team_id: str
    channel_id: str
    status: str  # posted, adopted, empty, paused, failed, skipped, busy, retry, finished,
    #              not_due, no_subscriptions, dry_run, error
    local_date: dt.date | None = None
    due: dt.datetime | None = None
    message_ts: str | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None  # busy/retry: when to run the job again
    digest: Digest | None = None
    dms: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for logs and the ``newsbot digest`` command."""
        when = f" {self.local_date.isoformat()}" if self.local_date else ""
        out = f"{self.channel_id}{when}: {self.status}"
        if self.message_ts:
            out += f" (ts {self.message_ts})"
        if self.error:
            out += f": {self.error}"
        if self.retry_at and self.status == "busy":
            out += f" (held by another run until {self.retry_at.isoformat()})"
        elif self.retry_at:
            out += f" (next try at {self.retry_at.isoformat()})"
        return out


def _iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _zone_ok(tz: str) -> bool:
    try:
        schedule.zone(tz)
    except ValueError:
        return False
    return True


@dataclass
class _Attempts:
    """What one run's attempts carry from one to the next."""

    unknown: bool  # the last post may be in Slack
    conversation: str | None
    answered: bool = False  # Slack answered the last post (so it is done with it)
    token: str | None = None  # the last post's own mark, in its metadata
    sent_at: dt.datetime | None = None
    message: DigestMessage | None = None  # the rendered digest, composed once


class DigestRunner:
    """Runs the digest job for a channel and a moment. Thread-safe (the store serialises)."""

    def __init__(
        self,
        store: Store,
        client: WebClient | None,
        settings: DigestSettings | None = None,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = time.sleep,
        owner: str = PROCESS_OWNER,
        lease: dt.timedelta | None = None,
        retry: RetryPolicy | None = None,
        local_sink: Callable[[Digest], None] | None = None,
        on_paused: Callable[[str, str], object] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings or DigestSettings()
        self.clock = clock
        self.sleep = sleep
        self.owner = owner
        # the lease and the retry policy come from the settings (digest.lease_seconds,
        # digest.retry_*) unless given
        self.lease = lease or dt.timedelta(seconds=self.settings.lease_seconds)
        self.retry = retry or RetryPolicy(
            self.settings.retry_base_seconds,
            self.settings.retry_cap_seconds,
            self.settings.retry_inline_seconds,
        )
        self.local_sink = local_sink  # no Slack client: "deliver" here (the local shell)
        self.on_paused = on_paused
        self.composer = Composer(store, self.settings)

    # -- which channels --------------------------------------------------------------------

    def ours(self, team_id: str) -> bool:
        """Whether this runner's schedule covers the team's conversations: a runner posting to
        Slack never the shell's stand-in team (its digests are printed by the shell, never
        posted), the shell's runner only that one (a shell on the bot's database must not
        fail a real channel's morning), a runner with neither (a dry run by hand) all."""
        if self.client is not None:
            return team_id != LOCAL_TEAM
        if self.local_sink is not None:
            return team_id == LOCAL_TEAM
        return True

    def _scheduled(self, now: dt.datetime) -> list[tuple[dict[str, Any], dt.date, dt.datetime]]:
        """Each active conversation with its most recent due date and instant; a conversation
        whose zone is unknown is paused instead (see :meth:`pause_unknown_zone`)."""
        out = []
        for ch in self.store.active_channels():
            if not self.ours(ch["team_id"]):
                continue
            if not _zone_ok(ch["tz"]):
                self.pause_unknown_zone(ch["team_id"], ch["channel_id"], ch["tz"])
                continue
            day, due = schedule.last_due(now, ch["hour"], ch["minute"], ch["tz"])
            out.append((ch, day, due))
        return out

    def due_channels(self, now: dt.datetime | None = None) -> list[tuple[str, str]]:
        """Channels whose most recent digest is due as of ``now``, within the grace period,
        and not finished: what a catch-up (or ``newsbot digest`` without --channel) runs."""
        now = now or self.clock()
        out = []
        for ch, day, due in self._scheduled(now):
            if not schedule.within_grace(due, now, self.settings.grace_hours):
                continue
            run = self.store.digest_run(ch["team_id"], ch["channel_id"], day.isoformat())
            if run is None or run["state"] not in ("done", "empty", "paused"):
                out.append((ch["team_id"], ch["channel_id"]))
        return out

    def missed_channels(self, now: dt.datetime | None = None) -> list[RunResult]:
        """Channels whose most recent digest is past the grace period and was never run: log
        and note each skip (what a catch-up at start reports)."""
        now = now or self.clock()
        out = []
        for ch, day, due in self._scheduled(now):
            if schedule.within_grace(due, now, self.settings.grace_hours):
                continue
            if _subscribed_after(ch["first_subscribed_at"], due):
                continue  # subscribed after that digest was due
            if self.store.digest_run(ch["team_id"], ch["channel_id"], day.isoformat()) is None:
                out.append(self._skip(ch["team_id"], ch["channel_id"], day, due, now))
        return out

    def settle_stale(self, now: dt.datetime | None = None) -> list[RunResult]:
        """Settle every unsettled run (running, posting, waiting) whose grace period is over,
        whatever its age: adopted if its post is in Slack, else skipped. Runs another live
        process holds are left to it (``busy``)."""
        now = now or self.clock()
        out = []
        for run in self.store.unsettled_runs():
            if not self.ours(run["team_id"]):
                continue
            due = dt.datetime.fromisoformat(run["scheduled_for"])
            if due + dt.timedelta(hours=self.settings.grace_hours) < now:
                out.append(
                    self.run_guarded(
                        run["team_id"], run["channel_id"], functools.partial(self.settle, run, now)
                    )
                )
        return out

    def run_due(self, now: dt.datetime | None = None, *, dry_run: bool = False) -> list[RunResult]:
        now = now or self.clock()
        return [self.run_channel(t, c, now=now, dry_run=dry_run) for t, c in self.due_channels(now)]

    # -- the job -----------------------------------------------------------------------------

    def run_channel(
        self,
        team_id: str,
        channel_id: str,
        *,
        now: dt.datetime | None = None,
        dry_run: bool = False,
    ) -> RunResult:
        """The job for one channel as of ``now`` (default: the clock). Never raises."""
        return self.run_guarded(
            team_id,
            channel_id,
            lambda: self._run(team_id, channel_id, now or self.clock(), dry_run),
        )

    def run_guarded(self, team_id: str, channel_id: str, job: Callable[[], RunResult]) -> RunResult:
        """``job()``, turning whatever it raises into a result: a busy database is transient
        (tried again shortly), anything else an ``error``. The scheduler must outlive all."""
        try:
            return job()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                log.exception("digest for %s/%s failed unexpectedly", team_id, channel_id)
                return RunResult(team_id, channel_id, "error", error=f"database: {exc}")
            retry_at = self.clock() + dt.timedelta(seconds=self.retry.delay(1))
            log.warning(
                "digest for %s/%s: the database is busy (%s); trying again at %s",
                team_id,
                channel_id,
                exc,
                retry_at.isoformat(timespec="seconds"),
            )
            return RunResult(
                team_id, channel_id, "retry", error=f"database busy: {exc}", retry_at=retry_at
            )
        except Exception as exc:
            log.exception("digest for %s/%s failed unexpectedly", team_id, channel_id)
            return RunResult(team_id, channel_id, "error", error=f"{type(exc).__name__}: {exc}")

    def _skip(
        self, team_id: str, channel_id: str, day: dt.date, due: dt.datetime, now: dt.datetime
    ) -> RunResult:
        late = schedule.lateness(due, now).total_seconds() / 3600
        reason = (
            f"missed: due {due.isoformat()}, {late:.1f} h ago, beyond the grace period "
            f"of {self.settings.grace_hours:g} h"
        )
        log.warning(
            "skipping the %s digest of %s/%s (%s); next one at its usual time",
            day.isoformat(),
            team_id,
            channel_id,
            reason,
        )
        self.store.mark_digest_skipped(
            team_id, channel_id, day.isoformat(), due, now=now, reason=reason
        )
        return RunResult(team_id, channel_id, "skipped", day, due, error=reason)

    def _run(self, team_id: str, channel_id: str, now: dt.datetime, dry_run: bool) -> RunResult:
        topics = self.store.active_subscriptions(team_id, channel_id)
        if not topics:
            return RunResult(team_id, channel_id, "no_subscriptions")
        sub = topics[0]
        if not _zone_ok(sub["tz"]):
            if dry_run:
                return RunResult(
                    team_id, channel_id, "paused", error=f"unknown time zone {sub['tz']!r}"
                )
            return self.pause_unknown_zone(team_id, channel_id, sub["tz"])
        day, due = schedule.last_due(now, sub["hour"], sub["minute"], sub["tz"])
        result = RunResult(team_id, channel_id, "", day, due)
        if not dry_run:
            # An earlier date's run still unsettled: settle it first, so that what it may
            # have posted counts as delivered before today's digest is composed.
            for stale in self.store.unsettled_runs(team_id, channel_id, before=day.isoformat()):
                settled = self.settle(stale, now)
                if settled.status in ("busy", "retry"):
                    result.status, result.retry_at = settled.status, settled.retry_at
                    result.error = f"the {stale['local_date']} digest is not settled yet"
                    if not schedule.within_grace(
                        due, settled.retry_at or now, self.settings.grace_hours
                    ):
                        result.retry_at = None
                    return result
        if all(_subscribed_after(t["subscribed_at"], due) for t in topics):
            result.status = "not_due"  # every topic came after this digest's time
            return result
        if not schedule.within_grace(due, now, self.settings.grace_hours):
            run = self.store.digest_run(team_id, channel_id, day.isoformat())
            if run is not None and run["state"] in ("done", "empty", "paused"):
                result.status = "finished"
                return result
            if run is not None and run["state"] in ("skipped", "failed"):
                result.status, result.error = run["state"], run["error"]  # said when it was
                return result
            if dry_run:  # say so, record nothing
                late = schedule.lateness(due, now).total_seconds() / 3600
                result.status, result.error = "skipped", f"{late:.1f} h late, beyond the grace"
                return result
            if run is not None and run["state"] in ("running", "posting", "waiting"):
                return self.settle(run, now)
            return self._skip(team_id, channel_id, day, due, now)
        if dry_run:
            result.digest = self.composer.compose(
                team_id, channel_id, due, topics=topics, local_date=day
            )
            run = self.store.digest_run(team_id, channel_id, day.isoformat())
            result.status = "dry_run"
            if run is not None:
                result.error = f"this date's run is {run['state']}"
            return result

        claim = self._claim(team_id, channel_id, day, due)
        run = claim["run"]
        if claim["status"] == "finished":
            result.status = "finished"
            result.message_ts = run["message_ts"]
            return result
        if claim["status"] == "busy":
            return self._busy(result, run)
        return self._deliver(run, topics, result)

    def _claim(
        self, team_id: str, channel_id: str, day: dt.date, due: dt.datetime
    ) -> dict[str, Any]:
        # Leases run on the clock, not on the moment the job is "as of": a job run as of
        # 08:00 that reaches this channel at 08:12 must not take a lease already over.
        claim = self.store.claim_digest_run(
            team_id,
            channel_id,
            day.isoformat(),
            due,
            owner=self.owner,
            now=self.clock(),
            lease=self.lease,
            owner_gone=owner_gone,
        )
        if claim["status"] == "taken_over":
            run = claim["run"]
            log.warning(
                "taking over the %s digest of %s/%s: its last run died or its lease "
                "ended (claims so far: %s)",
                day.isoformat(),
                team_id,
                channel_id,
                run["attempts"],
            )
        return claim

    def _busy(self, result: RunResult, run: dict[str, Any]) -> RunResult:
        """Another live process holds the run: come back when its lease ends (if the grace
        allows; a run left past it is settled by the catch-up or the next day's job)."""
        result.status = "busy"
        until = run["claimed_until"]
        retry_at = dt.datetime.fromisoformat(until) if until else None
        if (
            retry_at is not None
            and result.due is not None
            and not schedule.within_grace(result.due, retry_at, self.settings.grace_hours)
        ):
            retry_at = None
        result.retry_at = retry_at
        return result

    # -- settling a run whose outcome is open ------------------------------------------------

    def settle(self, run: dict[str, Any], now: dt.datetime) -> RunResult:
        """Settle a run past its grace period (or of an earlier date) that never finished:
        if a post may be in Slack, look for it and adopt it (recording its deliveries), else
        record the skip. Held by a live process: ``busy`` until its lease ends."""
        team_id, channel_id = run["team_id"], run["channel_id"]
        day = dt.date.fromisoformat(run["local_date"])
        due = dt.datetime.fromisoformat(run["scheduled_for"])
        result = RunResult(team_id, channel_id, "", day, due)
        claim = self._claim(team_id, channel_id, day, due)
        run = claim["run"]
        if claim["status"] == "finished":
            result.status, result.message_ts = "finished", run["message_ts"]
            return result
        if claim["status"] == "busy":
            result.status = "busy"
            until = run["claimed_until"]
            result.retry_at = dt.datetime.fromisoformat(until) if until else None
            return result
        return self._give_up(run, result, run["error"] or "its process stopped")

    def _give_up(self, run: dict[str, Any], result: RunResult, error: str) -> RunResult:
        """The grace period is over (or will be before the next try): adopt the post if it is
        in Slack after all, else record the skip and log it once."""
        assert result.local_date is not None and result.due is not None
        if run["post_unknown"] and self.client is not None:
            try:
                conversation = run["conversation"] or self._conversation(
                    result.channel_id, self._kind(result.team_id, result.channel_id)
                )
                found = self._find_posted(conversation, result.local_date, run)
            except CALL_ERRORS as exc:
                # Cannot tell now: keep the run open, to be settled on a later try.
                retry_at = self.clock() + dt.timedelta(seconds=self.retry.delay(2))
                self.store.release_digest_run(
                    run["id"],
                    owner=self.owner,
                    now=self.clock(),
                    retry_at=retry_at,
                    error=f"settling: {exc}",
                )
                result.status, result.retry_at = "retry", retry_at
                result.error = f"cannot look for its post yet: {exc}"
                return result
            if found is not None:
                return self._adopt(run, result, found)
            wait = self._unsettled_for(run)
            if wait > 0:  # it may still land: look again once it cannot
                retry_at = self.clock() + dt.timedelta(seconds=wait)
                self.store.release_digest_run(
                    run["id"], owner=self.owner, now=self.clock(), retry_at=retry_at, error=error
                )
                result.status, result.retry_at = "retry", retry_at
                result.error = "its last post may still be on its way to Slack"
                return result
        reason = (
            f"gave up: {error}; the grace period of {self.settings.grace_hours:g} h "
            f"after {result.due.isoformat()} is over"
        )
        log.warning(
            "skipping the %s digest of %s/%s (%s); next one at its usual time",
            result.local_date.isoformat(),
            result.team_id,
            result.channel_id,
            reason,
        )
        self.store.end_digest_run(
            run["id"], owner=self.owner, state="skipped", now=self.clock(), error=reason[:500]
        )
        result.status, result.error = "skipped", reason
        return result

    def _unsettled_for(self, run: dict[str, Any]) -> float:
        """Seconds until a post whose answer never came can no longer appear in Slack."""
        last = run["post_last_at"]
        if not last:
            return 0.0
        # A post whose answer never came (a timeout, a dropped connection, a process killed or
        # frozen while it was in flight) may still be stored by Slack a moment later: its
        # absence from the history proves nothing until digest.post_settle_seconds after it.
        settled = dt.datetime.fromisoformat(last) + dt.timedelta(
            seconds=self.settings.post_settle_seconds
        )
        return max(0.0, (settled - self.clock()).total_seconds())

    def _adopt(self, run: dict[str, Any], result: RunResult, ts: str) -> RunResult:
        self.store.finish_digest_run(run["id"], message_ts=ts, now=self.clock())
        log.debug(  # the scheduler's line says "adopted": one line per digest at INFO
            "the %s digest of %s/%s was already in Slack (ts %s): recorded",
            result.local_date,
            result.team_id,
            result.channel_id,
            ts,
        )
        result.status, result.message_ts = "adopted", ts
        return result

    def _kind(self, team_id: str, channel_id: str) -> str | None:
        subs = self.store.subscriptions(team_id, channel_id)
        return subs[0]["kind"] if subs else None

    # -- delivering --------------------------------------------------------------------------

    def _deliver(
        self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult
    ) -> RunResult:
        """Attempts until one ends the run; after a passing failure, the retry policy places
        the next (here after a backoff, handed back, or none: settled); a lost lease ends it."""
        if self.client is None or result.team_id == LOCAL_TEAM:
            return self._deliver_locally(run, topics, result)
        assert result.due is not None
        retries = Retries(
            self.retry,
            started=self.clock(),
            grace_end=result.due + dt.timedelta(hours=self.settings.grace_hours),
        )
        state = _Attempts(unknown=bool(run["post_unknown"]), conversation=run["conversation"])
        while True:
            step = self._try(run, topics, result, state)
            if isinstance(step, RunResult):
                return step
            if step.kind == "lost":
                return self._lost(run, result, state)
            ended = self._after_failure(run, result, state, retries, step)
            if ended is not None:
                return ended

    def _after_failure(
        self,
        run: dict[str, Any],
        result: RunResult,
        state: _Attempts,
        retries: Retries,
        failure: Outcome,
    ) -> RunResult | None:
        """A passing failure: sleep (the lease renewed over the wait) and return None to try
        again here, or end this run's attempts: handed back for later, or settled (the next
        try would fall past the grace period)."""
        now = self.clock()
        next_try = retries.after_failure(now, failure.retry_after)
        if next_try.where == "never":
            return self._give_up(self._fresh(run), result, failure.error)
        if next_try.where == "later":
            return self._hand_back(run, result, state, failure.error, now, next_try.at)
        log.warning(
            "digest of %s/%s, try %d: %s; trying again in %.1f s",
            result.team_id,
            result.channel_id,
            retries.failures,
            failure.error,
            next_try.delay,
        )
        if not self.store.renew_digest_run(
            run["id"],
            owner=self.owner,
            now=now,
            lease=self.lease + dt.timedelta(seconds=next_try.delay),
        ):
            return self._lost(run, result, state)
        self.sleep(next_try.delay)
        return None

    def _hand_back(
        self,
        run: dict[str, Any],
        result: RunResult,
        state: _Attempts,
        error: str,
        now: dt.datetime,
        retry_at: dt.datetime,
    ) -> RunResult:
        """Past the inline budget: the run waits (``waiting``, ``retry_at``) for the scheduler,
        or any process, to take it up then."""
        if not self.store.release_digest_run(
            run["id"], owner=self.owner, now=now, retry_at=retry_at, error=error
        ):
            return self._lost(run, result, state)
        log.warning(
            "the %s digest of %s/%s is not posted yet (%s); trying again at %s",
            result.local_date,
            result.team_id,
            result.channel_id,
            error,
            retry_at.isoformat(timespec="seconds"),
        )
        result.status, result.error, result.retry_at = "retry", error, retry_at
        return result

    def _fresh(self, run: dict[str, Any]) -> dict[str, Any]:
        return self.store.digest_run_by_id(run["id"]) or run

    def _try(
        self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult, state: _Attempts
    ) -> RunResult | Outcome:
        """:meth:`_attempt`, where a busy database (anywhere in it) is one more passing
        failure."""
        try:
            return self._attempt(run, topics, result, state)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return Outcome("transient", f"database busy: {exc}")

    def _attempt(
        self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult, state: _Attempts
    ) -> RunResult | Outcome:
        """One try: look for an earlier post whose outcome is unknown, compose, fence, post.
        The run's result when it ended (posted, adopted, empty, paused, failed); else what
        the retry policy decides on (``transient``, ``unknown``) or ``lost``."""
        looked = self._look_up(run, topics, result, state)
        if looked is not None:
            return looked
        message = self._compose(topics, result, state)
        if message is None:
            return self._empty(run, result)
        outcome = self._post_once(run, result, state, message)
        return self._record(run, result, state, message, outcome)

    def _look_up(
        self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult, state: _Attempts
    ) -> RunResult | Outcome | None:
        """Before a post: where it goes (a DM's channel is opened) and, if an earlier post's
        outcome is unknown, whether it is in Slack after all. None: go on and post."""
        try:
            if state.conversation is None:
                state.conversation = self._conversation(result.channel_id, topics[0].get("kind"))
            return self._recover(run, result, state) if state.unknown else None
        except CALL_ERRORS as exc:
            failure = call_failed(exc)
            if failure.kind == "gone":
                return self._channel_gone(run, result, failure.error)
            return failure

    def _recover(
        self, run: dict[str, Any], result: RunResult, state: _Attempts
    ) -> RunResult | Outcome | None:
        """The last post may be in Slack: adopt it if it is there; if not, wait until its
        absence proves it never arrived (unless Slack answered it), then post again (None)."""
        assert state.conversation is not None and result.local_date is not None
        fresh = self._fresh(run)
        # Our own post first (by its mark): a late post of a process that lost the run may
        # also be there, and adopting that one would leave ours as a second.
        found = self._find_posted(state.conversation, result.local_date, fresh, prefer=state.token)
        if found is not None:
            return self._adopt(run, result, found)
        wait = 0.0 if state.answered else self._unsettled_for(fresh)
        if wait > 0:
            return Outcome(
                "transient", "the last post may still be on its way to Slack", retry_after=wait
            )
        state.unknown = False  # not in Slack: this post never arrived
        return None

    def _compose(
        self, topics: list[dict[str, Any]], result: RunResult, state: _Attempts
    ) -> DigestMessage | None:
        """The rendered digest, composed once per run; None when there is nothing to post."""
        if state.message is None:
            assert result.due is not None
            digest = self.composer.compose(
                result.team_id,
                result.channel_id,
                result.due,
                topics=topics,
                local_date=result.local_date,
            )
            result.digest = digest
            if self._nothing_new(digest):
                return None
            state.message = digest_message(digest)
        return state.message

    def _nothing_new(self, digest: Digest) -> bool:
        return not digest.posts and (digest.quiet_day or not self.settings.post_when_empty)

    def _empty(self, run: dict[str, Any], result: RunResult) -> RunResult:
        self.store.end_digest_run(run["id"], owner=self.owner, state="empty", now=self.clock())
        result.status = "empty"
        return result

    def _post_once(
        self, run: dict[str, Any], result: RunResult, state: _Attempts, message: DigestMessage
    ) -> Outcome:
        """The fence, then one ``chat.postMessage`` (:func:`bot.digests.posting.post_digest`).
        A post that surely never reached Slack is recorded so: it is never looked for."""
        assert self.client is not None and state.conversation is not None
        assert result.local_date is not None
        # The fence: only the current holder of the run may post, checked at this moment.
        if not self.store.begin_digest_post(
            run["id"],
            owner=self.owner,
            now=self.clock(),
            lease=self.lease,
            plan=message.shown.plan(),
            conversation=state.conversation,
        ):
            return Outcome("lost")
        state.unknown, state.answered = True, False
        state.token, state.sent_at = uuid.uuid4().hex[:16], self.clock()
        outcome = post_digest(
            self.client,
            state.conversation,
            message,
            {"date": result.local_date.isoformat(), "run_id": run["id"], "post": state.token},
        )
        state.answered = outcome.answered
        if outcome.kind in NOT_SENT:
            self._not_delivered(run, state)
        return outcome

    def _record(
        self,
        run: dict[str, Any],
        result: RunResult,
        state: _Attempts,
        message: DigestMessage,
        outcome: Outcome,
    ) -> RunResult | Outcome:
        """A post's outcome that ends the run, recorded (posted, channel gone, refused); the
        others (``transient``, ``unknown``, ``lost``) as they are."""
        if outcome.kind == "posted":
            return self._posted(run, result, state, message, outcome.ts)
        if outcome.kind == "gone":
            return self._channel_gone(run, result, outcome.error)
        if outcome.kind == "refused":
            return self._fail(run, result, outcome.error)
        return outcome

    def _posted(
        self,
        run: dict[str, Any],
        result: RunResult,
        state: _Attempts,
        message: DigestMessage,
        ts: str | None,
    ) -> RunResult:
        """Slack stored the post: its deliveries and ts in one transaction, unless the run
        was lost meanwhile (then the post is withdrawn if it is a second)."""
        assert state.conversation is not None
        if not self.store.finish_digest_run(
            run["id"],
            message_ts=ts,
            now=self.clock(),
            entries=message.shown.plan(),
            owner=self.owner,
        ):
            return self._withdraw(run, result, str(ts), state.conversation)
        log.debug(  # the scheduler's line says "posted": one line per digest at INFO
            "posted the %s digest of %s/%s (%d stories, ts %s)",
            result.local_date,
            result.team_id,
            result.channel_id,
            len(message.shown.entries),
            ts,
        )
        result.status, result.message_ts = "posted", ts
        return result

    def _await_holder(self, run: dict[str, Any], result: RunResult) -> dict[str, Any] | None:
        """Wait for the process that took the run over to finish it; the run, or None when
        it did not finish in time (or ended otherwise)."""
        # the new holder may wait for a lease, a post to settle, a backoff: give it that long
        deadline = (
            self.clock()
            + 2 * self.lease
            + dt.timedelta(seconds=self.settings.post_settle_seconds + self.retry.cap_seconds)
        )
        while True:
            fresh = self._fresh(run)
            if fresh["state"] == "done":
                return fresh
            if fresh["state"] not in ("running", "posting", "waiting") or self.clock() >= deadline:
                log.error(
                    "a %s digest of %s/%s went out after another process took it over, "
                    "whose run is %s: left as it is",
                    result.local_date,
                    result.team_id,
                    result.channel_id,
                    fresh["state"],
                )
                return None
            self.sleep(min(1.0, self.lease.total_seconds() / 4))

    def _lost(self, run: dict[str, Any], result: RunResult, state: _Attempts) -> RunResult:
        """Another process holds the run now. If our last post's fate is unknown (its answer
        never came), it may be in Slack beside the new holder's: find it by its own mark once
        it has settled, and withdraw it unless the new holder adopted it."""
        log.warning(
            "lost the lease on the %s digest of %s/%s: another process has it",
            result.local_date,
            result.team_id,
            result.channel_id,
        )
        result.status, result.error = "busy", "the run's lease passed to another process"
        if not (
            state.unknown
            and not state.answered
            and state.token
            and state.sent_at
            and state.conversation
            and self.client is not None
        ):
            return result
        fresh = self._await_holder(run, result)
        if fresh is None:
            return result
        settled = state.sent_at + dt.timedelta(seconds=self.settings.post_settle_seconds)
        wait = (settled - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)
        # A read, so tried again on a 5xx or a dropped connection (the post's own retries are
        # the caller's, who looks first): giving up here would leave a second digest standing.
        for attempt in range(1, LATE_LOOKUPS + 1):
            try:
                mine = self._find_posted(
                    state.conversation,
                    result.local_date or dt.date.min,
                    {**fresh, "post_started_at": _iso_utc(state.sent_at)},
                    token=state.token,
                )
                break
            except CALL_ERRORS as exc:
                if attempt == LATE_LOOKUPS:
                    log.error(
                        "cannot tell whether a late %s digest of %s/%s is in Slack: %s",
                        result.local_date,
                        result.team_id,
                        result.channel_id,
                        exc,
                    )
                    return result
                self.sleep(min(self.retry.delay(attempt), LATE_LOOKUP_WAIT))
        if mine is None or mine == fresh["message_ts"]:
            return result
        return self._withdraw(run, result, mine, state.conversation, fresh)

    def _withdraw(
        self,
        run: dict[str, Any],
        result: RunResult,
        ts: str,
        conversation: str,
        fresh: dict[str, Any] | None = None,
    ) -> RunResult:
        """Our post went out after another process took the run over (this one was frozen
        between the fence and the send: no fence can close that gap, Slack takes no token).
        Wait for the new holder to finish: if it adopted our post, it stands; if it posted its
        own, ours is the second digest of the day and is deleted."""
        fresh = fresh or self._await_holder(run, result)
        if fresh is None:
            result.status, result.message_ts = "busy", ts
            return result
        if fresh["message_ts"] == ts:  # the new holder found ours and adopted it
            result.status, result.message_ts = "adopted", ts
            return result
        assert self.client is not None
        try:
            self.client.chat_delete(channel=conversation, ts=ts)
            log.warning(
                "withdrew a second %s digest of %s/%s (ts %s): another process had "
                "taken the run over and posted (ts %s)",
                result.local_date,
                result.team_id,
                result.channel_id,
                ts,
                fresh["message_ts"],
            )
            result.status, result.error = "busy", "posted after losing the lease: withdrawn"
        except CALL_ERRORS as exc:
            log.error(
                "could not withdraw a second %s digest of %s/%s (ts %s): %s",
                result.local_date,
                result.team_id,
                result.channel_id,
                ts,
                exc,
            )
            result.status, result.error = "busy", f"posted after losing the lease: {exc}"
        result.message_ts = ts
        return result

    def _not_delivered(self, run: dict[str, Any], state: _Attempts) -> None:
        state.unknown = False
        self.store.post_not_delivered(run["id"], owner=self.owner)

    def _deliver_locally(
        self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult
    ) -> RunResult:
        assert result.due is not None
        digest = self.composer.compose(
            result.team_id,
            result.channel_id,
            result.due,
            topics=topics,
            local_date=result.local_date,
        )
        result.digest = digest
        if self.local_sink is None:
            error = (
                "the local shell's digest: printed by newsbot shell, never posted to Slack"
                if result.team_id == LOCAL_TEAM
                else "no Slack client"
            )
            self.store.end_digest_run(
                run["id"], owner=self.owner, state="failed", now=self.clock(), error=error
            )
            log.warning(
                "the digest of %s/%s is not posted: %s", result.team_id, result.channel_id, error
            )
            result.status, result.error = "failed", error
            return result
        if self._nothing_new(digest):
            return self._empty(run, result)
        self.local_sink(digest)
        self.store.finish_digest_run(
            run["id"], message_ts=None, now=self.clock(), entries=digest.plan()
        )
        result.status = "posted"
        return result

    def _fail(self, run: dict[str, Any], result: RunResult, error: str) -> RunResult:
        log.error(
            "giving up on the %s digest of %s/%s: %s",
            result.local_date,
            result.team_id,
            result.channel_id,
            error,
        )
        self.store.end_digest_run(
            run["id"], owner=self.owner, state="failed", now=self.clock(), error=error[:500]
        )
        result.status, result.error = "failed", error
        return result

    # -- pausing and notices -----------------------------------------------------------------

    def _channel_gone(self, run: dict[str, Any], result: RunResult, code: str) -> RunResult:
        reason = REASONS.get(code, code)
        now = self.clock()

        def notice(user: str) -> str:
            if user == result.channel_id:  # a DM digest: nobody invites the bot to a DM
                return (
                    f"I could not post today's news digest in your DM with me: {reason}. I "
                    "have paused it; `/news resume` in your DM with me starts it again."
                )
            return (
                f"I could not post today's news digest in <#{result.channel_id}>: {reason}. "
                "I have paused its subscriptions. Invite me back with `/invite @newsbot` (or "
                "pick another channel), then type `/news resume` there."
            )

        self.store.pause_channel_for(result.team_id, result.channel_id, code, now, notice=notice)
        self.store.end_digest_run(run["id"], owner=self.owner, state="paused", now=now, error=code)
        log.warning(
            "paused the subscriptions of %s/%s: %s", result.team_id, result.channel_id, reason
        )
        result.dms = [
            n["user_id"] for n in self.send_notices(now) if n["channel_id"] == result.channel_id
        ]
        self._paused(result.team_id, result.channel_id)
        result.status, result.error = "paused", code
        return result

    def pause_unknown_zone(self, team_id: str, channel_id: str, tz: str) -> RunResult:
        """A conversation whose stored zone this machine does not know (an older version let
        one in, or the machine's zoneinfo lost it): pause it with the reason, tell the
        subscribers, and let every other channel run."""
        now = self.clock()
        reason = f"unknown time zone {tz!r}"

        def notice(user: str) -> str:
            where = "your DM digest" if user == channel_id else f"the digest of <#{channel_id}>"
            return (
                f"I have paused {where}: its time zone {tz} is not one I know. Set a zone "
                "with `/news subscribe &lt;topic&gt; tz Area/City` (in a DM, "
                "`/news follow &lt;topic&gt;` takes your Slack zone), then `/news resume`."
            )

        users = self.store.pause_channel_for(team_id, channel_id, reason, now, notice=notice)
        if users:
            log.error("paused the subscriptions of %s/%s: %s", team_id, channel_id, reason)
        if self.client is not None:
            self.send_notices(now)
        self._paused(team_id, channel_id)
        return RunResult(team_id, channel_id, "paused", error=reason)

    def _paused(self, team_id: str, channel_id: str) -> None:
        if self.on_paused is not None:
            try:
                self.on_paused(team_id, channel_id)
            except Exception:
                log.exception("on_paused hook failed")

    def send_notices(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Send the pending notices whose time has come (see :mod:`bot.digests.notices`)."""
        if self.client is None:
            return []
        return send_notices(self.store, self.client, now or self.clock(), self.retry, self.clock)

    # -- Slack look-ups ----------------------------------------------------------------------

    def _conversation(self, channel_id: str, kind: str | None) -> str:
        """Where to post and read history: a DM subscription is keyed by the user's id, and
        its messages live in the bot's DM channel with that user."""
        if kind != "dm" or not channel_id.startswith(("U", "W")):
            return channel_id
        assert self.client is not None
        opened = self.client.conversations_open(users=channel_id)
        return str(opened["channel"]["id"])

    def _find_posted(
        self,
        conversation: str,
        day: dt.date,
        run: dict[str, Any],
        token: str | None = None,
        prefer: str | None = None,
    ) -> str | None:
        """The ts of this date's digest if it is in the conversation. Asked only when a post's
        outcome is unknown, over the minutes the post attempts span (from the run's first
        post, else its due time, to now): :func:`bot.digests.posting.find_digest`."""
        assert self.client is not None
        now = self.clock()
        since = dt.datetime.fromisoformat(run["post_started_at"] or run["scheduled_for"])
        return find_digest(self.client, conversation, day, since, now, token=token, prefer=prefer)
