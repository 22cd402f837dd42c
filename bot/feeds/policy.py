"""When a source is polled next: pure arithmetic on numbers, datetimes and a ``random.Random``
(no I/O, no clock of its own), for the poller to call after each fetch.

- After a success (ok, not_modified, unchanged): the source's interval, at least the floor,
  with jitter of +-10%; a server's ``Cache-Control: max-age`` or the feed's RSS ``<ttl>`` may
  lengthen it, never shorten it.
- After a failure: exponential backoff with full jitter, from the interval, capped at 6 hours;
  the count of consecutive failures is the poller's (it resets to 0 on a success, and so does
  the backoff).
- After throttling (429, or 503 with Retry-After): what the server asked for, but at least the
  backoff.
- Gone (410): never again (``None``).

All durations are seconds.
"""

from __future__ import annotations

import datetime as dt
import random

MINUTE = 60.0
HOUR = 60 * MINUTE

# The default: often enough for news, rare enough that a thousand feeds cost little.
DEFAULT_INTERVAL = 30 * MINUTE
# Below ten minutes a feed reader is a nuisance to the feed's owner (and most feeds change
# hourly at most); a configuration may lower it (local feeds, tests).
MIN_INTERVAL = 10 * MINUTE
# +-10%: enough to spread sources added together (an OPML import) across the interval within a
# few rounds, small enough that "every 30 minutes" still means it.
JITTER = 0.10
# A failing source is retried at most this far apart: a feed down for a night is back within
# six hours of recovering, and a dead one costs four requests a day.
MAX_BACKOFF = 6 * HOUR
# The most a server's hints (max-age, ttl, Retry-After) may put off the next poll: CDNs serve
# feeds with the max-age of static files (a year), and a broken Retry-After should not silence
# a source for months. A day keeps such a source alive and still polite.
MAX_HINT = 24 * HOUR
# 2**32 intervals is past any cap: counting further only risks overflowing a float.
MAX_EXPONENT = 32

SUCCESS = frozenset({"ok", "not_modified", "unchanged"})


def interval(configured: float | None = None, floor: float = MIN_INTERVAL) -> float:
    """The interval a source polls at: its own (else the default), never below ``floor``."""
    return max(floor, DEFAULT_INTERVAL if configured is None else configured)


def _hint(*seconds: float | None) -> float:
    """The longest of a server's hints, within :data:`MAX_HINT` (0 when there are none)."""
    return min(MAX_HINT, max((s for s in seconds if s is not None and s > 0), default=0.0))


def success_delay(
    every: float,
    rng: random.Random,
    *,
    max_age: float | None = None,
    ttl_minutes: float | None = None,
    floor: float = MIN_INTERVAL,
) -> float:
    """Seconds to the next poll after a success. The interval with +-10% jitter, never below
    ``floor``; when max-age or ttl asks for longer, that long plus up to 10% (jitter only
    upward there, so the hint is never shortened)."""
    base = max(floor, every)
    hint = _hint(max_age, None if ttl_minutes is None else ttl_minutes * MINUTE)
    if hint > base:
        return hint * rng.uniform(1.0, 1.0 + JITTER)
    return max(floor, base * rng.uniform(1.0 - JITTER, 1.0 + JITTER))


def backoff_ceiling(failures: int, every: float, floor: float = MIN_INTERVAL) -> float:
    """The most the n-th consecutive failure waits: ``every * 2**n`` (the interval doubled once
    already on the first failure, so a failing source is asked less often than a healthy one
    on average), capped at :data:`MAX_BACKOFF`, or at the interval itself when that is longer
    (a source polled daily is not polled more often for failing)."""
    base = max(floor, every)
    exponent = min(max(failures, 1), MAX_EXPONENT)
    return min(max(MAX_BACKOFF, base), base * 2.0**exponent)


def failure_delay(
    failures: int, every: float, rng: random.Random, floor: float = MIN_INTERVAL
) -> float:
    """Seconds to the next poll after the n-th consecutive failure: full jitter (uniform between
    0 and the ceiling) spreads out sources that failed together (one host down behind many
    feeds), then raised to ``floor``, so no failing source is asked sooner than a healthy one
    could be."""
    return max(floor, rng.uniform(0.0, backoff_ceiling(failures, every, floor)))


def throttled_delay(
    failures: int,
    every: float,
    rng: random.Random,
    retry_after: float | None = None,
    floor: float = MIN_INTERVAL,
) -> float:
    """Seconds to the next poll after a 429 (or a 503 with Retry-After): the server's wish,
    within :data:`MAX_HINT`, and at least the backoff (a Retry-After of 1 second from a server
    that throttles us is not an invitation to hammer it)."""
    return max(_hint(retry_after), failure_delay(failures, every, rng, floor))


def next_poll(
    outcome: str,
    now: dt.datetime,
    every: float,
    failures: int,
    rng: random.Random,
    *,
    max_age: float | None = None,
    ttl_minutes: float | None = None,
    retry_after: float | None = None,
    floor: float = MIN_INTERVAL,
) -> dt.datetime | None:
    """When to poll a source next, after a fetch with this outcome (a
    :class:`bot.feeds.fetch.FetchResult`'s, or "failed" for a parse that failed).
    ``failures`` counts the consecutive failures including this one (0 after a success).
    None after "gone": the source is not polled again."""
    if outcome == "gone":
        return None
    if outcome in SUCCESS:
        delay = success_delay(every, rng, max_age=max_age, ttl_minutes=ttl_minutes, floor=floor)
    elif outcome == "throttled":
        delay = throttled_delay(failures, every, rng, retry_after, floor)
    else:
        delay = failure_delay(failures, every, rng, floor)
    return now + dt.timedelta(seconds=delay)
