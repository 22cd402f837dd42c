"""The digest job: post one channel's morning digest, exactly once.

``DigestRunner.run_channel(team, channel)`` is what the scheduler fires at the channel's hour,
what the catch-up at start runs, and what ``newsbot digest`` runs. Step by step:

1. The channel's most recent due time (``bot.core.schedule.last_due``) as of the clock. More
   than ``digest.grace_hours`` late: log the skip, note it, post nothing.
2. Claim the run for that local date (``Store.claim_digest_run``: ``BEGIN IMMEDIATE``, a
   lease). Finished, or held by a live process: nothing to do. A run whose process died is
   taken over: at once when that process ran on this machine and is gone, else when its lease
   ends.
3. If an earlier attempt may have reached Slack (``post_attempts > 0``), look for it first in
   ``conversations.history``: a message whose metadata is ``event_type: news_digest`` with this
   date. Found: record it (the deliveries of the plan stored before that post) and stop.
4. Compose (``bot.core.digest``), render (``bot.render.digest_blocks``). Nothing new: no post
   (unless ``digest.post_when_empty``).
5. Record the plan and that a post is under way (``begin_digest_post``, which also checks the
   lease is still ours), then ``chat.postMessage`` with the metadata and no unfurls; on
   success record the message ts and the deliveries in one transaction.

Slack's answers. 429: slack_sdk's handler waits for ``Retry-After`` and tries again. 5xx,
a dropped connection, a timeout: up to ``max_attempts`` tries with exponential backoff through
the injectable ``sleep``, each after checking the history (the failed post may have been
stored), then the run is given up (``failed``) and logged. ``not_in_channel``,
``channel_not_found``, ``is_archived``, ``account_inactive``: the channel's subscriptions are
paused with the reason, the subscribers get one DM each, the run ends ``paused``, and the
channel is no longer scheduled. Anything else Slack refuses ends the run ``failed``. Nothing
raised by Slack, the network or the store leaves ``run_channel``: the scheduler never dies.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.core import schedule
from bot.core.digest import Composer, Digest, DigestSettings
from bot.render.digest_blocks import digest_message
from bot.slack.client import make_client
from storage.store import Store

log = logging.getLogger("newsbot.digests")

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]

EVENT_TYPE = "news_digest"
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived",
                          "account_inactive"})
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "ratelimited"})
LEASE = dt.timedelta(minutes=10)
HISTORY_PAGES = 10
REASONS = {
    "not_in_channel": "newsbot is not a member of the channel",
    "channel_not_found": "the channel no longer exists (or newsbot cannot see it)",
    "is_archived": "the channel is archived",
    "account_inactive": "newsbot's Slack account is inactive",
}


def _utc_now() -> dt.datetime:
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
    """The client for digest posts: waits out 429s (slack_sdk's handler, honouring
    Retry-After) and nothing else. A 5xx or a dropped connection may come *after* Slack stored
    the message, so the runner retries those itself, checking the channel's history first."""
    client = make_client(token, base_url, retry_connection_errors=False, timeout=timeout)
    client.retry_handlers = [h for h in client.retry_handlers
                             if isinstance(h, RateLimitErrorRetryHandler)]
    return client


@dataclass
class RunResult:
    team_id: str
    channel_id: str
    status: str  # posted, adopted, empty, paused, failed, skipped, busy, finished, not_due,
    #              no_subscriptions, dry_run, error
    local_date: dt.date | None = None
    due: dt.datetime | None = None
    message_ts: str | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None  # busy: when the other holder's lease ends
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
        if self.retry_at:
            out += f" (held by another run until {self.retry_at.isoformat()})"
        return out


class _Transient(Exception):
    pass


