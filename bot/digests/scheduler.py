"""The digest schedule: one APScheduler cron job per channel, at its hour in its zone.

One ``BackgroundScheduler`` (time zone UTC) per bot process. Each conversation with an active
subscription has one job, id ``digest:<team>:<channel>``, firing daily at its ``hour:minute``
in its ``ZoneInfo`` (:class:`DailyTrigger`, daylight saving as ``bot.core.schedule`` says),
with ``misfire_grace_time`` = ``digest.grace_hours``, coalescing, one instance at a time. The
job is :meth:`DigestRunner.run_channel`, which works out which day's digest is due from the
clock, so a late fire finds what it must do.

Why not APScheduler's ``CronTrigger(hour=, minute=, timezone=ZoneInfo(...))``: in 3.11 it
skips days next to a DST change. It steps a day by adding 24 wall-clock hours in UTC, so in
America/New_York a 00:30 job that fired on 10 March 2024 (EST) next fires on 12 March: the
11th is lost; a 02:30 job started just before the gap skips 10 March too; and in autumn it
fires twice. ``tests/digests/test_schedule.py`` shows it. ``DailyTrigger`` is the same
one-line cron rule computed by ``bot.core.schedule``, so the job fires exactly at each day's
due instant.

- :meth:`DigestScheduler.build` makes the jobs from the database (at start) and, once the
  scheduler runs, a catch-up job: digests due within the grace period that were not posted
  (the bot was down at 08:00) are posted; older misses are logged as skipped.
- :meth:`DigestScheduler.sync_channel` follows a subscription change: adds, moves or removes
  that channel's job. Call it after subscribe, unsubscribe and resume.

Every run that did not finish says when to come back (``RunResult.retry_at``): a transient
failure at its next backoff, a run another process holds when that lease ends. The scheduler
adds a one-off job ``digest-retry:<team>:<channel>`` then, on the cron path and the catch-up
path alike; the runner gives no ``retry_at`` past the grace period, and settles the run
instead. A ``notices`` job sends, every minute, the notices Slack did not take the first time.
A channel whose stored zone is unknown gets no job: it is paused (the runner says why).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.core import schedule
from bot.core.digest import Digest, DigestSettings
from bot.digests.runner import DigestRunner, RunResult, digest_client, utc_now
from storage.store import Store

log = logging.getLogger("newsbot.digests")

Clock = Callable[[], dt.datetime]
CATCH_UP_JOB = "digest-catch-up"
NOTICES_JOB = "digest-notices"
LEASE_SLACK = dt.timedelta(seconds=5)
NOTICES_EVERY = dt.timedelta(minutes=1)


def job_id(team_id: str, channel_id: str) -> str:
    return f"digest:{team_id}:{channel_id}"


def retry_job_id(team_id: str, channel_id: str) -> str:
    return f"digest-retry:{team_id}:{channel_id}"


class DailyTrigger(BaseTrigger):
    """Fires once per local date at ``hour:minute`` in ``tz``: at ``schedule.due_at``."""

    __slots__ = ("hour", "minute", "tz", "timezone")

    def __init__(self, hour: int, minute: int, tz: str) -> None:
        self.hour, self.minute, self.tz = hour, minute, tz
        self.timezone = schedule.zone(tz)

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime:
        # The first due instant after the previous fire (or, for a new job, at or after now).
        start = previous_fire_time + dt.timedelta(microseconds=1) if previous_fire_time else now
        _, due = schedule.last_due(start, self.hour, self.minute, self.tz)
        if due < start:
            _, due = schedule.next_due(start, self.hour, self.minute, self.tz)
        return due.astimezone(self.timezone)

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "hour": self.hour, "minute": self.minute, "tz": self.tz}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["hour"], state["minute"], state["tz"])  # type: ignore[misc]

    def __str__(self) -> str:
        return f"daily at {self.hour:02d}:{self.minute:02d} {self.tz}"

    def __repr__(self) -> str:
        return f"<DailyTrigger ({self})>"


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, quiet when a one-off job ends as it stops.

    A one-off job (the catch-up, a retry) is removed by the scheduler's thread once it has
    run. When the process stops at that moment (``quit`` just after the shell starts: 2 runs
    in 8), ``shutdown`` has already marked the scheduler stopped, a stopped scheduler looks
    for the job among those not yet started, and the thread dies on ``JobLookupError``
    with a traceback on the person's terminal. The job is gone either way; after a stop that
    lookup failing is not an error. (APScheduler 3.11; its 4.x rewrite has no such path.)
    """

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        try:
            super().remove_job(job_id, jobstore)
        except JobLookupError:
            if self.state != STATE_STOPPED:
                raise


def trigger_for(hour: int, minute: int, tz: str) -> DailyTrigger:
    return DailyTrigger(hour, minute, tz)


