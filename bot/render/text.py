"""Terminal renderer: answers as readable text (used by the shell and the CLI)."""

from __future__ import annotations

import datetime as dt

from bot.core.answers import (
    Answer,
    HelpAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
    code,
)
from bot.core.commands import SUBCOMMANDS
from bot.core.search import StoryHit


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
        return f"More like “{answer.title}”:\n" + render(SearchAnswer(answer.result), now)
    assert isinstance(answer, SearchAnswer)
    result = answer.result
    if not result.hits:
        return result.message or "Nothing found."
    lines = []
    for n, hit in enumerate(result.hits, start=result.offset + 1):
        a = hit.article
        lines.append(f"{n}. {a['title']}")
        lines.append(f"   {a['provider']} · {age(a['published_ts'], now)} · {a['web_url']}")
        if a["excerpt"]:
            lines.append(f"   {trim(a['excerpt'], 200)}")
        outlets = also_outlets(hit)
        if outlets:
            lines.append(f"   also: {', '.join(outlets)}")
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
