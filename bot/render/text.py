"""Terminal renderer: answers as readable text (used by the shell and the CLI)."""

from __future__ import annotations

import datetime as dt
import re

from bot.core.answers import (
    Answer,
    HelpAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
)
from bot.core.commands import SUBCOMMANDS
from bot.core.markup import code
from bot.core.search import StoryHit

# What must never reach a terminal as it is: C0 and C1 control characters (escape sequences,
# NUL, backspace, carriage return), the marks and overrides that reorder text (right-to-left
# overrides can make a line read backwards), and lone surrogates (bytes of a file name that is
# not UTF-8, which a UTF-8 terminal cannot even be sent).
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_OR_NEWLINE = re.compile(_UNSAFE.pattern[:-1] + "\n]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # a byte Python kept from a name that is not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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


def trim(text: str, limit: int) -> str:
    """Cut at a word boundary, with an ellipsis, so the result is at most ``limit`` chars."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def also_outlets(hit: StoryHit) -> list[str]:
    return list(dict.fromkeys(m["provider"] for m in hit.also))


def help_text() -> str:
    width = max(len(s.usage) for s in SUBCOMMANDS)
    return "\n".join(f"  {s.usage.ljust(width)}  {s.help}" for s in SUBCOMMANDS)


def render(answer: Answer, now: dt.datetime) -> str:
    """The answer as terminal text, every control character from the data escaped."""
    return terminal(_render(answer, now))


def _render(answer: Answer, now: dt.datetime) -> str:
    if isinstance(answer, HelpAnswer):
        head = f"{answer.hint}\n\n" if answer.hint else ""
        return f"{head}newsbot commands:\n{help_text()}"
    if isinstance(answer, MessageAnswer):
        return answer.text
    if isinstance(answer, ListAnswer):
        return list_text(answer)
    if isinstance(answer, PreviewAnswer):
        if answer.digest is None:
            return f"Nothing is subscribed in {answer.where}: `/news subscribe <topic>` starts one."
        from bot.render.digest_blocks import digest_text

        return digest_text(answer.digest, title="Preview of the next digest")
    if isinstance(answer, SettingsAnswer):
        return "\n".join(settings_lines(answer))
    if isinstance(answer, SimilarAnswer):
        return (f"More like “{one_line(answer.title)}”:\n"
                + _render(SearchAnswer(answer.result), now))
    assert isinstance(answer, SearchAnswer)
    result = answer.result
    if not result.hits:
        return result.message or "Nothing found."
    lines = []
    for n, hit in enumerate(result.hits, start=result.offset + 1):
        a = hit.article
        lines.append(f"{n}. {one_line(a['title'])}")
        lines.append(f"   {one_line(a['provider'])} · {age(a['published_ts'], now)} · "
                     f"{one_line(a['web_url'])}")
        if a["excerpt"]:
            lines.append(f"   {one_line(trim(a['excerpt'], 200))}")
        outlets = also_outlets(hit)
        if outlets:
            lines.append(f"   also: {one_line(', '.join(outlets))}")
    shown = result.offset + len(result.hits)
    lines.append(f"({shown} of {result.total} stories)")
    return "\n".join(lines)


def subscription_line(sub: dict) -> str:
    line = f"{sub['topic']} · daily at {sub['hour']:02d}:{sub['minute']:02d} ({sub['tz']})"
    if sub.get("paused_reason"):
        line += f" · paused: {sub['paused_reason']} ({code('/news resume ' + sub['topic'])})"
    return line


def list_text(answer: ListAnswer) -> str:
    if not answer.subscriptions:
        return f"No subscriptions in {answer.where}. Try `/news subscribe <topic>`."
    lines = [f"Subscriptions in {answer.where}:"]
    lines += [f"  • {subscription_line(s)}" for s in answer.subscriptions]
    return "\n".join(lines)


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
        lines.append(f"  • muted: {count} outlet{'' if count == 1 else 's'}, below — "
                     f"`/news unmute <outlet>{here}`")
    else:
        lines.append(f"  • muted: none — `/news mute <outlet or domain>{here}`")
    return lines


def mute_name(mute: dict) -> str:
    return f"{mute['label']} ({mute['domain']})"
