"""Block Kit renderer: answers as Slack messages, within Block Kit's limits and escaped.

Every function returns ``(text, blocks)``: ``text`` is the notification fallback.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from bot.core.answers import (
    Answer,
    HelpAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
    SourcesAnswer,
)
from bot.core.commands import MAX_TOPIC_CHARS, SUBCOMMANDS
from bot.core.markup import strong
from bot.core.search import SearchResult, StoryHit
from bot.render.common import (
    also_outlets,
    escape,
    escape_trimmed,
    mute_name,
    settings_lines,
    subscription_mrkdwn,
)
from bot.render.digest_blocks import digest_message
from bot.render.kit import (
    BUTTON_VALUE,
    MAX_BLOCKS,
    SECTION_TEXT,
    Blocks,
    button,
    context,
    link,
    section,
    slack_date,
)
from bot.render.sources import sources_blocks
from bot.render.words import plural

# action_ids: bot/listeners/actions registers one listener for each.
ACTION_SUBSCRIBE = "news_subscribe"
ACTION_MORE = "news_more"
ACTION_SHARE = "news_share"
ACTIONS = (ACTION_SUBSCRIBE, ACTION_MORE, ACTION_SHARE)

EXCERPT_CHARS = 280
OUTLET_CHARS = 100  # an outlet's name, however long, leaves room for the time and excerpt
TITLE_CHARS = 200


def story_text(hit: StoryHit) -> str:
    """One story as mrkdwn: linked headline, outlet · time (Slack's date token: a shared story
    stays in its channel, and an answer on screen, so each reader sees a true time in their
    own zone), excerpt, other outlets."""
    a = hit.article
    lines = [f"*{link(a['web_url'], a['title'], TITLE_CHARS + 400)}*"]
    lines.append(
        f"{escape_trimmed(a['provider'] or a['domain'] or '', OUTLET_CHARS)} · "
        f"{slack_date(a['published_ts'])}"
    )
    if a["excerpt"]:
        lines.append(escape_trimmed(a["excerpt"], EXCERPT_CHARS))
    outlets = also_outlets(hit)
    if outlets:
        lines.append("_also: " + escape_trimmed(", ".join(outlets), 300) + "_")
    return "\n".join(lines)[:SECTION_TEXT]


# Two blocks a story, around a heading, a count and the buttons: the most stories one answer
# holds (the largest search.page_size).
STORIES_PER_MESSAGE = (MAX_BLOCKS - 3) // 2


def search_blocks(
    result: SearchResult,
    now: dt.datetime,
    *,
    title: str | None = None,
    buttons: bool = True,
    where: str = "this channel",
) -> tuple[str, Blocks]:
    query = result.query
    if not result.hits:
        text = escape(result.message or "Nothing found.")
        return text, [section(text)]
    heading = title or f"Top stories for “{escape_trimmed(query, 200)}”"
    blocks: Blocks = [section(strong(heading))]
    if result.note:
        blocks.append(context(escape_trimmed(result.note, 300)))
    # search.page_size is at most STORIES_PER_MESSAGE; a larger page (a caller's own limit)
    # shows what fits, and More takes up from there.
    hits = result.hits[:STORIES_PER_MESSAGE]
    result = replace(result, hits=hits)
    for hit in result.hits:
        share = button("Share in channel", ACTION_SHARE, str(hit.article["id"]))
        blocks.append(section(story_text(hit), accessory=share))
        blocks.append({"type": "divider"})
    shown_to = result.offset + len(result.hits)
    blocks.append(context(_shown_range(result.offset + 1, shown_to, result.total)))
    elements = []
    topic = " ".join(query.split())
    if buttons and len(topic) <= MAX_TOPIC_CHARS:
        elements.append(button(f"Subscribe {where} to {topic}", ACTION_SUBSCRIBE, topic, "primary"))
    more_value = _more_value(query, shown_to, result)
    if buttons and result.has_more and more_value is not None:
        elements.append(button("More", ACTION_MORE, more_value))
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    text = escape(f"{plural(len(result.hits), 'story', 'stories')} for “{query[:100]}”")
    return text, blocks[:MAX_BLOCKS]


def _shown_range(first: int, last: int, total: int) -> str:
    """'Stories 1–5 of 20', 'Story 6 of 6', '1 story'."""
    if first == last == total == 1:
        return "1 story"
    if first == last:
        return f"Story {first} of {total}"
    return f"Stories {first}–{last} of {total}"


def _more_value(query: str, shown_to: int, result: SearchResult) -> str | None:
    """What More carries: the query, where the next page starts ("o"), the first page's moment
    ("t") and the articles shown so far ("s"), so the next page never shows a story again; when
    that is too long for a button, only the query, the offset and the moment (the next page is
    then cut at the offset of a ranking as of the same moment); None when even that is."""
    base: dict[str, Any] = {"q": query, "o": shown_to}
    if result.moment is not None:
        base["t"] = int(result.moment)
    for value in ({**base, "s": result.shown}, base):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if len(text) <= BUTTON_VALUE:
            return text
    return None


def help_blocks(hint: str | None = None) -> tuple[str, Blocks]:
    lines = [f"`{escape(s.usage)}`  {escape(s.help)}" for s in SUBCOMMANDS]
    blocks: Blocks = []
    if hint:
        blocks.append(section(escape(hint)))
    blocks.append(section("*newsbot commands*\n" + "\n".join(lines)))
    return escape(hint or "newsbot commands"), blocks


def list_blocks(answer: ListAnswer) -> tuple[str, Blocks]:
    if not answer.subscriptions:
        text = escape(f"No subscriptions in {answer.where}. Try `/news subscribe <topic>`.")
        return text, [section(text)]
    header = f"*Subscriptions in {escape(answer.where)}*"
    lines = ["• " + subscription_mrkdwn(s, SECTION_TEXT - 10) for s in answer.subscriptions]
    blocks: Blocks = [section(header)]
    blocks += chunked_sections(lines, MAX_BLOCKS - len(blocks))
    return f"{plural(len(answer.subscriptions), 'subscription')} in {answer.where}", blocks


MUTE_CHARS = 300  # one muted outlet's line


def settings_blocks(answer: SettingsAnswer) -> tuple[str, Blocks]:
    """The settings, then every muted outlet on its own line, in as many sections as they
    need (a long list is never squeezed into one line or cut off unsaid)."""
    head = settings_lines(answer, list_mutes=False)
    blocks: Blocks = [section(escape("\n".join(head)))]
    mutes = ["• " + escape_trimmed(mute_name(m), MUTE_CHARS) for m in answer.mutes]
    blocks += chunked_sections(mutes, MAX_BLOCKS - len(blocks))
    return escape(head[0]), blocks


def chunked_sections(lines: list[str], room: int) -> Blocks:
    """``lines`` (escaped mrkdwn) in sections of up to SECTION_TEXT characters, at most
    ``room`` blocks; what does not fit is counted in a closing context."""
    blocks: Blocks = []
    chunk: list[str] = []
    for n, line in enumerate(lines):
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_TEXT:
            if len(blocks) + 2 >= room:
                blocks.append(section("\n".join(chunk)))
                blocks.append(context(f"… and {len(lines) - n} more"))
                return blocks
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def message_blocks(text: str) -> tuple[str, Blocks]:
    safe = escape_trimmed(text, SECTION_TEXT)
    return safe, [section(safe)]


def render(answer: Answer, now: dt.datetime) -> tuple[str, Blocks]:
    if isinstance(answer, HelpAnswer):
        return help_blocks(answer.hint)
    if isinstance(answer, SearchAnswer):
        return search_blocks(answer.result, now, where=answer.where)
    if isinstance(answer, SimilarAnswer):
        title = f"More like “{escape_trimmed(answer.title, 150)}”"
        return search_blocks(answer.result, now, title=title, buttons=False)
    if isinstance(answer, ListAnswer):
        return list_blocks(answer)
    if isinstance(answer, PreviewAnswer):
        if answer.digest is None:
            return message_blocks(
                f"Nothing is subscribed in {answer.where}: "
                "`/news subscribe <topic>` starts a daily digest."
            )
        message = digest_message(answer.digest, preview=True)
        return message.text, message.blocks
    if isinstance(answer, SettingsAnswer):
        return settings_blocks(answer)
    if isinstance(answer, SourcesAnswer):
        return sources_blocks(answer)
    assert isinstance(answer, MessageAnswer)
    return message_blocks(answer.text)


def shared_story_blocks(
    article: dict[str, Any], user_id: str, now: dt.datetime
) -> tuple[str, Blocks]:
    """A story posted publicly by a user's "Share in channel" (its time is Slack's date
    token, so ``now`` shapes nothing: the callers' signature is the renderers' own)."""
    hit = StoryHit(article["story_id"], 0.0, article)
    text = escape_trimmed(article["title"], 150)
    return text, [section(story_text(hit)), context(f"Shared by <@{escape(user_id)}>")]
