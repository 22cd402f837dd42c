"""bot.feeds.policy: the arithmetic of when a source is polled next, with seeded generators."""

from __future__ import annotations

import datetime as dt
import random
import statistics

import pytest

from bot.feeds.policy import (
    DEFAULT_INTERVAL,
    HOUR,
    MAX_BACKOFF,
    MAX_HINT,
    MIN_INTERVAL,
    MINUTE,
    backoff_ceiling,
    failure_delay,
    interval,
    next_poll,
    success_delay,
    throttled_delay,
)

NOW = dt.datetime(2020, 2, 6, 12, 0, tzinfo=dt.UTC)
EVERY = 30 * MINUTE


def test_the_interval_defaults_to_30_minutes_and_never_goes_below_the_floor() -> None:
    assert interval() == DEFAULT_INTERVAL == 30 * MINUTE
    assert interval(60 * MINUTE) == 60 * MINUTE
    assert interval(2 * MINUTE) == MIN_INTERVAL == 10 * MINUTE
    assert interval(2 * MINUTE, floor=MINUTE) == 2 * MINUTE  # configured lower


def test_success_jitter_stays_within_ten_percent_and_spreads() -> None:
    rng = random.Random(1)
    delays = [success_delay(EVERY, rng) for _ in range(2000)]
    assert min(delays) >= 0.9 * EVERY and max(delays) <= 1.1 * EVERY
    assert min(delays) < 0.92 * EVERY and max(delays) > 1.08 * EVERY  # it does spread
    assert abs(statistics.mean(delays) - EVERY) < 0.01 * EVERY


def test_success_is_reproducible_with_a_seed() -> None:
    a = [success_delay(EVERY, random.Random(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]


def test_the_floor_holds_under_jitter() -> None:
    rng = random.Random(2)
    assert min(success_delay(MIN_INTERVAL, rng) for _ in range(1000)) >= MIN_INTERVAL
    assert min(success_delay(MINUTE, rng) for _ in range(1000)) >= MIN_INTERVAL
    low = [success_delay(MINUTE, rng, floor=30.0) for _ in range(1000)]
    assert min(low) >= 54.0 and max(low) <= 66.0


@pytest.mark.parametrize(
    ("hint", "expected_min"),
    [
        ({"max_age": 2 * HOUR}, 2 * HOUR),
        ({"ttl_minutes": 180}, 3 * HOUR),
        ({"max_age": HOUR, "ttl_minutes": 120}, 2 * HOUR),  # the longer one
    ],
)
def test_max_age_and_ttl_lengthen_the_interval(hint: dict[str, float], expected_min: float) -> None:
    rng = random.Random(3)
    delays = [success_delay(EVERY, rng, **hint) for _ in range(1000)]
    assert min(delays) >= expected_min and max(delays) <= 1.1 * expected_min


@pytest.mark.parametrize("hint", [{"max_age": 60.0}, {"ttl_minutes": 5}, {"max_age": 0.0}])
def test_a_shorter_hint_never_shortens_the_interval(hint: dict[str, float]) -> None:
    plain = [success_delay(EVERY, random.Random(4)) for _ in range(200)]
    hinted = [success_delay(EVERY, random.Random(4), **hint) for _ in range(200)]
    assert hinted == plain


def test_hints_are_capped_at_a_day() -> None:
    rng = random.Random(5)
    year = 365 * 24 * HOUR
    delays = [success_delay(EVERY, rng, max_age=year) for _ in range(200)]
    assert min(delays) >= MAX_HINT and max(delays) <= 1.1 * MAX_HINT


def test_the_backoff_ceiling_doubles_and_is_capped() -> None:
    ceilings = [backoff_ceiling(n, EVERY) for n in range(1, 10)]
    assert ceilings[:3] == [HOUR, 2 * HOUR, 4 * HOUR]
    assert all(c == MAX_BACKOFF == 6 * HOUR for c in ceilings[3:])
    assert backoff_ceiling(10**9, EVERY) == MAX_BACKOFF  # no overflow
    assert backoff_ceiling(0, EVERY) == backoff_ceiling(1, EVERY)
    day = 24 * HOUR
    assert backoff_ceiling(5, day) == day  # a daily source is not polled more for failing


def test_failure_delays_are_full_jitter_within_floor_and_ceiling_and_grow() -> None:
    rng = random.Random(6)
    means = []
    for n in range(1, 7):
        ceiling = backoff_ceiling(n, EVERY)
        delays = [failure_delay(n, EVERY, rng) for _ in range(2000)]
        assert min(delays) >= MIN_INTERVAL and max(delays) <= ceiling
        assert max(delays) > 0.95 * ceiling  # the whole range is used
        means.append(statistics.mean(delays))
    assert means[0] < means[1] < means[2] < means[3]
    assert abs(means[5] - MAX_BACKOFF / 2) < 0.05 * MAX_BACKOFF  # capped: uniform(0, 6 h)


def test_the_backoff_resets_after_a_success() -> None:
    # the poller counts failures; after a success it passes 0, and the next poll is the interval
    after_failures = next_poll("failed", NOW, EVERY, 5, random.Random(8))
    after_success = next_poll("ok", NOW, EVERY, 0, random.Random(8))
    assert after_failures is not None and after_success is not None
    assert after_success - NOW <= dt.timedelta(seconds=1.1 * EVERY)
    first_failure = [failure_delay(1, EVERY, random.Random(s)) for s in range(200)]
    assert max(first_failure) <= backoff_ceiling(1, EVERY) == 2 * EVERY


def test_retry_after_is_honoured_and_at_least_the_backoff() -> None:
    long = throttled_delay(1, EVERY, random.Random(9), retry_after=5 * HOUR)
    assert long == 5 * HOUR
    rng = random.Random(9)
    short = [throttled_delay(3, EVERY, rng, retry_after=1.0) for _ in range(500)]
    assert min(short) >= MIN_INTERVAL  # a 1 s Retry-After is no invitation to hammer
    same = [failure_delay(3, EVERY, random.Random(10)) for _ in range(3)]
    assert throttled_delay(3, EVERY, random.Random(10), retry_after=1.0) == same[0]
    assert throttled_delay(1, EVERY, random.Random(9), retry_after=10**9) == MAX_HINT
    assert throttled_delay(1, EVERY, random.Random(9), None) >= MIN_INTERVAL


def test_next_poll_by_outcome() -> None:
    for outcome in ("ok", "not_modified", "unchanged"):
        at = next_poll(outcome, NOW, EVERY, 0, random.Random(11), max_age=3 * HOUR)
        assert at is not None and 3 * HOUR <= (at - NOW).total_seconds() <= 3.3 * HOUR
    at = next_poll("throttled", NOW, EVERY, 1, random.Random(11), retry_after=4 * HOUR)
    assert at == NOW + dt.timedelta(hours=4)
    at = next_poll("failed", NOW, EVERY, 2, random.Random(11))
    assert at is not None and MIN_INTERVAL <= (at - NOW).total_seconds() <= 2 * HOUR
    assert next_poll("gone", NOW, EVERY, 0, random.Random(11)) is None
