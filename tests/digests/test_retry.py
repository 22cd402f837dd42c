"""The retry policy (bot/digests/retry.py): the backoff, and where a run's next try happens."""

from __future__ import annotations

import datetime as dt

from bot.digests.retry import NextTry, Retries, RetryPolicy

T0 = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=20)
    assert [policy.delay(n) for n in range(0, 7)] == [2, 2, 4, 8, 16, 20, 20]


def test_tries_stay_here_within_the_inline_budget_then_go_later_then_never() -> None:
    retries = Retries(RetryPolicy(2, 300, inline_seconds=10), started=T0, grace_end=at(100))
    assert retries.after_failure(at(1)) == NextTry("here", 2, at(3))
    assert retries.after_failure(at(3)) == NextTry("here", 4, at(7))
    assert retries.after_failure(at(7)) == NextTry("later", 8, at(15))  # 15 s after the start
    assert retries.failures == 3
    assert retries.after_failure(at(90)) == NextTry("never", 16, at(106))  # past the grace


def test_a_given_wait_replaces_the_backoff_but_counts_as_a_failure() -> None:
    retries = Retries(RetryPolicy(2, 300, inline_seconds=60), started=T0, grace_end=at(100))
    assert retries.after_failure(at(0), retry_after=30) == NextTry("here", 30, at(30))
    assert retries.after_failure(at(30), retry_after=0.0) == NextTry("here", 0.0, at(30))
    assert retries.after_failure(at(30)) == NextTry("here", 8, at(38))  # the third failure
    assert retries.after_failure(at(38), retry_after=70) == NextTry("never", 70, at(108))


def test_the_grace_end_itself_is_still_a_try() -> None:
    retries = Retries(RetryPolicy(10, 300, inline_seconds=5), started=T0, grace_end=at(10))
    assert retries.after_failure(at(0)) == NextTry("later", 10, at(10))
