"""Live sources in Block Kit: ``/news sources`` as a message and the App Home's "News sources"
section, each source with its health (state, last success as Slack's date token, the last
error in plain words, items in the last 7 days, topics, who added it).

Everything about a source comes from outside (a feed's title, its address, a server's error,
topics typed by whoever added it), so each is made inert: :func:`inert` escapes it and swaps
mrkdwn's formatting marks for look-alikes, and an address is shown in a code span. Many sources
never break a message: a message shows the first ``SOURCES_PER_MESSAGE`` and counts the rest,
which ``newsbot sources list`` lists.
"""

from __future__ import annotations

import datetime as dt

from bot.core.answers import SourceHealth, SourcesAnswer
from bot.render.common import escape_trimmed, source_adder, source_error, source_state
from bot.render.kit import MAX_BLOCKS, SECTION_TEXT, Blocks, context, section, slack_date

SOURCES_PER_MESSAGE = MAX_BLOCKS - 4  # a section each, after a heading, before two contexts
HOME_LINE_CHARS = 600  # one source's line on the Home tab, at most
TITLE_CHARS = 150
ADDRESS_CHARS = 300
ERROR_CHARS = 200
TOPICS_CHARS = 200
MORE_HINT = "`newsbot sources list`"
ADD_HINT = "`/news source add &lt;url&gt; [topic ...]` adds a feed"

ICONS = {
    "ok": ":large_green_circle:",
    "quiet": ":white_circle:",
    "new": ":hourglass_flowing_sand:",
    "failing": ":warning:",
    "paused": ":double_vertical_bar:",
    "gone": ":x:",
}

# mrkdwn's marks (bold, italic, strike, code) and look-alikes that Slack reads as nothing:
# escaping (&, <, >) stops mentions and links, but not ``*bold*`` in a feed's title.
_INERT = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def inert(text: str, limit: int) -> str:
    """Text from outside as mrkdwn that formats, mentions and links nothing, in ``limit``."""
    return escape_trimmed(text, limit).translate(_INERT)


def address_code(address: str, limit: int = ADDRESS_CHARS) -> str:
    """An address in a code span (where mrkdwn formats nothing), escaped; a backtick, which
    would end the span, as %60 (the same address)."""
    return "`" + escape_trimmed(address.replace("`", "%60"), limit) + "`"


def when(moment: dt.datetime | None) -> str:
    return "never" if moment is None else slack_date(int(moment.timestamp()))


def adder(added_by: str) -> str:
    words, user = source_adder(added_by)
    return f"<@{user}>" if user else inert(words, 100)


def source_text(health: SourceHealth) -> str:
    """One source for ``/news sources``: its name and address, then its health, its last
    error when it still holds, its topics and who added it."""
    source, state = health.source, source_state(health)
    name = f" {inert(source.title, TITLE_CHARS)} ·" if source.title else ""
    lines = [
        f"{ICONS[state]} *#{source.id}*{name} {address_code(source.address)}",
        f"{state} · last success {when(source.last_success_at)} · "
        f"{health.items_last_7_days} new in 7 days · {source.kind}",
    ]
    error = source_error(health)
    if error:
        since = source.failing_since or source.last_error_at
        tail = f" (since {when(since)})" if since else ""
        lines.append(f"last error: {inert(error, ERROR_CHARS)}{tail}")
    topics = f"topics: {inert(', '.join(source.topics), TOPICS_CHARS)} · " if source.topics else ""
    lines.append(f"{topics}added by {adder(source.added_by)}")
    return "\n".join(lines)[:SECTION_TEXT]


def sources_blocks(answer: SourcesAnswer) -> tuple[str, Blocks]:
    """``/news sources``: a section per source, the first SOURCES_PER_MESSAGE of them."""
    total = len(answer.sources)
    if not total:
        text = (
            f"No news sources yet. {ADD_HINT}; folders are added on newsbot's server: "
            "`newsbot sources add PATH`."
        )
        return "No news sources yet.", [section(text)]
    failing = sum(source_state(h) in ("failing", "gone") for h in answer.sources)
    head = f"*News sources* ({total}" + (f", {failing} failing or gone)" if failing else ")")
    blocks: Blocks = [section(head)]
    blocks += [section(source_text(h)) for h in answer.sources[:SOURCES_PER_MESSAGE]]
    if total > SOURCES_PER_MESSAGE:
        blocks.append(context(f"… and {total - SOURCES_PER_MESSAGE} more: {MORE_HINT}"))
    blocks.append(context(f"{ADD_HINT} · `/news source remove &lt;id&gt;` removes one"))
    return f"{total} news source{'' if total == 1 else 's'}", blocks


def home_line(health: SourceHealth) -> str:
    """One source on the Home tab, on one line: state, name, last success, new items, the
    error when it still holds."""
    source, state = health.source, source_state(health)
    name = inert(source.title, 80) if source.title else address_code(source.address, 100)
    line = (
        f"{ICONS[state]} {name} · last success {when(source.last_success_at)} · "
        f"{health.items_last_7_days} new in 7 days"
    )
    error = source_error(health)
    if error:
        line += f" · {inert(error, 100)}"
    return line[:HOME_LINE_CHARS]


def home_sources(shown: list[SourceHealth], more: int) -> Blocks:
    """The Home tab's "News sources" section: a line each, packed in sections, the rest
    counted (``/news sources`` lists them)."""
    total = len(shown) + more
    blocks: Blocks = [section(f"*News sources* ({total})")]
    if not shown:
        blocks.append(context(f"None yet. {ADD_HINT}."))
        return blocks
    chunk: list[str] = []
    for line in map(home_line, shown):
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_TEXT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    if more:
        blocks.append(context(f"… and {more} more: `/news sources` lists them all"))
    return blocks
