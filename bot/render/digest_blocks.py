"""A digest (``bot.core.digest.Digest``) as a Slack message: the Block Kit renderer's part
for digests (the terminal's is ``bot.render.text.digest_text``).

The message: a header with the date; per story a section (escaped headline as a link,
"Outlet · <time> · also: Forbes, NYT", the topic's name over its first story) with a menu
to mute the outlet or see more like it; dividers between topics; one context line naming the
topics with nothing new; a footer. It always fits Block Kit: at most 50 blocks, and when a
digest holds more than fits, whole stories are left out and counted in a closing line.
:func:`digest_message` says which stories it shows (``shown``): only those count as
delivered, the rest can come in a later digest.

An article's time is Slack's date token (``kit.slack_date``): the post stays in the channel,
and each reader sees the time in their own zone ("today 7:15 AM", "yesterday 6:40 PM")
whenever they read it, not an age frozen at posting time.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from bot.core.digest import Digest, DigestEntry, TopicSection
from bot.core.markup import strong
from bot.render.common import escape, escape_trimmed, long_date, trim
from bot.render.kit import (
    HEADER_TEXT,
    MAX_BLOCKS,
    OPTION_TEXT,
    OPTION_VALUE,
    SECTION_TEXT,
    Blocks,
    context,
    link,
    plain,
    section,
    slack_date,
)
from bot.render.words import empty_lines, plural, quiet_line, skipped_line

# Re-exported: bot/digests/cli.py, bot/runtime.py and tests/digests import it from here.

ACTION_TUNE = "digest_tune"  # an entry's "Mute <outlet>" / "More like this" (bot/listeners/actions)

ENTRIES_PER_BLOCK = 5
TOPIC_CHARS = 150
OUTLET_CHARS = 100  # the leading outlet's name, however long, leaves room for the time
META_CHARS = 300
FALLBACK_CHARS = 3000
# Room for one entry in a section: the topic line, then ENTRIES_PER_BLOCK entries.
ENTRY_CHARS = (SECTION_TEXT - TOPIC_CHARS - 10) // ENTRIES_PER_BLOCK


@dataclass
class DigestMessage:
    text: str  # the notification / fallback text (mrkdwn, escaped)
    blocks: Blocks
    shown: Digest  # the digest as shown: what the post delivers
    left_out: int = 0  # stories that did not fit


def _topic_label(topic: str) -> str:
    return strong(escape_trimmed(topic, TOPIC_CHARS - 2))


def _meta(entry: DigestEntry) -> str:
    """'Outlet · <date token> · also: Forbes, NYT', escaped, at most META_CHARS (the token whole:
    cut, it would show as raw text)."""
    a = entry.article
    outlet = escape_trimmed(a.get("provider") or a.get("domain") or "unknown outlet", OUTLET_CHARS)
    meta = f"{outlet} · {slack_date(a.get('published_ts'))}"
    outlets = entry.outlets
    if outlets:
        also = " · also: "
        meta += also + escape_trimmed(", ".join(outlets), META_CHARS - len(meta) - len(also))
    return meta


def _entry(entry: DigestEntry, budget: int = ENTRY_CHARS) -> str:
    meta = _meta(entry)
    room = budget - len(meta) - 8  # "• ", "\n", indent
    a = entry.article
    headline = link(a.get("web_url") or a.get("url") or "", a.get("title") or "(untitled)", room)
    return f"• {headline}\n      {meta}"


def header_text(digest: Digest, preview: bool = False) -> str:
    if preview:
        return plain(
            f"Preview: your next news digest ({long_date(digest.local_date)})", HEADER_TEXT
        )
    return plain(f"News digest · {long_date(digest.local_date)}", HEADER_TEXT)


def tune_menu(entry: DigestEntry) -> dict[str, Any]:
    """The entry's accessory: an overflow menu "Mute <outlet>" / "More like this" (a plain
    "More like this" button when the outlet's domain is too long for an option's value)."""
    a = entry.article
    like = json.dumps({"l": a["id"]})
    domain = a.get("domain") or ""
    mute = json.dumps({"m": domain})
    if domain and len(mute) <= OPTION_VALUE:
        outlet = a.get("provider") or domain
        return {
            "type": "overflow",
            "action_id": ACTION_TUNE,
            "options": [
                {
                    "text": {"type": "plain_text", "text": plain(f"Mute {outlet}", OPTION_TEXT)},
                    "value": mute,
                },
                {"text": {"type": "plain_text", "text": "More like this"}, "value": like},
            ],
        }
    return {
        "type": "button",
        "action_id": ACTION_TUNE,
        "text": {"type": "plain_text", "text": "More like this"},
        "value": like,
    }


def digest_message(digest: Digest, *, preview: bool = False) -> DigestMessage:
    """The Block Kit message for ``digest`` (``preview``: the private ``/news preview``).

    One section per story, with its tuning menu; a topic's name heads its first story."""
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(digest, preview)}}
    ]
    # Keep two blocks for the closing context lines.
    room = MAX_BLOCKS - len(blocks) - 2
    shown_sections: list[TopicSection] = []
    left_out = 0
    quiet = [s.topic for s in digest.sections if not s.entries]
    for part in digest.sections:
        kept: list[DigestEntry] = []
        for n, entry in enumerate(part.entries):
            divider = n == 0 and len(blocks) > 1
            if 1 + divider > room:
                break
            if divider:
                blocks.append({"type": "divider"})
            lines = [_topic_label(part.topic)] if n == 0 else []
            lines.append(_entry(entry))
            blocks.append(section("\n".join(lines), accessory=tune_menu(entry)))
            room -= 1 + divider
            kept.append(entry)
        left_out += len(part.entries) - len(kept)
        shown_sections.append(TopicSection(part.topic, part.topic_key, kept))
    shown = replace(digest, sections=shown_sections, quiet_day=False, facts=None)
    blocks += _quiet_blocks(digest, quiet)
    if left_out:
        more = plural(left_out, "more story", "more stories")
        blocks.append(context(f"…and {more} that did not fit in one message."))
    elif not shown.is_empty:  # an empty one: _quiet_blocks said why
        blocks.append(context("Your daily digest · `/news list` where it arrives shows its topics"))
    return DigestMessage(fallback_text(shown, preview), blocks, shown, left_out)


