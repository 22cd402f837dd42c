"""How the words after ``/news`` are read: the :class:`Command` they become, and the readers
of a subcommand's arguments (times, time zones, topics, outlets, settings).

The subcommands themselves are declared once each, on their handlers, in ``bot.core.service``
(each names one of the readers here); ``bot.core.commands`` is where the rest of newsbot reads
the whole language from. This module depends on none of them, so the service, the preferences
and the configuration can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import process

MAX_TOPIC_CHARS = 200
MAX_QUERY_CHARS = 2000


class CommandError(ValueError):
    """Input a person typed that cannot be done; the message says what is wrong."""


@dataclass(frozen=True)
class Command:
    name: str  # a subcommand's name
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


# -- readers: how a subcommand's words become a Command ------------------------------------------

Reader = Callable[[str, str], Command]
"""(the subcommand's name, the words after it, stripped) -> its Command, or CommandError."""


def as_typed(name: str, words: str) -> Command:
    """The words as they are: a search's query."""
    return Command(name, words)


def nothing(name: str, words: str) -> Command:
    """No arguments: any words after the name are ignored."""
    return Command(name)


def topic(name: str, words: str) -> Command:
    """A topic: spaces collapsed, at most MAX_TOPIC_CHARS."""
    return Command(name, _topic(words, name))


def outlet(name: str, words: str) -> Command:
    """An outlet's name or domain (and maybe ``here``), held to a topic's limits."""
    return Command(name, _topic(words, name, "outlet"))


def scheduled_topic(name: str, words: str) -> Command:
    """'<topic> [at HH:MM] [tz Area/City]', the two options in either order."""
    text, hour, minute, tz = _schedule(words)
    return Command(name, _topic(text, name), hour, minute, tz)


def timed_topic(name: str, words: str) -> Command:
    """'<topic> [at HH:MM]': a follow lives in the user's own Slack zone, so no ``tz``."""
    text, hour, minute, tz = _schedule(words)
    if tz:
        raise CommandError("A follow uses your own Slack time zone; leave out `tz`.")
    return Command(name, _topic(text, name), hour, minute, tz)


def setting(name: str, words: str) -> Command:
    """'[<name> [<value>]]': the setting's name (lower case) and its value, checked later."""
    key, _, value = words.partition(" ")
    return Command(name, key.lower(), value=value.strip() or None)


# -- the first word --------------------------------------------------------------------------------


def words_of(text: str | None) -> str:
    """What a person typed, without a leading ``/news``, no-break spaces as spaces, stripped;
    CommandError when it is longer than MAX_QUERY_CHARS."""
    text = (text or "").replace("\u00a0", " ").strip()
    if text.lower().startswith("/news"):
        text = text[5:].strip()
    if len(text) > MAX_QUERY_CHARS:
        raise CommandError(
            f"That is {len(text):,} characters; a command or search is at most {MAX_QUERY_CHARS:,}."
        )
    return text


def did_you_mean(word: str, rest: str, names: Sequence[str]) -> str | None:
    """A hint when ``word`` looks like a misspelt subcommand name (5 letters or more, close to
    one) and what follows is short: a long text starting with such a word is a search."""
    close = process.extractOne(word.lower(), names, score_cutoff=85) if len(word) >= 5 else None
    if close and not rest.count(" ") > 3:
        return f"Unknown subcommand “{word[:40]}”: did you mean `{close[0]}`?"
    return None
