"""What both renderers build on; it imports no other render module (the package's base).

- Text shaping: :func:`trim`, :func:`age`, :func:`long_date`.
- Escaping, each output's own, in one place: :func:`escape` / :func:`escape_trimmed` make data
  safe in Slack's mrkdwn; :func:`terminal` / :func:`one_line` / :func:`json_terminal` make it
  safe on a terminal.
- The wording both renderers give the same answer's parts: a subscription's line, the settings'
  lines, a muted outlet's name, a story's other outlets. It is unescaped: each renderer escapes
  it for its output.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from bot.core.answers import SettingsAnswer, SourceHealth
from bot.core.markup import code
from bot.core.search import StoryHit

# Text shaping


def trim(text: str, limit: int) -> str:
    """Cut at a word boundary, with an ellipsis, so the result is at most ``limit`` chars."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def age(published_ts: int | None, now: dt.datetime) -> str:
    """'just now', '5 minutes ago', '2 days ago', or the date for anything over 30 days."""
    if published_ts is None:
        return "date unknown"
    seconds = now.timestamp() - published_ts
    if seconds < 60:
        return "just now"
    for unit, size in (("minute", 60), ("hour", 3600), ("day", 86400)):
        count = int(seconds // size)
        limit = {"minute": 60, "hour": 24, "day": 31}[unit]
        if count < limit:
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return dt.datetime.fromtimestamp(published_ts, dt.UTC).strftime("%-d %b %Y")


def long_date(day: dt.date) -> str:
    """'Thursday 6 February 2020'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# Escaping for Slack's mrkdwn


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>``: article text can then never mention ``@channel``, a
    user, or forge a link, whatever it holds."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_trimmed(text: str, limit: int) -> str:
    """Escaped text no longer than ``limit`` characters, cut at a word and never inside an
    ``&amp;``-style entity."""
    out = escape(text)
    if len(out) <= limit:
        return out
    budget = limit
    while budget > 0:
        out = escape(trim(text, budget))
        if len(out) <= limit:
            return out
        budget -= max(1, len(out) - limit)
    return "…"


# Escaping for a terminal

# What must never reach a terminal as it is: C0 and C1 control characters (escape sequences,
# NUL, backspace, carriage return), the marks and overrides that reorder text (right-to-left
# overrides can make a line read backwards), and lone surrogates (bytes of a file name that is
# not UTF-8, which a UTF-8 terminal cannot even be sent).
_UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_OR_NEWLINE = re.compile(_UNSAFE.pattern[:-1] + "\n]")


def _escape_char(match: re.Match[str]) -> str:
    point = ord(match.group(0))
    if 0xDC80 <= point <= 0xDCFF:  # a byte Python kept from a name that is not UTF-8
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def terminal(text: str, *, newlines: bool = True) -> str:
    """``text`` safe to print on a terminal: control characters, reordering marks and lone
    surrogates shown as escapes (``\\x1b``, ``\\u202e``); with ``newlines=False`` a newline
    too, so one value cannot split its line (or forge the next one)."""
    return (_UNSAFE if newlines else _UNSAFE_OR_NEWLINE).sub(_escape_char, text)


def json_terminal(text: str) -> str:
    """JSON text safe for a terminal: what ``terminal`` escapes, as JSON ``\\uXXXX`` escapes
    (valid only inside strings, where alone such characters can be in JSON)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def one_line(text: object) -> str:
    """A value from outside (a title, an address, a file name) for one line of a terminal."""
    return terminal(str(text), newlines=False)


# Wording both renderers show (unescaped)


def also_outlets(hit: StoryHit) -> list[str]:
    """The outlets of a search hit's other articles, once each: by name, else by domain (an
    article without either is left out rather than shown as an empty name)."""
    names = (str(m.get("provider") or m.get("domain") or "").strip() for m in hit.also)
    return list(dict.fromkeys(n for n in names if n))


DateText = Callable[[dt.datetime], str]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def plain_date(moment: dt.datetime) -> str:
    """'3 Dec 2026' (UTC; month names written out, whatever the process's locale)."""
    moment = moment.astimezone(dt.UTC)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def paused_since(sub: dict[str, Any]) -> dt.datetime | None:
    """When the subscription was paused (``paused_at``), or None when that is not known."""
    try:
        moment = dt.datetime.fromisoformat(str(sub.get("paused_at") or ""))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


RESUME = code("/news resume")
INVITE = code("/invite @newsbot")
# What the digest runner stores as ``paused_reason`` (Slack's codes for a conversation it can
# no longer post in: bot.digests.posting.CHANNEL_GONE), in words: (what happened, with
# {where} and {on}; what to do). Any other code reads as a refused post, never bare.
PAUSES = {
    "not_in_channel": ("newsbot was removed from {where}{on}", f"{INVITE}, then {RESUME}"),
    "channel_not_found": (
        "newsbot could no longer find {where}{on} (deleted, or private without newsbot)",
        f"{INVITE}, then {RESUME}",
    ),
    "is_archived": ("{where} was archived{on}", f"unarchive it, then {RESUME}"),
    "account_inactive": (
        "newsbot's Slack account was deactivated{on}",
        f"whoever installed newsbot can reinstall it, then {RESUME}",
    ),
}
ZONE_PAUSE = "unknown time zone"  # the runner's reason for a zone this machine does not know


def pause_words(sub: dict[str, Any], date: DateText = plain_date, where: str | None = None) -> str:
    """Why a subscription is paused, since when and what to do, in words: 'paused: newsbot was
    removed from this channel on 3 Dec 2026; `/invite @newsbot`, then `/news resume`'; "" when
    it is not paused. ``date`` writes the day (a renderer may give Slack's date token);
    ``where`` names the conversation (default: "this channel", "your DM")."""
    reason = str(sub.get("paused_reason") or "")
    if not reason:
        return ""
    if where is None:
        where = "your DM" if sub.get("kind") == "dm" else "this channel"
    moment = paused_since(sub)
    on = f" on {date(moment)}" if moment else ""
    if reason in PAUSES:
        what, fix = PAUSES[reason]
        return f"paused: {what.format(where=where, on=on)}; {fix}"
    if reason.startswith(ZONE_PAUSE):
        zone = re.sub(r"[^\w+\-/]", "?", reason.removeprefix(ZONE_PAUSE).strip(" '\""))[:60]
        pick = (
            code("/news follow <topic>") + " takes your Slack zone"
            if sub.get("kind") == "dm"
            else code(f"/news subscribe {sub.get('topic', '<topic>')} tz Area/City")
        )
        return f"paused{on}: its time zone {zone} is not one I know; {pick}, then {RESUME}"
    shown = reason if re.fullmatch(r"[a-z_]{1,60}", reason) else "unknown"
    return f"paused after Slack refused a post ({shown}){on}; {RESUME}"


def subscription_line(sub: dict[str, Any], date: DateText = plain_date) -> str:
    """'ai · daily at 08:00 (Europe/London)', and when paused, why, since when and how to
    resume (:func:`pause_words`)."""
    line = f"{sub['topic']} · daily at {sub['hour']:02d}:{sub['minute']:02d} ({sub['tz']})"
    paused = pause_words(sub, date)
    return f"{line} · {paused}" if paused else line


_DATE_MARK = "\ue000"  # a private-use character: where a date token goes, after escaping
DATE_TOKEN_CHARS = 80  # room a date token takes (escape_trimmed counts the mark as one)


def slack_day(moment: dt.datetime) -> str:
    """A day as Slack's date token (each reader's own zone), the plain date its fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{plain_date(moment)}>"


def _mrkdwn(sub: dict[str, Any], words: Callable[[DateText], str], limit: int) -> str:
    """``words(date)`` of ``sub`` as Slack mrkdwn within ``limit`` characters: escaped, the day
    it was paused Slack's date token."""
    moment = paused_since(sub)
    out = escape_trimmed(words(lambda _: _DATE_MARK), limit - DATE_TOKEN_CHARS)
    return out.replace(_DATE_MARK, slack_day(moment) if moment else "")


def subscription_mrkdwn(sub: dict[str, Any], limit: int) -> str:
    """:func:`subscription_line` as Slack mrkdwn (see :func:`_mrkdwn`)."""
    return _mrkdwn(sub, lambda date: subscription_line(sub, date), limit)


def pause_mrkdwn(sub: dict[str, Any], limit: int, where: str | None = None) -> str:
    """:func:`pause_words` as Slack mrkdwn (see :func:`_mrkdwn`)."""
    return _mrkdwn(sub, lambda date: pause_words(sub, date, where), limit)


def settings_lines(answer: SettingsAnswer, *, list_mutes: bool = True) -> list[str]:
    """Each setting of a DM or a channel, with how to change it (``list_mutes=False``: the
    number of muted outlets only, for a renderer that lists them itself)."""
    per = "per digest" if answer.is_dm else "per topic"
    weekends = "skipped" if answer.skip_weekends else "a digest every day"
    lines = [
        f"Settings of {answer.where}:",
        f"  • items: {answer.items} {per} — `/news settings items 1-10`",
        f"  • time: {answer.schedule or 'no digest yet'} — `/news settings time HH:MM`",
        f"  • weekends: {weekends} — `/news settings weekends skip|send`",
    ]
    here = "" if answer.is_dm else " here"
    if answer.mutes and list_mutes:
        muted = ", ".join(mute_name(m) for m in answer.mutes)
        lines.append(f"  • muted: {muted} — `/news unmute <outlet>{here}`")
    elif answer.mutes:
        count = len(answer.mutes)
        lines.append(
            f"  • muted: {count} outlet{'' if count == 1 else 's'}, below — "
            f"`/news unmute <outlet>{here}`"
        )
    else:
        lines.append(f"  • muted: none — `/news mute <outlet or domain>{here}`")
    return lines


def mute_name(mute: dict[str, Any]) -> str:
    """'Forbes (forbes.com)'."""
    return f"{mute['label']} ({mute['domain']})"


# A live source's health (/news sources, the App Home, the shell): plain words, unescaped.

SOURCE_STATES = ("ok", "quiet", "new", "failing", "paused", "gone")


def source_state(health: SourceHealth) -> str:
    """One word: 'gone' (the server said so), 'paused', 'failing' (the last fetch failed),
    'new' (never fetched yet), 'quiet' (nothing new in 7 days from a source that had items),
    else 'ok'."""
    source = health.source
    if source.state in ("gone", "paused"):
        return source.state
    if source.failing:
        return "failing"
    if source.last_success_at is None:
        return "new"
    if health.items_last_7_days == 0 and source.last_new_item_at is not None:
        return "quiet"
    return "ok"


def source_error(health: SourceHealth) -> str | None:
    """The last error in plain words when it still holds ("timed out, 3 times in a row"),
    else None (a success since has made it history)."""
    source = health.source
    if source.state == "gone":
        return source.last_error or "gone"
    if not source.failing or not source.last_error:
        return None
    times = source.consecutive_failures
    return source.last_error + (f", {times} times in a row" if times > 1 else "")


def source_adder(added_by: str) -> tuple[str, str | None]:
    """Who added a source, from ``added_by``: ('the command line', None) for "cli", else
    (the words, the Slack user id when it is one) for "team:user"."""
    if added_by == "cli":
        return "the command line", None
    user = added_by.rpartition(":")[2]
    if re.fullmatch(r"[UW][A-Z0-9]{1,39}", user):
        return user, user
    return added_by, None
