"""Terminal renderer: answers and digests as readable text (the shell, the CLI, ``newsbot
digest --dry-run``). Of the render modules it imports ``bot.render.common`` and
``bot.render.words`` alone (what an empty digest says is worded there, for both renderers).

An article's time is a relative age ("3 hours ago"; a digest's as of its time): terminal text
is read as it is printed, by whoever ran the command. Slack messages, which stay and are read
later in every reader's zone, show Slack's date token instead (``bot.render.kit``)."""

from __future__ import annotations

import datetime as dt

from bot.core import schedule
from bot.core.answers import (
    Answer,
    HelpAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
    SourceHealth,
    SourcesAnswer,
)
from bot.core.commands import SUBCOMMANDS
from bot.core.digest import Digest
from bot.render.common import (
    age,
    also_outlets,
    long_date,
    one_line,
    settings_lines,
    source_adder,
    source_error,
    source_state,
    subscription_line,
    terminal,
    trim,
)
from bot.render.words import empty_lines, plural, quiet_line, skipped_line, utc_text

# Re-exported: bot/cli.py imports it from here.


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
        day = long_date(answer.digest.local_date)
        return digest_text(answer.digest, title=f"Preview of the next digest ({day})")
    if isinstance(answer, SettingsAnswer):
        return "\n".join(settings_lines(answer))
    if isinstance(answer, SourcesAnswer):
        return sources_text(answer)
    if isinstance(answer, SimilarAnswer):
        return f"More like “{one_line(answer.title)}”:\n" + _render(
            SearchAnswer(answer.result), now
        )
    assert isinstance(answer, SearchAnswer)
    result = answer.result
    if not result.hits:
        return result.message or "Nothing found."
    lines = [one_line(result.note)] if result.note else []
    for n, hit in enumerate(result.hits, start=result.offset + 1):
        a = hit.article
        lines.append(f"{n}. {one_line(a['title'])}")
        lines.append(
            f"   {one_line(a['provider'])} · {age(a['published_ts'], now)} · "
            f"{one_line(a['web_url'])}"
        )
        if a["excerpt"]:
            lines.append(f"   {one_line(trim(a['excerpt'], 200))}")
        outlets = also_outlets(hit)
        if outlets:
            lines.append(f"   also: {one_line(', '.join(outlets))}")
    shown = result.offset + len(result.hits)
    lines.append(f"({shown} of {plural(result.total, 'story', 'stories')})")
    return "\n".join(lines)


def list_text(answer: ListAnswer) -> str:
    if not answer.subscriptions:
        return f"No subscriptions in {answer.where}. Try `/news subscribe <topic>`."
    lines = [f"Subscriptions in {answer.where}:"]
    lines += [f"  • {subscription_line(s)}" for s in answer.subscriptions]
    return "\n".join(lines)


def sources_text(answer: SourcesAnswer) -> str:
    """Every source, three or four lines each: what it is, its health, its last error while
    it holds, its topics and who added it."""
    if not answer.sources:
        return (
            "No news sources yet: `/news source add <url> [topic ...]` adds a feed, "
            "`newsbot sources add PATH` a folder."
        )
    lines = [f"News sources ({len(answer.sources)}):"]
    for health in answer.sources:
        lines += source_lines(health)
    return "\n".join(lines)


def source_lines(health: SourceHealth) -> list[str]:
    source = health.source
    title = f" “{one_line(source.title)}”" if source.title else ""
    lines = [
        f"  #{source.id} {source_state(health)} · {source.kind} {one_line(source.address)}{title}",
        f"     last success {_utc(source.last_success_at)} · "
        f"{health.items_last_7_days} new in 7 days",
    ]
    error = source_error(health)
    if error:
        since = source.failing_since or source.last_error_at
        lines.append(
            f"     last error: {one_line(error)}" + (f" (since {_utc(since)})" if since else "")
        )
    topics = f"topics: {one_line(', '.join(source.topics))} · " if source.topics else ""
    lines.append(f"     {topics}added by {one_line(source_adder(source.added_by)[0])}")
    return lines


def _utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def digest_text(digest: Digest, *, title: str | None = None) -> str:
    """The digest as terminal text (``newsbot digest --dry-run``, the local shell): every value
    from outside (headlines, outlets, addresses, topics) escaped for a terminal, one line each."""
    local = digest.due.astimezone(schedule.zone(digest.tz))
    lines = [
        title
        or f"News digest for {digest.channel_id} · {long_date(digest.local_date)} "
        f"({local:%H:%M} {digest.tz})"
    ]
    quiet: list[str] = []
    for section in digest.sections:
        if not section.entries or digest.quiet_day:
            quiet.append(section.topic)
            continue
        lines.append(f"== {one_line(section.topic)} ==")
        for n, e in enumerate(section.entries, 1):
            a = e.article
            lines.append(f"{n}. {one_line(a.get('title'))}")
            lines.append(
                f"   {one_line(a.get('provider'))} · {age(a.get('published_ts'), digest.due)} · "
                f"{one_line(a.get('web_url') or a.get('url'))}"
            )
            if e.outlets:
                lines.append(f"   also: {one_line(', '.join(e.outlets))}")
    lines += _quiet_lines(digest, quiet)
    return "\n".join(lines)


def _quiet_lines(digest: Digest, quiet: list[str]) -> list[str]:
    """What a skipped day, an empty digest or its quiet topics say (``bot.render.words``)."""
    if digest.quiet_day:
        return [skipped_line(digest)]
    if digest.is_empty:
        return empty_lines(digest, one_line, utc_text)
    if digest.facts is not None:
        return [quiet_line(s, digest.facts, one_line) for s in digest.sections if not s.entries]
    if quiet:
        return [f"No other news on: {one_line(', '.join(quiet))}"]
    return []
