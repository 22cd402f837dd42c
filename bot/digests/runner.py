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
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import logging
import os
import socket
import sqlite3
import time
import urllib.error
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core import schedule
from bot.core.digest import Composer, Digest, DigestSettings
from bot.digests.notices import retry_after, send_notices
from bot.render.digest_blocks import digest_message
from bot.slack.client import make_client
from storage.store import Store

log = logging.getLogger("newsbot.digests")

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]

EVENT_TYPE = "news_digest"
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived",
                          "account_inactive"})
# ok:false answers after which Slack may still have stored the message (it failed inside)
UNSURE_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable",
                           "request_timeout"})
HISTORY_LIMIT = 50  # messages per history page: the window is the post attempts' minutes
HISTORY_PAGES = 4
CLOCK_SKEW = dt.timedelta(minutes=2)  # between our clock and Slack's message ts
REASONS = {
    "not_in_channel": "newsbot is not a member of the channel",
    "channel_not_found": "the channel no longer exists (or newsbot cannot see it)",
    "is_archived": "the channel is archived",
    "account_inactive": "newsbot's Slack account is inactive",
}


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff after a transient failure: ``base * 2**(n-1)`` seconds after the n-th, at most
    ``cap``; a run retries in-process for ``inline_seconds``, then hands the retry on."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    inline_seconds: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.cap_seconds, self.base_seconds * 2 ** max(0, failures - 1))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _host_identity() -> str:
    """This machine and PID namespace: processes with the same one can check on each other."""
    try:
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        ns = ""
    return f"{socket.gethostname()}|{ns}"


PROCESS_OWNER = f"{_host_identity()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"


def owner_gone(owner: str) -> bool:
    """Whether the process named by a lease's ``owner`` is known to be dead: it ran on this
    machine, in this PID namespace, and its PID is gone or is now this process (a restart that
    got the same PID, as in a container). Unknown owners are presumed alive until their lease
    ends."""
    host, _, rest = owner.rpartition("|")  # rest: the token
    host, _, pid_text = host.rpartition("|")
    if host != _host_identity() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != PROCESS_OWNER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


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


