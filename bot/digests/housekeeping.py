"""The housekeeping job on the bot's scheduler: old digest history pruned, the WAL cut back.

Job ``housekeeping`` runs daily at ``QUIET_AT`` (UTC), and job ``housekeeping-start`` once,
``AFTER_START`` after the scheduler starts (a bot restarted daily still prunes; the catch-up
has had its turn by then). Each run (:func:`housekeep`) deletes the digest history due before
:func:`prune_before` (``Store.prune_digest_history``: what is deleted and why it is safe is
``storage.housekeeping``'s docstring), in short transactions, then checkpoints the WAL to zero
bytes when no reader is in the way. One INFO line says what it pruned; a failure is one ERROR
line, and the next run tries again. It never raises: the scheduler must outlive it.

The moment is the clock's (an input: tests move it); the triggers are the scheduler's, in real
time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from storage.housekeeping import PruneReport
from storage.store import Store

log = logging.getLogger("newsbot.housekeeping")

Clock = Callable[[], dt.datetime]
JOB_ID = "housekeeping"
START_JOB_ID = "housekeeping-start"
# Daily at 03:47 UTC: off the hour and the half hour, where digests are usually set (each in
# its own zone, so no hour is quiet everywhere; the prune's short transactions let a digest
# due meanwhile in between two of them).
QUIET_AT = (3, 47)
AFTER_START = dt.timedelta(minutes=10)
# Kept beyond the digest window and its grace whatever digest.keep_days says: a digest due up
# to a day from now (a zone ahead, a late one) still reads deliveries that old.
MIN_MARGIN = dt.timedelta(days=1)


def prune_before(now: dt.datetime, digest: Any) -> dt.datetime:
    """The cutoff: history due before it is pruned. ``digest.keep_days`` back from ``now``,
    but never less than the window, the grace and a day (``digest`` is ``config.digest``)."""
    floor = dt.timedelta(hours=digest.max_age_hours + digest.grace_hours) + MIN_MARGIN
    return now - max(dt.timedelta(days=digest.keep_days), floor)


def housekeep(store: Store, config: Any, clock: Clock) -> PruneReport | None:
    """One run: prune, checkpoint, one line. None when it failed (logged in one line)."""
    try:
        report = store.prune_digest_history(prune_before(clock(), config.digest))
        wal = store.checkpoint_wal()
    except Exception as exc:
        log.error(
            "housekeeping failed (%s: %s); the next run tries again",
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        return None
    kept = "the WAL is busy: cut back at its next reset" if wal.busy else "the WAL checkpointed"
    log.info("housekeeping: %s; %s", report.line(), kept)
    return report


def add_housekeeping_job(
    scheduler: BaseScheduler,
    store: Store,
    config: Any,
    clock: Clock,
    *,
    started: dt.datetime | None = None,
) -> None:
    """Both housekeeping jobs on ``scheduler`` (``started``: the real moment the first run
    counts from; default now)."""
    hour, minute = QUIET_AT
    common: dict[str, Any] = {
        "args": (store, config, clock),
        "replace_existing": True,
        "max_instances": 1,
        "coalesce": True,
    }
    scheduler.add_job(
        housekeep,
        CronTrigger(hour=hour, minute=minute, timezone=dt.UTC),
        id=JOB_ID,
        name="housekeeping (daily)",
        **common,
    )
    first = (started or dt.datetime.now(dt.UTC)) + AFTER_START
    scheduler.add_job(
        housekeep,
        DateTrigger(run_date=first, timezone=dt.UTC),
        id=START_JOB_ID,
        name="housekeeping (after start)",
        misfire_grace_time=None,
        **common,
    )