class DigestScheduler:
    def __init__(
        self,
        runner: DigestRunner,
        *,
        clock: Clock | None = None,
        scheduler: BaseScheduler | None = None,
    ) -> None:
        self.runner = runner
        self.store = runner.store
        self.settings = runner.settings
        self.clock = clock or runner.clock
        grace = max(1, int(self.settings.grace_hours * 3600))
        self.scheduler = scheduler or Scheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        self._lock = threading.RLock()
        runner.on_paused = self.sync_channel

    # -- jobs --------------------------------------------------------------------------------

    def sync_channel(self, team_id: str, channel_id: str) -> str | None:
        """Make the channel's job match the database; returns its id, or None when the
        channel has no active subscription (its job, if any, is removed)."""
        with self._lock:
            topics = self.store.active_subscriptions(team_id, channel_id)
            jid = job_id(team_id, channel_id)
            if not topics:
                self._remove(jid)
                self._remove(retry_job_id(team_id, channel_id))
                return None
            sub = topics[0]
            try:
                trigger = trigger_for(sub["hour"], sub["minute"], sub["tz"])
            except ValueError:  # a zone this machine does not know: pause, never crash
                self.runner.pause_unknown_zone(team_id, channel_id, sub["tz"])
                self._remove(jid)
                return None
            self.scheduler.add_job(
                self.run_job,
                trigger=trigger,
                args=(team_id, channel_id),
                id=jid,
                name=f"digest {channel_id} {sub['hour']:02d}:{sub['minute']:02d} {sub['tz']}",
                replace_existing=True,
            )
            return jid

    def _remove(self, jid: str) -> None:
        try:
            self.scheduler.remove_job(jid)
        except JobLookupError:
            pass

    def build(self, *, catch_up: bool = True) -> int:
        """(Re)make every channel's job from the database, drop jobs of channels that have
        none left, and (``catch_up``) queue the catch-up to run as soon as the scheduler
        starts. Returns the number of channel jobs."""
        with self._lock:
            wanted = set()
            for ch in self.store.active_channels():
                if not self.runner.ours(ch["team_id"]):
                    continue  # the shell's conversations in the bot, Slack's in the shell
                jid = self.sync_channel(ch["team_id"], ch["channel_id"])
                if jid:
                    wanted.add(jid)
            for job in self.scheduler.get_jobs():
                if job.id.startswith("digest:") and job.id not in wanted:
                    self._remove(job.id)
            if catch_up:
                self.scheduler.add_job(
                    self.catch_up, id=CATCH_UP_JOB, replace_existing=True, misfire_grace_time=None
                )
            self.scheduler.add_job(
                self.runner.send_notices,
                "interval",
                seconds=NOTICES_EVERY.total_seconds(),
                id=NOTICES_JOB,
                replace_existing=True,
            )
            return len(wanted)

    def jobs(self) -> list[Any]:
        return [j for j in self.scheduler.get_jobs() if j.id.startswith("digest:")]

    # -- running -----------------------------------------------------------------------------

    def run_job(self, team_id: str, channel_id: str) -> RunResult:
        """What each channel's cron job runs (tests call it directly with a moved clock)."""
        return self._followed(self.runner.run_channel(team_id, channel_id, now=self.clock()))

    def _followed(self, result: RunResult) -> RunResult:
        """Log a run's result and, when it says to come back (a transient failure, a lease
        held elsewhere), add the one-off retry job for then."""
        if result.retry_at is not None and result.status in ("busy", "retry"):
            # a lease held elsewhere: a few seconds after it ends, for clocks that differ
            when = result.retry_at + (LEASE_SLACK if result.status == "busy" else dt.timedelta())
            self.scheduler.add_job(
                self.run_job,
                trigger=DateTrigger(run_date=when, timezone=dt.UTC),
                args=(result.team_id, result.channel_id),
                id=retry_job_id(result.team_id, result.channel_id),
                replace_existing=True,
                misfire_grace_time=None,
            )
        log.info("digest job: %s", result.line())
        return result

    def catch_up(self, now: dt.datetime | None = None) -> list[RunResult]:
        """At start: settle runs left open past their grace (adopt or skip), post the digests
        due within the grace period that were not (the bot was down at their time), log the
        ones missed for longer, send the notices still pending. Retries as the cron path."""
        now = now or self.clock()
        results = [self._followed(r) for r in self.runner.settle_stale(now)]
        results += [self._followed(r) for r in self.runner.missed_channels(now)]
        for team_id, channel_id in self.runner.due_channels(now):
            results.append(self._followed(self.runner.run_channel(team_id, channel_id, now=now)))
        self.runner.send_notices(now)
        return results

    def start(self, *, paused: bool = False) -> None:
        self.scheduler.start(paused=paused)

    def shutdown(self, wait: bool = False) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)


def start_digests(
    store: Store,
    config: Any,
    *,
    clock: Clock | None = None,
    local_sink: Callable[[Digest], None] | None = None,
    start: bool = True,
    slack: bool = True,
) -> DigestScheduler:
    """The bot's digest scheduler, built from the database and started (with the catch-up).

    Posts through Slack with ``config.slack_bot_token`` / ``config.slack_api_url``; without a
    token (the local shell), digests go to ``local_sink`` instead (e.g. printed).
    """
    client = (
        digest_client(config.slack_bot_token, config.slack_api_url)
        if config.slack_bot_token and slack
        else None
    )
    runner = DigestRunner(
        store,
        client,
        DigestSettings.from_config(config),
        clock=clock or utc_now,
        local_sink=local_sink,
    )
    digests = DigestScheduler(runner)
    count = digests.build()
    if start:
        digests.start()
    log.info("digest scheduler: %d channel job(s)", count)
    return digests
