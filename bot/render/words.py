"""Words both renderers give the same digest facts: a count with its noun (:func:`plural`), an
age in words, and what an empty digest or a quiet topic says (:func:`empty_lines`,
:func:`quiet_line`), from the facts the core found (``bot.core.digest.EmptyFacts``).

Like ``bot.render.common`` it imports no other render module (the terminal renderer builds on
the two alone). Its sentences hold the core's markup (``*strong*`` topics, ```code```
commands); each renderer passes how to escape a value from outside (``esc``) and how to show
a moment (``moment``: a terminal's text, Slack's date token).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.core import schedule
from bot.core.digest import Digest, EmptyFacts, TopicSection
from bot.core.markup import code, strong

Escape = Callable[[str], str]
Moment = Callable[[dt.datetime], str]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 story', '0 stories', '2 stories': every count a person reads, with its noun."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def ago(seconds: float) -> str:
    """'5 minutes ago', '3 days ago', '2 months ago', '6 years ago' ('just now' under a
    minute; a time ahead, 'in the future')."""
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    days = seconds / 86400
    for unit, size, below in (
        ("minute", 60, 3600),
        ("hour", 3600, 86400),
        ("day", 86400, 61 * 86400),
    ):
        if seconds < below:
            return plural(int(seconds // size), unit) + " ago"
    if days < 730:
        return plural(int(days // 30.44), "month") + " ago"
    return plural(int(days // 365.25), "year") + " ago"


def day_text(moment: dt.datetime) -> str:
    """'6 Feb 2020' (month names written out: strftime's follow the process's locale)."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def span_text(first: dt.datetime, last: dt.datetime) -> str:
    """'26 Jan to 6 Feb 2020', '30 Dec 2019 to 6 Jan 2020'."""
    start = day_text(first)
    if first.year == last.year:
        start = start.rsplit(" ", 1)[0]
    return f"{start} to {day_text(last)}"


def utc_text(moment: dt.datetime) -> str:
    """'Wed 5 Feb 2020 08:00 UTC'."""
    moment = moment.astimezone(dt.UTC)
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[moment.weekday()]
    return f"{weekday} {day_text(moment)} {moment:%H:%M} UTC"


def at_text(moment: dt.datetime) -> str:
    """The moment as ``--at`` takes it: '2020-02-05T08:00' (UTC, the option's default)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def when_posted(facts: EmptyFacts, tz: str) -> str:
    """When a preview's digest is posted, as a person says it: 'tomorrow at 08:00 UTC',
    'today at 21:10 Europe/London', 'on Monday 30 November at 08:00 UTC'."""
    assert facts.next_due is not None
    zone = schedule.zone(tz)
    local = facts.next_due.astimezone(zone)
    days = (local.date() - facts.window_end.astimezone(zone).date()).days
    day = {0: "today", 1: "tomorrow"}.get(days, f"on {local:%A} {local.day} {local:%B}")
    return f"{day} at {local:%H:%M} {tz}"


def quiet_line(section: TopicSection, facts: EmptyFacts, esc: Escape) -> str:
    """Why a topic has nothing in this digest, as one sentence."""
    topic = strong(esc(section.topic))
    if section.topic_key not in facts.newest:
        return f"Nothing new on {topic}."
    newest = facts.newest[section.topic_key]
    if newest is None:
        return f"No story on {topic} at all yet."
    published = dt.datetime.fromtimestamp(newest, dt.UTC)
    if published < facts.window_start:
        age = ago((facts.window_end - published).total_seconds())
        return f"Nothing new on {topic}: its newest story is from {day_text(published)}, {age}."
    return (
        f"Nothing new on {topic}: its stories of that time were sent here already "
        "(or are muted, or shown under another topic)."
    )


def window_line(facts: EmptyFacts, moment: Moment) -> str:
    """What a digest holds, in the words of how it is computed (``Composer._rank``: the
    window before its time, minus what was sent here)."""
    hours = f"{facts.window_hours:g} hours"
    if facts.next_due is not None:  # a preview: a digest posted now
        span = f"for a digest now: since {moment(facts.window_start)}"
    else:
        span = f"for this one: from {moment(facts.window_start)} to {moment(facts.window_end)}"
    return (
        f"a digest holds the stories published in the {hours} before it that were not sent "
        f"here already ({span})."
    )


def empty_lines(digest: Digest, esc: Escape, moment: Moment) -> list[str]:
    """What an empty digest (or preview) says, once explained (``digest.facts``): the window,
    each topic's newest story, whether a post is made, whether one ever was, and, on the
    bundled sample, the command that shows a full digest of it."""
    facts = digest.facts
    if facts is None:  # a digest posted all the same (digest.post_when_empty)
        topics = ", ".join(strong(esc(s.topic)) for s in digest.sections)
        return [f"Nothing new on {topics} for this digest."]
    head = "Nothing new yet: " if facts.next_due is not None else "Nothing new: "
    lines = [head + window_line(facts, moment)]
    lines += [quiet_line(s, facts, esc) for s in digest.sections]
    lines.append(posting_line(digest, facts))
    if not facts.ever_sent:
        lines.append("No digest has been posted here yet.")
    if facts.sample is not None and facts.sample_at is not None:
        lines.append(sample_line(facts))
    return lines


def posting_line(digest: Digest, facts: EmptyFacts) -> str:
    """Whether an empty digest makes a post, for the reader and (the setting) the operator."""
    setting = code(f"digest.post_when_empty: {str(facts.post_when_empty).lower()}")
    if facts.next_due is not None:
        when = when_posted(facts, digest.tz)
        if facts.post_when_empty:
            return f"An empty digest is posted all the same: {when} it would say so ({setting})."
        return (
            f"An empty digest is not posted: unless news comes, there is no post {when} "
            f"(the setting {setting})."
        )
    if facts.post_when_empty:
        return f"It is posted all the same, saying so ({setting})."
    return f"So nothing is posted for this date (the setting {setting})."


def sample_line(facts: EmptyFacts) -> str:
    """On the bundled sample: what it is, and the command whose preview is a full digest."""
    sample = facts.sample
    assert sample is not None and facts.sample_at is not None
    first = dt.datetime.fromtimestamp(sample.first_ts, dt.UTC)
    newest = dt.datetime.fromtimestamp(sample.newest_ts, dt.UTC)
    command = code(f"newsbot shell --at {at_text(facts.sample_at)}")
    return (
        f"This database holds only newsbot's bundled sample: "
        f"{plural(sample.articles, 'article')} from {span_text(first, newest)}. "
        f"To see a full digest of it, run {command} and type {code('/news preview')} there."
    )


def skipped_line(digest: Digest) -> str:
    """A weekend day the conversation skips."""
    return (
        f"Skipped: no digest on {digest.local_date:%A}s here, weekends are skipped "
        f"({code('/news settings weekends send')} changes it)."
    )
