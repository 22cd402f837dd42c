"""The command language: the words after ``/news``, shared by Slack and the local shell.

``parse(text)`` returns a :class:`Command` or raises :class:`CommandError` with a message fit
to show a person. ``SUBCOMMANDS`` is the one list of subcommands with their usage and help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import process

MAX_TOPIC_CHARS = 200
MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    help: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("search", "/news <words>", "the best recent stories on <words>, privately"),
    Subcommand(
        "subscribe",
        "/news subscribe <topic> [at HH:MM] [tz Area/City]",
        "a daily digest of <topic> in this channel",
    ),
    Subcommand("unsubscribe", "/news unsubscribe <topic>", "stop this channel's digest of <topic>"),
    Subcommand("list", "/news list", "this channel's subscriptions (in a DM: your follows)"),
    Subcommand("preview", "/news preview", "this channel's next digest, privately, now"),
    Subcommand("resume", "/news resume <topic>", "resume a paused subscription"),
    Subcommand("follow", "/news follow <topic> [at HH:MM]", "a daily digest of <topic> by DM"),
    Subcommand("unfollow", "/news unfollow <topic>", "stop your DM digest of <topic>"),
    Subcommand("mute", "/news mute <outlet or domain>", "hide an outlet from your results"),
    Subcommand("unmute", "/news unmute <outlet or domain>", "show a muted outlet again"),
    Subcommand(
        "settings", "/news settings [<name> <value>]", "show or change your settings"
    ),
    Subcommand("help", "/news help", "this help"),
)
NAMES = tuple(s.name for s in SUBCOMMANDS if s.name != "search")


class CommandError(ValueError):
    """Input a person typed that cannot be done; the message says what is wrong."""


@dataclass(frozen=True)
class Command:
    name: str  # a SUBCOMMANDS name
    text: str = ""  # the query, topic, outlet or setting
    hour: int | None = None
    minute: int | None = None
    tz: str | None = None
    value: str | None = None  # for settings
    hint: str | None = None  # for help: why it is shown

    @property
    def time(self) -> str | None:
        return None if self.hour is None else f"{self.hour:02d}:{self.minute or 0:02d}"


_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def parse_time(text: str) -> tuple[int, int]:
    """'08:00', '8:30', '7pm', '7:15am', '19' -> (hour, minute); else CommandError."""
    match = _TIME.match(text.strip())
    if not match:
        raise CommandError(f"“{text[:40]}” is not a time: use HH:MM, e.g. 08:00 or 7pm.")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise CommandError(f"“{text[:40]}” is not a time: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise CommandError(f"“{text[:40]}” is not a time of day: hours 00-23, minutes 00-59.")
    return hour, minute


def parse_tz(text: str) -> str:
    name = text.strip()
    try:
        if "/" not in name and name.upper() != "UTC":
            raise ZoneInfoNotFoundError(name)
        ZoneInfo("UTC" if name.upper() == "UTC" else name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # suggest only names this function accepts (not "EST" for "EST")
        zones = sorted(z for z in available_timezones() if "/" in z)
        close = process.extractOne(name, zones, score_cutoff=80)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise CommandError(
            f"“{name[:60]}” is not a time zone I know: use an Area/City name such as "
            f"Europe/London.{hint}"
        ) from None
    return "UTC" if name.upper() == "UTC" else name


def _topic(text: str, name: str, what: str = "topic") -> str:
    topic = " ".join(text.split())
    if not topic:
        example = "reuters.com" if what == "outlet" else "facial recognition"
        raise CommandError(f"Which {what}? e.g. `/news {name} {example}`.")
    if len(topic) > MAX_TOPIC_CHARS:
        raise CommandError(
            f"That {what} is {len(topic):,} characters long; the limit is {MAX_TOPIC_CHARS}."
        )
    return topic


# "at" followed by something that starts like a time (a digit): "at 8", "at 7pm", "at 25:00"
# (refused later with a reason). "machine learning at scale" is a topic, not a schedule.
_AT = re.compile(r"\s+at\s+(\d[\d:]*(?:\s*[ap]m)?)(?=\s+tz\s|\s*$)", re.IGNORECASE)
_TZ = re.compile(r"\s+tz\s+(\S+)(?=\s+at\s|\s*$)", re.IGNORECASE)


def _schedule(rest: str) -> tuple[str, int | None, int | None, str | None]:
    """Split '<topic> [at HH:MM] [tz Area/City]' in any order of the two options."""
    hour = minute = None
    tz = None
    padded = " " + rest
    for _ in range(2):
        if m := _TZ.search(padded):
            tz = parse_tz(m.group(1))
            padded = padded[: m.start()] + padded[m.end() :]
        if m := _AT.search(padded):
            hour, minute = parse_time(m.group(1))
            padded = padded[: m.start()] + padded[m.end() :]
    return padded.strip(), hour, minute, tz


def parse(text: str) -> Command:
    text = (text or "").replace("\u00a0", " ").strip()
    if text.lower().startswith("/news"):
        text = text[5:].strip()
    if not text:
        return Command("help")
    if len(text) > MAX_QUERY_CHARS:
        raise CommandError(
            f"That is {len(text):,} characters; a command or search is at most "
            f"{MAX_QUERY_CHARS:,}."
        )
    word, _, rest = text.partition(" ")
    name = word.lower()
    rest = rest.strip()
    if name == "help" or name == "?":
        return Command("help")
    if name in ("list", "preview"):
        return Command(name)
    if name in ("subscribe", "follow"):
        topic, hour, minute, tz = _schedule(rest)
        if name == "follow" and tz:
            raise CommandError("A follow uses your own Slack time zone; leave out `tz`.")
        return Command(name, _topic(topic, name), hour, minute, tz)
    if name in ("unsubscribe", "unfollow", "resume"):
        return Command(name, _topic(rest, name))
    if name in ("mute", "unmute"):
        return Command(name, _topic(rest, name, "outlet"))
    if name == "settings":
        key, _, value = rest.partition(" ")
        return Command(name, key.lower(), value=value.strip() or None)
    close = process.extractOne(name, NAMES, score_cutoff=85) if len(name) >= 5 else None
    if close and not rest.count(" ") > 3:
        return Command("help", hint=f"Unknown subcommand “{word[:40]}”: did you mean `{close[0]}`?")
    return Command("search", text)
