"""When a channel's daily digest is due: pure time-zone arithmetic (``zoneinfo``), no clock.

A channel's digest is due once per *local date*, at its wall-clock ``hour:minute`` in its
zone. Every instant here is an aware ``datetime``; results are in UTC.

Daylight saving. Two days a year the wall clock is not a plain mapping to instants:

- **Spring forward** (e.g. Europe/London 2024-03-31, 01:00 -> 02:00; America/New_York
  2024-03-10, 02:00 -> 03:00): a time in the gap (London 01:30, New York 02:30) does not
  exist. The digest is then due as far past the gap's end as the time was into the gap, i.e.
  at the instant the wall clock *would* have shown that time without the change: London 01:30
  -> 02:30 BST (01:30 UTC), New York 02:30 -> 03:30 EDT. It is still that day's digest, an
  hour later by the clock. (Python's ``fold=0`` reading, and what APScheduler's CronTrigger
  does on that day, so the job fires when the digest is due.)
- **Fall back** (London 2024-10-27 02:00 -> 01:00; New York 2024-11-03 02:00 -> 01:00): a
  time in the repeated hour (01:30) happens twice. The digest is due at the *first* one
  (BST/EDT). APScheduler fires the job again an hour later; that second run finds the day's
  digest already done (runs are keyed by local date), so nothing is posted twice.

Any other time on those days is unaffected: an 08:00 digest is at 08:00 local, 23 or 25
hours after the previous one.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (an IANA name such as ``Europe/London``); ValueError if none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "Europe", a folder
        raise ValueError(f"unknown time zone {name!r}") from exc


def known_zone(name: object) -> str | None:
    """``name`` when zoneinfo knows the zone (``utc`` in any case is ``UTC``), else None.

    The check every zone passes before it is stored, whether it comes from a command, the
    configuration or Slack's ``users.info``: a zone the scheduler cannot load never reaches
    the database."""
    if not isinstance(name, str) or not name:
        return None
    if name.upper() == "UTC":
        return "UTC"
    try:
        zone(name)
    except ValueError:
        return None
    return name


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a moment must carry its time zone (an aware datetime)")
    return moment


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    """The date on the wall calendar of ``tz`` at ``moment``."""
    return _aware(moment).astimezone(zone(tz)).date()


def due_at(day: dt.date, hour: int, minute: int, tz: str) -> dt.datetime:
    """The UTC instant of the digest due on local date ``day`` at ``hour:minute`` in ``tz``
    (DST gaps and repeats resolved as the module docstring says)."""
    wall = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(tz), fold=0)
    return wall.astimezone(UTC)


def last_due(now: dt.datetime, hour: int, minute: int, tz: str) -> tuple[dt.date, dt.datetime]:
    """The most recent digest at or before ``now``: (its local date, its UTC instant)."""
    day = local_date(now, tz)
    due = due_at(day, hour, minute, tz)
    if due > _aware(now):
        day -= dt.timedelta(days=1)
        due = due_at(day, hour, minute, tz)
    return day, due


def next_due(now: dt.datetime, hour: int, minute: int, tz: str) -> tuple[dt.date, dt.datetime]:
    """The first digest strictly after ``now``: (its local date, its UTC instant)."""
    day, due = last_due(now, hour, minute, tz)
    day += dt.timedelta(days=1)
    return day, due_at(day, hour, minute, tz)


def lateness(due: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """How long after its due time ``now`` is (negative before it)."""
    return _aware(now) - _aware(due)


def within_grace(due: dt.datetime, now: dt.datetime, grace_hours: float) -> bool:
    """Whether a digest due at ``due`` may still be posted at ``now``: it is due, and at most
    ``grace_hours`` late (a bot that was down at 08:00 and is back by 10:00 still posts)."""
    late = lateness(due, now)
    return dt.timedelta(0) <= late <= dt.timedelta(hours=grace_hours)
