"""Personal and channel preferences: outlets to mute, settings and their bounds. No Slack."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.core.grammar import CommandError, parse_time

ITEMS_RANGE = (1, 10)
_DOMAIN = re.compile(
    r"^(?:https?://)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})/?$"
)
_WHOLE = re.compile(r"[0-9]{1,6}")
_YES = {"on", "yes", "true", "skip", "1"}
_NO = {"off", "no", "false", "send", "0"}


@dataclass(frozen=True)
class Outlet:
    domain: str
    label: str


def domain_of(text: str) -> str | None:
    """``reuters.com`` for 'reuters.com', 'www.Reuters.com', 'https://reuters.com/'; else None."""
    match = _DOMAIN.match(text.strip().lower())
    return match.group(1) if match else None


def is_muted(domain: str | None, muted: AbstractSet[str]) -> bool:
    """Whether an article's domain is muted, a sub-domain (uk.reuters.com) included."""
    if not domain or not muted:
        return False
    domain = domain.lower()
    return domain in muted or any(domain.endswith("." + m) for m in muted)


@dataclass(frozen=True)
class SettingChange:
    key: str  # store column
    value: int | bool | tuple[int, int]
    shown: str


SETTING_NAMES = {
    "items": "items",
    "time": "time",
    "hour": "time",
    "weekends": "weekends",
    "skip-weekends": "weekends",
    "skip_weekends": "weekends",
}


def parse_setting(name: str, value: str | None, *, is_dm: bool) -> SettingChange:
    """A change like ``items 7``, ``time 7pm``, ``weekends skip``; CommandError when out of
    range or unknown, saying what is allowed."""
    key = SETTING_NAMES.get(name.lower())
    if key is None:
        raise CommandError(
            f"There is no setting “{name[:40]}”. Settings: items, time, weekends "
            "(e.g. `/news settings items 7`)."
        )
    if value is None:
        raise CommandError(f"Give a value: e.g. `/news settings {name} {_example(key)}`.")
    if key == "items":
        lo, hi = ITEMS_RANGE
        # str.isdigit() is true of "²" and "①", which int() refuses: ASCII digits only
        if not _WHOLE.fullmatch(value) or not lo <= int(value) <= hi:
            raise CommandError(
                f"Items must be a whole number from {lo} to {hi}, not “{value[:20]}”."
            )
        column = "items" if is_dm else "items_per_topic"
        per = "per digest" if is_dm else "per topic"
        return SettingChange(column, int(value), f"{int(value)} items {per}")
    if key == "time":
        hour, minute = parse_time(value)
        return SettingChange("time", (hour, minute), f"digest at {hour:02d}:{minute:02d}")
    word = value.lower()
    if word not in _YES | _NO:
        raise CommandError("Weekends: `skip` (no digest on Saturday and Sunday) or `send`.")
    skip = word in _YES
    return SettingChange(
        "skip_weekends", skip, "no digest at weekends" if skip else "a digest every day"
    )


def _example(key: str) -> str:
    return {"items": "7", "time": "07:30", "weekends": "skip"}[key]