class DigestRunner:
    """Runs the digest job for a channel and a moment. Thread-safe (the store serialises)."""

    def __init__(
        self,
        store: Store,
        client: WebClient | None,
        settings: DigestSettings | None = None,
        *,
        clock: Clock = _utc_now,
        sleep: Sleep = time.sleep,
        owner: str = PROCESS_OWNER,
        lease: dt.timedelta = LEASE,
        max_attempts: int = 4,
        backoff_seconds: float = 2.0,
        local_sink: Callable[[Digest], None] | None = None,
        on_paused: Callable[[str, str], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings or DigestSettings()
        self.clock = clock
        self.sleep = sleep
        self.owner = owner
        self.lease = lease
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self.local_sink = local_sink  # no Slack client: "deliver" here (the local shell)
        self.on_paused = on_paused
        self.composer = Composer(store, self.settings)

    # -- which channels --------------------------------------------------------------------

    def due_channels(self, now: dt.datetime | None = None) -> list[tuple[str, str]]:
        """Channels whose most recent digest is due as of ``now``, within the grace period,
        and not finished: what a catch-up (or ``newsbot digest`` without --channel) runs."""
        now = now or self.clock()
        out = []
        for ch in self.store.active_channels():
            day, due = schedule.last_due(now, ch["hour"], ch["minute"], ch["tz"])
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
        for ch in self.store.active_channels():
            day, due = schedule.last_due(now, ch["hour"], ch["minute"], ch["tz"])
            if schedule.within_grace(due, now, self.settings.grace_hours):
                continue
            if _subscribed_after(ch["first_subscribed_at"], due):
                continue  # subscribed after that digest was due
            if self.store.digest_run(ch["team_id"], ch["channel_id"], day.isoformat()) is None:
                out.append(self._skip(ch["team_id"], ch["channel_id"], day, due, now))
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
        try:
            return self._run(team_id, channel_id, now or self.clock(), dry_run)
        except Exception as exc:  # the scheduler must outlive any failure
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
        day, due = schedule.last_due(now, sub["hour"], sub["minute"], sub["tz"])
        result = RunResult(team_id, channel_id, "", day, due)
        if all(_subscribed_after(t["subscribed_at"], due) for t in topics):
            result.status = "not_due"  # every topic came after this digest's time
            return result
        if not schedule.within_grace(due, now, self.settings.grace_hours):
            run = self.store.digest_run(team_id, channel_id, day.isoformat())
            if run is not None and run["state"] in ("done", "empty", "paused"):
                result.status = "finished"
                return result
            if dry_run:  # say so, record nothing
                late = schedule.lateness(due, now).total_seconds() / 3600
                result.status, result.error = "skipped", f"{late:.1f} h late, beyond the grace"
                return result
            return self._skip(team_id, channel_id, day, due, now)
        if dry_run:
            result.digest = self.composer.compose(team_id, channel_id, due, topics=topics,
                                                  local_date=day)
            run = self.store.digest_run(team_id, channel_id, day.isoformat())
            result.status = "dry_run"
            if run is not None:
                result.error = f"this date's run is {run['state']}"
            return result

        claim = self.store.claim_digest_run(
            team_id, channel_id, day.isoformat(), due, owner=self.owner, now=now,
            lease=self.lease, owner_gone=owner_gone,
        )
        run = claim["run"]
        if claim["status"] == "finished":
            result.status = "finished"
            result.message_ts = run["message_ts"]
            return result
        if claim["status"] == "busy":
            result.status = "busy"
            until = run["claimed_until"]
            result.retry_at = dt.datetime.fromisoformat(until) if until else None
            return result
        if claim["status"] == "taken_over":
            log.warning("taking over the %s digest of %s/%s: its last run died or its lease "
                        "ended (claims so far: %s)", day.isoformat(), team_id, channel_id,
                        run["attempts"])
        return self._deliver(run, topics, result, now)

    # -- delivering --------------------------------------------------------------------------

    def _deliver(self, run: dict[str, Any], topics: list[dict[str, Any]], result: RunResult,
                 now: dt.datetime) -> RunResult:
        team_id, channel_id, day, due = result.team_id, result.channel_id, result.local_date, \
            result.due
        assert day is not None and due is not None
        if self.client is None:
            return self._deliver_locally(run, topics, result, now)
        posted_maybe = run["post_attempts"] > 0
        message = None
        conversation: str | None = None
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            try:
                if conversation is None:
                    conversation = self._conversation(channel_id, topics[0].get("kind"))
                if posted_maybe:
                    found = self._find_posted(conversation, day, due, now)
                    if found is not None:
                        self.store.finish_digest_run(run["id"], message_ts=found, now=self.clock())
                        log.info("the %s digest of %s/%s was already in Slack (ts %s): recorded",
                                 day, team_id, channel_id, found)
                        result.status, result.message_ts = "adopted", found
                        return result
                if message is None:
                    digest = self.composer.compose(team_id, channel_id, due, topics=topics,
                                                   local_date=day)
                    result.digest = digest
                    if not digest.posts and (digest.quiet_day or not self.settings.post_when_empty):
                        self.store.end_digest_run(run["id"], owner=self.owner, state="empty",
                                                  now=self.clock())
                        result.status = "empty"
                        return result
                    message = digest_message(digest)
                if not self.store.begin_digest_post(run["id"], owner=self.owner,
                                                    now=self.clock(), lease=self.lease,
                                                    plan=message.shown.plan()):
                    result.status = "busy"
                    result.error = "the run's lease passed to another process"
                    log.warning("lost the lease on the %s digest of %s/%s", day, team_id,
                                channel_id)
                    return result
                posted_maybe = True
                response = self.client.chat_postMessage(
                    channel=conversation,
                    text=message.text,
                    blocks=message.blocks,
                    metadata={"event_type": EVENT_TYPE,
                              "event_payload": {"date": day.isoformat(), "run_id": run["id"]}},
                    unfurl_links=False,
                    unfurl_media=False,
                )
                ts = response.get("ts")
                self.store.finish_digest_run(run["id"], message_ts=ts, now=self.clock(),
                                             entries=message.shown.plan())
                log.info("posted the %s digest of %s/%s (%d stories, ts %s)", day, team_id,
                         channel_id, len(message.shown.entries), ts)
                result.status, result.message_ts = "posted", ts
                return result
            except SlackApiError as exc:
                code = str(exc.response.get("error") or "")
                status = exc.response.status_code
                if code in CHANNEL_GONE:
                    return self._channel_gone(run, result, code)
                if status == 429 or status >= 500 or code in TRANSIENT_ERRORS:
                    last_error = f"HTTP {status} {code}".strip()
                else:
                    return self._fail(run, result, f"Slack refused: {code or status}")
            except (OSError, http.client.HTTPException, SlackClientError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            log.warning("digest of %s/%s, attempt %d of %d: %s", team_id, channel_id, attempt,
                        self.max_attempts, last_error)
            if not self.store.renew_digest_run(run["id"], owner=self.owner, now=self.clock(),
                                               lease=self.lease):
                result.status = "busy"
                result.error = "the run's lease passed to another process"
                return result
        return self._fail(run, result, f"gave up after {self.max_attempts} attempts: "
                                       f"{last_error}")

    def _deliver_locally(self, run: dict[str, Any], topics: list[dict[str, Any]],
                         result: RunResult, now: dt.datetime) -> RunResult:
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

    def _channel_gone(self, run: dict[str, Any], result: RunResult, code: str) -> RunResult:
        reason = REASONS.get(code, code)
        now = self.clock()
        users = self.store.pause_channel_for(result.team_id, result.channel_id, code, now)
        self.store.end_digest_run(run["id"], owner=self.owner, state="paused", now=now,
                                  error=code)
        log.warning("paused the subscriptions of %s/%s: %s", result.team_id, result.channel_id,
                    reason)
        where = "your DM with me" if result.channel_id in users else f"<#{result.channel_id}>"
        text = (f"I could not post today's news digest in {where}: {reason}. I have paused "
                "its subscriptions. Invite me back (or pick another channel), then use "
                "`/news resume &lt;topic&gt;` there.")
        for user in users:
            try:
                assert self.client is not None
                self.client.chat_postMessage(channel=user, text=text, unfurl_links=False,
                                             unfurl_media=False)
                result.dms.append(user)
            except (SlackClientError, OSError, http.client.HTTPException) as exc:
                log.warning("could not tell %s that %s was paused: %s", user,
                            result.channel_id, exc)
        if self.on_paused is not None:
            try:
                self.on_paused(result.team_id, result.channel_id)
            except Exception:
                log.exception("on_paused hook failed")
        result.status, result.error = "paused", code
        return result

    # -- Slack look-ups ----------------------------------------------------------------------

    def _conversation(self, channel_id: str, kind: str | None) -> str:
        """Where to post and read history: a DM subscription is keyed by the user's id, and
        its messages live in the bot's DM channel with that user."""
        if kind != "dm" or not channel_id.startswith(("U", "W")):
            return channel_id
        assert self.client is not None
        opened = self.client.conversations_open(users=channel_id)
        return str(opened["channel"]["id"])

    def _find_posted(self, conversation: str, day: dt.date, due: dt.datetime,
                     now: dt.datetime) -> str | None:
        """The ts of this date's digest if it is already in the conversation."""
        assert self.client is not None
        oldest = (min(due, now) - dt.timedelta(days=1)).timestamp()
        cursor = None
        for _ in range(HISTORY_PAGES):
            kwargs: dict[str, Any] = {"channel": conversation, "oldest": f"{oldest:.6f}",
                                      "include_all_metadata": True, "limit": 100}
            if cursor:
                kwargs["cursor"] = cursor
            response = self.client.conversations_history(**kwargs)
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if isinstance(payload, str):
                    try:
                        payload = json.loads(payload)
                    except ValueError:
                        payload = {}
                if meta.get("event_type") == EVENT_TYPE and payload.get("date") == day.isoformat():
                    return str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        return None
