"""``newsbot digest [--channel ID] [--at ISO-8601-TIME] [--dry-run]``: the digest job, by hand.

It runs the very job the scheduler runs (``DigestRunner.run_channel``), as of ``--at``
(default: now): for ``--channel``, that channel's job; otherwise every channel whose digest
is due then (within the grace period, not yet posted). ``--dry-run`` prints the digests as
text and changes nothing, in Slack or in the database.

``bot.cli`` adds it with :func:`add_digest_parser` and :func:`cmd_digest`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any

from bot.core.digest import DigestSettings
from bot.digests.runner import DigestRunner, RunResult, digest_client
from bot.render.text import digest_text
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
            print(f"no digest due at {now.isoformat()}", file=out)
    if not args.dry_run:
        runner.send_notices()
    for result in results:
        _report(result, args.dry_run, out)
    return 1 if any(r.status in FAILED for r in results) else 0


def _running_from(start: dt.datetime) -> Clock:
    """A clock that reads ``start`` now and runs on from it: the job is as of ``start``, and
    its leases and retries still pass in real time."""
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


def _report(result: RunResult, dry_run: bool, out: Any) -> None:
    if dry_run and result.digest is not None:
        print(digest_text(result.digest), file=out)
        if result.error:
            print(f"({result.error})", file=out)
        print(file=out)
    else:
        print(result.line(), file=out)