def _quiet_blocks(digest: Digest, quiet: list[str]) -> Blocks:
    """What a skipped day, an empty digest or its quiet topics say (``bot.render.words``):
    an empty one in a section, quiet topics in one context line."""
    if digest.quiet_day:
        return [section(skipped_line(digest))]
    if digest.is_empty:
        return [section(trim_lines(empty_lines(digest, escape, slack_moment)))]
    if digest.facts is not None:
        facts = digest.facts
        said = [quiet_line(s, facts, escape) for s in digest.sections if not s.entries]
        return [context(trim_lines(said))]
    if quiet:
        names = ", ".join(escape(t) for t in quiet)
        return [context(trim(f"No other news on: {names}", 2000))]
    return []


def trim_lines(lines: list[str], limit: int = 2000) -> str:
    """Whole lines (escaped mrkdwn, never cut inside) within ``limit`` characters."""
    out: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in out) + len(line) > limit:
            out.append("…")
            break
        out.append(line)
    return "\n".join(out)


def slack_moment(moment: dt.datetime) -> str:
    """A moment as Slack's date token: each reader sees it in their own zone."""
    return slack_date(int(moment.timestamp()))


def fallback_text(digest: Digest, preview: bool = False) -> str:
    """The message's ``text``: what notifications and block-less clients show (escaped)."""
    count = len(digest.entries)
    head = "Preview: your next news digest" if preview else "News digest"
    lines = [
        f"{head} for {long_date(digest.local_date)}: {plural(count, 'new story', 'new stories')}"
    ]
    for part in digest.sections:
        for e in part.entries:
            lines.append(
                f"• {escape_trimmed(e.article.get('title') or '', 200)} "
                f"({escape_trimmed(e.article.get('provider') or '', 60)})"
            )
    out = lines[0]
    for line in lines[1:]:
        if len(out) + len(line) + 1 > FALLBACK_CHARS - 2:
            out += "\n…"
            break
        out += "\n" + line
    return out