class _Transient(Exception):
    """One attempt failed in a way that may pass: try again later."""

    def __init__(self, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


class _LostLease(Exception):
    """Another process holds the run now: stop, post nothing."""


def _iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _never_sent(exc: BaseException) -> bool:
    """Whether a network error happened before the request left (nothing can be in Slack)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _zone_ok(tz: str) -> bool:
    try:
        schedule.zone(tz)
    except ValueError:
        return False
    return True


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
        self.retry = retry or RetryPolicy(self.settings.retry_base_seconds,
                                          self.settings.retry_cap_seconds,
                                          self.settings.retry_inline_seconds)
        self.local_sink = local_sink  # no Slack client: "deliver" here (the local shell)
        self.on_paused = on_paused
        self.composer = Composer(store, self.settings)

    # -- which channels --------------------------------------------------------------------

    def _scheduled(self, now: dt.datetime) -> list[tuple[dict[str, Any], dt.date, dt.datetime]]:
        """Each active conversation with its most recent due date and instant; a conversation
        whose zone is unknown is paused instead (see :meth:`pause_unknown_zone`)."""
        out = []
        for ch in self.store.active_channels():
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
            due = dt.datetime.fromisoformat(run["scheduled_for"])
            if due + dt.timedelta(hours=self.settings.grace_hours) < now:
                out.append(self.run_guarded(run["team_id"], run["channel_id"],
                                            functools.partial(self.settle, run, now)))
        return out

    def run_due(self, now: dt.datetime | None = None, *, dry_run: bool = False
                ) -> list[RunResult]:
        now = now or self.clock()
        return [self.run_channel(t, c, now=now, dry_run=dry_run)
                for t, c in self.due_channels(now)]

    # -- the job -----------------------------------------------------------------------------

    def run_channel(self, team_id: str, channel_id: str, *, now: dt.datetime | None = None,
                    dry_run: bool = False) -> RunResult:
        """The job for one channel as of ``now`` (default: the clock). Never raises."""
        return self.run_guarded(team_id, channel_id,
                                lambda: self._run(team_id, channel_id, now or self.clock(),
                                                  dry_run))

    def run_guarded(self, team_id: str, channel_id: str, job: Callable[[], RunResult]
                    ) -> RunResult:
        """``job()``, turning whatever it raises into a result: a busy database is transient
        (tried again shortly), anything else an ``error``. The scheduler must outlive all."""
        try:
            return job()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                log.exception("digest for %s/%s failed unexpectedly", team_id, channel_id)
                return RunResult(team_id, channel_id, "error", error=f"database: {exc}")
            retry_at = self.clock() + dt.timedelta(seconds=self.retry.delay(1))
            log.warning("digest for %s/%s: the database is busy (%s); trying again at %s",
                        team_id, channel_id, exc, retry_at.isoformat(timespec="seconds"))
            return RunResult(team_id, channel_id, "retry", error=f"database busy: {exc}",
                             retry_at=retry_at)
        except Exception as exc:
            log.exception("digest for %s/%s failed unexpectedly", team_id, channel_id)
            return RunResult(team_id, channel_id, "error", error=f"{type(exc).__name__}: {exc}")

    def _skip(self, team_id: str, channel_id: str, day: dt.date, due: dt.datetime,
              now: dt.datetime) -> RunResult:
        late = schedule.lateness(due, now).total_seconds() / 3600
        reason = (f"missed: due {due.isoformat()}, {late:.1f} h ago, beyond the grace period "
                  f"of {self.settings.grace_hours:g} h")
        log.warning("skipping the %s digest of %s/%s (%s); next one at its usual time",
                    day.isoformat(), team_id, channel_id, reason)
        self.store.mark_digest_skipped(team_id, channel_id, day.isoformat(), due, now=now,
                                       reason=reason)
        return RunResult(team_id, channel_id, "skipped", day, due, error=reason)

    def _run(self, team_id: str, channel_id: str, now: dt.datetime, dry_run: bool) -> RunResult:
        topics = self.store.active_subscriptions(team_id, channel_id)
        if not topics:
            return RunResult(team_id, channel_id, "no_subscriptions")
        sub = topics[0]
        if not _zone_ok(sub["tz"]):
            if dry_run:
                return RunResult(team_id, channel_id, "paused",
                                 error=f"unknown time zone {sub['tz']!r}")
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
                    if not schedule.within_grace(due, settled.retry_at or now,
                                                 self.settings.grace_hours):
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
            result.digest = self.composer.compose(team_id, channel_id, due, topics=topics,
                                                  local_date=day)
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

    def _claim(self, team_id: str, channel_id: str, day: dt.date, due: dt.datetime
               ) -> dict[str, Any]:
        # Leases run on the clock, not on the moment the job is "as of": a job run as of
        # 08:00 that reaches this channel at 08:12 must not take a lease already over.
        claim = self.store.claim_digest_run(
            team_id, channel_id, day.isoformat(), due, owner=self.owner, now=self.clock(),
            lease=self.lease, owner_gone=owner_gone,
        )
        if claim["status"] == "taken_over":
            run = claim["run"]
            log.warning("taking over the %s digest of %s/%s: its last run died or its lease "
                        "ended (claims so far: %s)", day.isoformat(), team_id, channel_id,
                        run["attempts"])
        return claim

    def _busy(self, result: RunResult, run: dict[str, Any]) -> RunResult:
        """Another live process holds the run: come back when its lease ends (if the grace
        allows; a run left past it is settled by the catch-up or the next day's job)."""
        result.status = "busy"
        until = run["claimed_until"]
        retry_at = dt.datetime.fromisoformat(until) if until else None
        if retry_at is not None and result.due is not None and not schedule.within_grace(
                result.due, retry_at, self.settings.grace_hours):
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
                    result.channel_id, self._kind(result.team_id, result.channel_id))
                found = self._find_posted(conversation, result.local_date, run)
            except (SlackClientError, OSError, http.client.HTTPException, ValueError) as exc:
                # Cannot tell now: keep the run open, to be settled on a later try.
                retry_at = self.clock() + dt.timedelta(seconds=self.retry.delay(2))
                self.store.release_digest_run(run["id"], owner=self.owner, now=self.clock(),
                                              retry_at=retry_at, error=f"settling: {exc}")
                result.status, result.retry_at = "retry", retry_at
                result.error = f"cannot look for its post yet: {exc}"
                return result
            if found is not None:
                return self._adopt(run, result, found)
            wait = self._unsettled_for(run)
            if wait > 0:  # it may still land: look again once it cannot
                retry_at = self.clock() + dt.timedelta(seconds=wait)
                self.store.release_digest_run(run["id"], owner=self.owner, now=self.clock(),
                                              retry_at=retry_at, error=error)
                result.status, result.retry_at = "retry", retry_at
                result.error = "its last post may still be on its way to Slack"
                return result
        reason = (f"gave up: {error}; the grace period of {self.settings.grace_hours:g} h "
                  f"after {result.due.isoformat()} is over")
        log.warning("skipping the %s digest of %s/%s (%s); next one at its usual time",
                    result.local_date.isoformat(), result.team_id, result.channel_id, reason)
        self.store.end_digest_run(run["id"], owner=self.owner, state="skipped",
                                  now=self.clock(), error=reason[:500])
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
            seconds=self.settings.post_settle_seconds)
        return max(0.0, (settled - self.clock()).total_seconds())

    def _adopt(self, run: dict[str, Any], result: RunResult, ts: str) -> RunResult:
        self.store.finish_digest_run(run["id"], message_ts=ts, now=self.clock())
        log.info("the %s digest of %s/%s was already in Slack (ts %s): recorded",
                 result.local_date, result.team_id, result.channel_id, ts)
        result.status, result.message_ts = "adopted", ts
        return result

    def _kind(self, team_id: str, channel_id: str) -> str | None:
        subs = self.store.subscriptions(team_id, channel_id)
        return subs[0]["kind"] if subs else None

    # -- delivering --------------------------------------------------------------------------

    def _deliver(self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult
                 ) -> RunResult:
        """Attempts with backoff until posted, refused, handed back, or the grace ends."""
        if self.client is None:
            return self._deliver_locally(run, topics, result)
        assert result.due is not None
        started = self.clock()
        grace_end = result.due + dt.timedelta(hours=self.settings.grace_hours)
        state = _Attempts(unknown=bool(run["post_unknown"]), conversation=run["conversation"])
        failures = 0
        while True:
            try:
                return self._attempt(run, topics, result, state)
            except _LostLease:
                return self._lost(run, result, state)
            except _Transient as exc:
                error, wait = exc.error, exc.retry_after
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                error, wait = f"database busy: {exc}", None
            failures += 1
            delay = wait if wait is not None else self.retry.delay(failures)
            now = self.clock()
            next_at = now + dt.timedelta(seconds=delay)
            if next_at > grace_end:
                return self._give_up(self._fresh(run), result, error)
            if (next_at - started).total_seconds() > self.retry.inline_seconds:
                if not self.store.release_digest_run(run["id"], owner=self.owner, now=now,
                                                     retry_at=next_at, error=error):
                    return self._lost(run, result, state)
                log.warning("the %s digest of %s/%s is not posted yet (%s); trying again at %s",
                            result.local_date, result.team_id, result.channel_id, error,
                            next_at.isoformat(timespec="seconds"))
                result.status, result.error, result.retry_at = "retry", error, next_at
                return result
            log.warning("digest of %s/%s, try %d: %s; trying again in %.1f s", result.team_id,
                        result.channel_id, failures, error, delay)
            if not self.store.renew_digest_run(run["id"], owner=self.owner, now=now,
                                               lease=self.lease + dt.timedelta(seconds=delay)):
                return self._lost(run, result, state)
            self.sleep(delay)

    def _fresh(self, run: dict[str, Any]) -> dict[str, Any]:
        return self.store.digest_run_by_id(run["id"]) or run

    def _attempt(self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult,
                 state: _Attempts) -> RunResult:
        """One try: look for an earlier post whose outcome is unknown, compose, fence, post.
        Raises :class:`_Transient` (try again) or :class:`_LostLease` (stop)."""
        assert self.client is not None and result.local_date is not None
        assert result.due is not None
        team_id, channel_id, day = result.team_id, result.channel_id, result.local_date
        try:
            if state.conversation is None:
                state.conversation = self._conversation(channel_id, topics[0].get("kind"))
            if state.unknown:
                fresh = self._fresh(run)
                # Our own post first (by its mark): a late post of a process that lost the
                # run may also be there, and adopting that one would leave ours as a second.
                found = self._find_posted(state.conversation, day, fresh, prefer=state.token)
                if found is not None:
                    return self._adopt(run, result, found)
                wait = 0.0 if state.answered else self._unsettled_for(fresh)
                if wait > 0:
                    raise _Transient("the last post may still be on its way to Slack", wait)
                state.unknown = False  # not in Slack: this post never arrived
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "")
            if code in CHANNEL_GONE:
                return self._channel_gone(run, result, code)
            raise _Transient(f"HTTP {exc.response.status_code} {code}".strip(),
                             retry_after(exc) if exc.response.status_code == 429 else None
                             ) from None
        except (OSError, http.client.HTTPException, SlackClientError, ValueError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        if state.message is None:
            digest = self.composer.compose(team_id, channel_id, result.due, topics=topics,
                                           local_date=day)
            result.digest = digest
            if not digest.posts and (digest.quiet_day or not self.settings.post_when_empty):
                self.store.end_digest_run(run["id"], owner=self.owner, state="empty",
                                          now=self.clock())
                result.status = "empty"
                return result
            state.message = digest_message(digest)
        message = state.message
        # The fence: only the current holder of the run may post, checked at this moment.
        if not self.store.begin_digest_post(run["id"], owner=self.owner, now=self.clock(),
                                            lease=self.lease, plan=message.shown.plan(),
                                            conversation=state.conversation):
            raise _LostLease
        state.unknown, state.answered = True, False
        state.token, state.sent_at = uuid.uuid4().hex[:16], self.clock()
        try:
            response = self.client.chat_postMessage(
                channel=state.conversation,
                text=message.text,
                blocks=message.blocks,
                metadata={"event_type": EVENT_TYPE,
                          "event_payload": {"date": day.isoformat(), "run_id": run["id"],
                                            "post": state.token}},
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "")
            status = exc.response.status_code
            if status == 429 or code == "ratelimited":  # refused before anything was stored
                self._not_delivered(run, state)
                raise _Transient(f"HTTP 429 {code}".strip(), retry_after(exc)) from None
            if status >= 500 or code in UNSURE_ERRORS:  # may have been stored all the same
                state.answered = True  # ... but Slack is done with it: history will tell
                raise _Transient(f"HTTP {status} {code}".strip()) from None
            self._not_delivered(run, state)
            if code in CHANNEL_GONE:
                return self._channel_gone(run, result, code)
            return self._fail(run, result, f"Slack refused: {code or status}")
        except (OSError, http.client.HTTPException, SlackClientError, ValueError) as exc:
            if _never_sent(exc):
                self._not_delivered(run, state)
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        ts = response.get("ts")
        if not self.store.finish_digest_run(run["id"], message_ts=ts, now=self.clock(),
                                            entries=message.shown.plan(), owner=self.owner):
            return self._withdraw(run, result, str(ts), state.conversation)
        log.info("posted the %s digest of %s/%s (%d stories, ts %s)", day, team_id,
                 channel_id, len(message.shown.entries), ts)
        result.status, result.message_ts = "posted", ts
        return result

    def _await_holder(self, run: dict[str, Any], result: RunResult) -> dict[str, Any] | None:
        """Wait for the process that took the run over to finish it; the run, or None when
        it did not finish in time (or ended otherwise)."""
        # the new holder may wait for a lease, a post to settle, a backoff: give it that long
        deadline = self.clock() + 2 * self.lease + dt.timedelta(
            seconds=self.settings.post_settle_seconds + self.retry.cap_seconds)
        while True:
            fresh = self._fresh(run)
            if fresh["state"] == "done":
                return fresh
            if fresh["state"] not in ("running", "posting", "waiting") \
                    or self.clock() >= deadline:
                log.error("a %s digest of %s/%s went out after another process took it over, "
                          "whose run is %s: left as it is", result.local_date, result.team_id,
                          result.channel_id, fresh["state"])
                return None
            self.sleep(min(1.0, self.lease.total_seconds() / 4))

    def _lost(self, run: dict[str, Any], result: RunResult, state: _Attempts) -> RunResult:
        """Another process holds the run now. If our last post's fate is unknown (its answer
        never came), it may be in Slack beside the new holder's: find it by its own mark once
        it has settled, and withdraw it unless the new holder adopted it."""
        log.warning("lost the lease on the %s digest of %s/%s: another process has it",
                    result.local_date, result.team_id, result.channel_id)
        result.status, result.error = "busy", "the run's lease passed to another process"
        if not (state.unknown and not state.answered and state.token and state.sent_at
                and state.conversation and self.client is not None):
            return result
        fresh = self._await_holder(run, result)
        if fresh is None:
            return result
        settled = state.sent_at + dt.timedelta(seconds=self.settings.post_settle_seconds)
        wait = (settled - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)
        try:
            mine = self._find_posted(state.conversation, result.local_date or dt.date.min,
                                     {**fresh, "post_started_at": _iso_utc(state.sent_at)},
                                     token=state.token)
        except (SlackClientError, OSError, http.client.HTTPException, ValueError) as exc:
            log.error("cannot tell whether a late %s digest of %s/%s is in Slack: %s",
                      result.local_date, result.team_id, result.channel_id, exc)
            return result
        if mine is None or mine == fresh["message_ts"]:
            return result
        return self._withdraw(run, result, mine, state.conversation, fresh)

    def _withdraw(self, run: dict[str, Any], result: RunResult, ts: str, conversation: str,
                  fresh: dict[str, Any] | None = None) -> RunResult:
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
            log.warning("withdrew a second %s digest of %s/%s (ts %s): another process had "
                        "taken the run over and posted (ts %s)", result.local_date,
                        result.team_id, result.channel_id, ts, fresh["message_ts"])
            result.status, result.error = "busy", "posted after losing the lease: withdrawn"
        except (SlackClientError, OSError, http.client.HTTPException, ValueError) as exc:
            log.error("could not withdraw a second %s digest of %s/%s (ts %s): %s",
                      result.local_date, result.team_id, result.channel_id, ts, exc)
            result.status, result.error = "busy", f"posted after losing the lease: {exc}"
        result.message_ts = ts
        return result

    def _not_delivered(self, run: dict[str, Any], state: _Attempts) -> None:
        state.unknown = False
        self.store.post_not_delivered(run["id"], owner=self.owner)

    def _deliver_locally(self, run: dict[str, Any], topics: list[dict[str, Any]],
                         result: RunResult) -> RunResult:
        assert result.due is not None
        digest = self.composer.compose(result.team_id, result.channel_id, result.due,
                                       topics=topics, local_date=result.local_date)
        result.digest = digest
        if self.local_sink is None:
            self.store.end_digest_run(run["id"], owner=self.owner, state="failed",
                                      now=self.clock(), error="no Slack client")
            log.warning("no SLACK_BOT_TOKEN: the digest of %s/%s is not posted",
                        result.team_id, result.channel_id)
            result.status, result.error = "failed", "no Slack client"
            return result
        if not digest.posts and (digest.quiet_day or not self.settings.post_when_empty):
            self.store.end_digest_run(run["id"], owner=self.owner, state="empty", now=self.clock())
            result.status = "empty"
            return result
        self.local_sink(digest)
        self.store.finish_digest_run(run["id"], message_ts=None, now=self.clock(),
                                     entries=digest.plan())
        result.status = "posted"
        return result

    def _fail(self, run: dict[str, Any], result: RunResult, error: str) -> RunResult:
        log.error("giving up on the %s digest of %s/%s: %s", result.local_date,
                  result.team_id, result.channel_id, error)
        self.store.end_digest_run(run["id"], owner=self.owner, state="failed", now=self.clock(),
                                  error=error[:500])
        result.status, result.error = "failed", error
        return result

    # -- pausing and notices -----------------------------------------------------------------

    def _channel_gone(self, run: dict[str, Any], result: RunResult, code: str) -> RunResult:
        reason = REASONS.get(code, code)
        now = self.clock()

        def notice(user: str) -> str:
            where = "your DM with me" if user == result.channel_id else f"<#{result.channel_id}>"
            return (f"I could not post today's news digest in {where}: {reason}. I have paused "
                    "its subscriptions. Invite me back (or pick another channel), then use "
                    "`/news resume &lt;topic&gt;` there.")

        self.store.pause_channel_for(result.team_id, result.channel_id, code, now,
                                     notice=notice)
        self.store.end_digest_run(run["id"], owner=self.owner, state="paused", now=now,
                                  error=code)
        log.warning("paused the subscriptions of %s/%s: %s", result.team_id, result.channel_id,
                    reason)
        result.dms = [n["user_id"] for n in self.send_notices(now)
                      if n["channel_id"] == result.channel_id]
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
            return (f"I have paused {where}: its time zone {tz} is not one I know. Set a zone "
                    "with `/news subscribe &lt;topic&gt; tz Area/City` (in a DM, "
                    "`/news follow &lt;topic&gt;` takes your Slack zone), then "
                    "`/news resume &lt;topic&gt;`.")

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
        return send_notices(self.store, self.client, now or self.clock(), self.retry,
                            self.clock)

    # -- Slack look-ups ----------------------------------------------------------------------

    def _conversation(self, channel_id: str, kind: str | None) -> str:
        """Where to post and read history: a DM subscription is keyed by the user's id, and
        its messages live in the bot's DM channel with that user."""
        if kind != "dm" or not channel_id.startswith(("U", "W")):
            return channel_id
        assert self.client is not None
        opened = self.client.conversations_open(users=channel_id)
        return str(opened["channel"]["id"])

    def _find_posted(self, conversation: str, day: dt.date, run: dict[str, Any],
                     token: str | None = None, prefer: str | None = None) -> str | None:
        """The ts of this date's digest if it is in the conversation. Asked only when a post's
        outcome is unknown, over the minutes the post attempts span (``oldest``/``latest``),
        a small page at a time (slack_sdk's cursor pagination), a few pages at most."""
        assert self.client is not None
        now = self.clock()
        first = dt.datetime.fromisoformat(run["post_started_at"]) if run["post_started_at"] \
            else dt.datetime.fromisoformat(run["scheduled_for"])
        oldest = (min(first, now) - CLOCK_SKEW).timestamp()
        latest = (now + CLOCK_SKEW).timestamp()
        pages = self.client.conversations_history(
            channel=conversation, oldest=f"{oldest:.6f}", latest=f"{latest:.6f}",
            inclusive=True, include_all_metadata=True, limit=HISTORY_LIMIT)
        first_found: str | None = None
        for number, page in enumerate(pages, start=1):
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if isinstance(payload, str):
                    try:
                        payload = json.loads(payload)
                    except ValueError:
                        payload = {}
                if meta.get("event_type") != EVENT_TYPE:
                    continue
                if token:
                    if payload.get("post") == token:
                        return str(message.get("ts"))
                elif payload.get("date") == day.isoformat():
                    if not prefer or payload.get("post") == prefer:
                        return str(message.get("ts"))
                    # another process's post of this date: ours (``prefer``) comes first
                    first_found = first_found or str(message.get("ts"))
            if number >= HISTORY_PAGES:
                if page.get("has_more"):
                    log.warning("history of %s: more than %d messages since the post; looked "
                                "at the newest only", conversation, HISTORY_PAGES * HISTORY_LIMIT)
                break
        return first_found


@dataclass
class _Attempts:
    """What one run's attempts carry from one to the next."""

    unknown: bool  # the last post may be in Slack
    conversation: str | None
    answered: bool = False  # Slack answered the last post (so it is done with it)
    token: str | None = None  # the last post's own mark, in its metadata
    sent_at: dt.datetime | None = None
    message: Any = None  # the rendered digest, composed once
