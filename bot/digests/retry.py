"""When a digest run tries again after a passing failure (a 5xx, a 429, a dropped connection, a
busy database, a post that may still land): the policy, apart from the runner that carries it
out (:mod:`bot.digests.runner`: sleeping with its lease renewed, handing the run back, settling
it).

:class:`RetryPolicy` is the backoff (also the notices'). :class:`Retries` counts one run's
failures and says where its next try happens (:class:`NextTry`): ``here`` after ``delay``
seconds, while within ``inline_seconds`` of the run's start; ``later``, at ``at``, by whichever
process takes the run up then (it is handed back, state ``waiting``); ``never``, when ``at``
would fall past the grace period (the run is settled now).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff after a transient failure: ``base * 2**(n-1)`` seconds after the n-th, at most
    ``cap``; a run retries in-process for ``inline_seconds``, then hands the retry on."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    inline_seconds: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.cap_seconds, self.base_seconds * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class NextTry:
    where: Literal["here", "later", "never"]
    delay: float  # seconds from the failure
    at: dt.datetime


@dataclass
class Retries:
    """One run's passing failures so far, and its limits."""

    policy: RetryPolicy
    started: dt.datetime  # when the run's first try began (in this process)
    grace_end: dt.datetime  # no try after this
    failures: int = 0

    def after_failure(self, now: dt.datetime, retry_after: float | None = None) -> NextTry:
        """Count one more failure (at ``now``) and place the next try: after ``retry_after``
        seconds when Slack or the runner said how long, else after the backoff."""
        self.failures += 1
        delay = retry_after if retry_after is not None else self.policy.delay(self.failures)
        at = now + dt.timedelta(seconds=delay)
        if at > self.grace_end:
            return NextTry("never", delay, at)
        if (at - self.started).total_seconds() > self.policy.inline_seconds:
            return NextTry("later", delay, at)
        return NextTry("here", delay, at)
