"""``newsbot digest [--channel ID] [--at ISO-8601-TIME] [--dry-run]``: the digest job, by hand.

It runs the very job the scheduler runs (``DigestRunner.run_channel``), as of ``--at``
(default: now): for ``--channel``, that channel's job; otherwise every channel whose digest
is due then (within the grace period, not yet posted). ``--dry-run`` prints the digests as
text (an empty one explained: ``Composer.explain``) and changes nothing, in Slack or in the
database. Every outcome is said in words (:func:`outcome_text`), never as the runner's code.

``bot.cli`` adds it with :func:`add_digest_parser` and :func:`cmd_digest`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any

from bot.core import schedule
from bot.core.digest import DigestSettings
from bot.digests.runner import DigestRunner, RunResult, digest_client
from bot.render.text import digest_text
from bot.render.words import utc_text
from storage.store import Store

Clock = Callable[[], dt.datetime]
FAILED = frozenset({"failed", "error", "retry"})  # retry: not posted yet (see its line)


def add_digest_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "digest", help="run the daily digest job now (or as of --at), as the scheduler does"
    )
    p.add_argument("--channel", metavar="ID", help="only this channel (default: all due)")
    p.add_argument(
        "--at",
        metavar="ISO-8601-TIME",
        help="run as of this time (default: now; no zone means UTC)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the digests as text; post and record nothing"
    )
    return p


def parse_moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--at {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_digest(
    args: argparse.Namespace,
    store: Store,
    clock: Clock,
    config: Any,
    *,
    out: Any = None,
    err: Any = None,
) -> int:
    """Exit status: 0 done (including nothing due, or held by another process), 1 a run
    failed or is not posted yet (a transient failure: the running bot's scheduler, or the
    next ``newsbot digest``, tries again within the grace period), 2 a usage error."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        # the job is as of --at (or the clock's moment); from there it runs in real time,
        # even on a fixed clock (--now), so leases, backoffs and waits pass
        run_clock = _running_from(parse_moment(args.at) if args.at else clock())
    except ValueError as exc:
        print(f"newsbot digest: {exc}", file=err)
        return 2
    now = run_clock()
    token = getattr(config, "slack_bot_token", None)
    if not token and not args.dry_run:
        print(
            "newsbot digest: SLACK_BOT_TOKEN is not set (use --dry-run to see the digests)",
            file=err,
        )
        return 2
    client = digest_client(token, getattr(config, "slack_api_url", None)) if token else None
    runner = DigestRunner(store, client, DigestSettings.from_config(config), clock=run_clock)
    if args.channel:
        targets = [
            (c["team_id"], c["channel_id"])
            for c in store.active_channels()
            if c["channel_id"] == args.channel
        ]
        if not targets:
            print(f"newsbot digest: channel {args.channel} has no active subscription", file=err)
            return 2
        results = [runner.run_channel(t, c, now=now, dry_run=args.dry_run) for t, c in targets]
    else:
        results = []
        if not args.dry_run:
            results += runner.settle_stale(now)  # runs left open past their grace
            runner.missed_channels(now)  # log and note what is past saving
        results += runner.run_due(now, dry_run=args.dry_run)
        if not results:
            print(_none_due(now, runner.settings), file=out)
    if not args.dry_run:
        runner.send_notices()
    for result in results:
        _report(result, args.dry_run, out, store, runner)
    return 1 if any(r.status in FAILED for r in results) else 0


def _none_due(now: dt.datetime, settings: DigestSettings) -> str:
    grace = f"{settings.grace_hours:g} hours"
    return (
        f"No digest is due at {utc_text(now)}: none has its time in the {grace} before "
        "(digest.grace_hours) without having been run."
    )


def _running_from(start: dt.datetime) -> Clock:
    """A clock that reads ``start`` now and runs on from it: the job is as of ``start``, and
    its leases and retries still pass in real time."""
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


def _report(result: RunResult, dry_run: bool, out: Any, store: Store, runner: DigestRunner) -> None:
    if dry_run and result.digest is not None:
        digest = runner.composer.explain(result.digest)
        print(digest_text(digest), file=out)
        if result.error:  # "this date's run is done"
            print(f"(Not run again: {_run_state(result.error)}.)", file=out)
        print(file=out)
    else:
        print(outcome_text(result, store, runner.settings), file=out)


_RUN_STATES = {  # a digest_runs state, as a person says it
    "done": "that date's digest was posted",
    "empty": "that date's digest had nothing new, so nothing was posted",
    "paused": "that date's digest found the channel paused",
    "skipped": "that date's digest was skipped",
    "failed": "that date's digest failed",
    "running": "that date's digest is being made right now",
    "posting": "that date's digest is being posted right now",
    "waiting": "that date's digest waits to try again",
}


def _run_state(error: str) -> str:
    state = error.rpartition(" ")[2]
    return _RUN_STATES.get(state, error)


def when_text(result: RunResult) -> str:
    """'Wed 5 Feb 2020 (08:00 UTC)': the digest's date and time, or '' if it has none."""
    if result.local_date is None:
        return ""
    day = f"{result.local_date:%a} {result.local_date.day} {result.local_date:%b %Y}"
    return f"{day} ({utc_text(result.due)[-9:]})" if result.due else day


def outcome_text(result: RunResult, store: Store, settings: DigestSettings) -> str:
    """One line per channel, in words: what the job did with its digest, and why."""
    when = when_text(result)
    head = f"{result.channel_id}" + (f", digest of {when}" if when else "")
    return f"{head}: {_outcome(result, store, settings)}"


def _outcome(result: RunResult, store: Store, settings: DigestSettings) -> str:
    status, error = result.status, result.error
    ts = f" (message ts {result.message_ts})" if result.message_ts else ""
    until = _to_the_second(result.retry_at) if result.retry_at else None
    retry = f" at {until}" if until else " later"
    digest = result.digest
    if status == "posted":
        return f"posted{ts}."
    if status == "adopted":
        return f"already in Slack{ts}: a post whose answer was lost, now counted as sent."
    if status == "empty" and digest is not None and digest.quiet_day:
        return "skipped: weekends are skipped here, nothing was posted."
    if status == "empty":
        hours = f"{settings.max_age_hours:g} hours"
        return (
            f"nothing new on its topics in the {hours} before it, so nothing was posted "
            "(digest.post_when_empty is off)."
        )
    if status == "finished":
        return f"already done for that date, not run again{ts}."
    if status == "not_due":
        return _not_due(result, store)
    if status == "no_subscriptions":
        return "nothing is subscribed there any more."
    if status == "paused":
        return f"paused, nothing posted: {_slack_error(error)}. `/news resume` there resumes it."
    if status == "skipped":
        return f"skipped: {error or 'past its grace period'}."
    if status == "busy":
        held = f"; it holds it until {until}" if until else ""
        return f"another newsbot process is making this digest{held}."
    if status == "retry":
        return f"not posted yet ({error or 'a passing failure'}): trying again{retry}."
    if status == "failed":
        return f"failed: {_slack_error(error)}."
    if status == "error":
        return f"failed unexpectedly: {error}."
    return f"{status}" + (f": {error}" if error else "") + "."


def _to_the_second(moment: dt.datetime) -> str:
    """'Thu 2 May 2024 08:00:32 UTC': a retry is seconds away."""
    return utc_text(moment).replace(" UTC", f":{moment.astimezone(dt.UTC):%S} UTC")


_SLACK_ERRORS = {
    "not_in_channel": "newsbot is not in the channel (`/invite @newsbot` there)",
    "channel_not_found": "Slack knows no such channel, or newsbot cannot see it",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot's Slack account is inactive",
    "invalid_auth": "Slack refused the bot token",
}


def _slack_error(error: str | None) -> str:
    """A Slack error code in words, the code kept for the operator."""
    if not error:
        return "no reason given"
    said = _SLACK_ERRORS.get(error)
    return f"{said} (Slack: {error})" if said else error


def _not_due(result: RunResult, store: Store) -> str:
    """Every topic here was subscribed after this digest's time: when the first one is."""
    topics = store.active_subscriptions(result.team_id, result.channel_id)
    if not topics or result.due is None:
        return "no digest was due then: its topics were subscribed after that time."
    first = min(t["subscribed_at"] or "" for t in topics)
    t = topics[0]
    subscribed = dt.datetime.fromisoformat(first) if first else result.due
    if subscribed.tzinfo is None:
        subscribed = subscribed.replace(tzinfo=dt.UTC)
    _, next_due = schedule.next_due(subscribed, t["hour"], t["minute"], t["tz"])
    return (
        f"no digest for that date: its topics were subscribed after that time (first on "
        f"{utc_text(subscribed)}); its first digest is {utc_text(next_due)}."
    )
