"""The App Home tab: a user's follows, settings and channel subscriptions, with controls, and
the health of the first live sources (``bot.render.sources``).

Within Block Kit's 100-block limit for views: follows are paged (``HomeAnswer.page``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.answers import HomeAnswer
from bot.core.markup import strong
from bot.core.preferences import ITEMS_RANGE
from bot.render.common import escape, escape_trimmed, pause_mrkdwn
from bot.render.kit import MAX_VIEW_BLOCKS, Blocks, button, context, section
from bot.render.sources import home_sources

HOME_UNFOLLOW = "home_unfollow"
HOME_PAGE = "home_page"
HOME_ITEMS = "home_items"
HOME_TIME = "home_time"
HOME_WEEKENDS = "home_weekends"
HOME_UNMUTE = "home_unmute"
HOME_UNSUBSCRIBE = "home_unsubscribe"
HOME_RESUME = "home_resume"
RESUME_DM = "dm"  # a Resume button's value for the user's DM digest; a channel's is JSON
HOME_ACTIONS = (
    HOME_UNFOLLOW,
    HOME_PAGE,
    HOME_ITEMS,
    HOME_TIME,
    HOME_WEEKENDS,
    HOME_UNMUTE,
    HOME_UNSUBSCRIBE,
    HOME_RESUME,
)
MAX_MUTES_SHOWN = 10
MAX_CHANNELS_NAMED = 20
MAX_PAUSED_SHOWN = 5  # paused channels with a Resume button; the rest are named
PAUSE_CHARS = 1000
_MENTION = re.compile(r"<#[A-Z0-9][A-Z0-9_]{0,39}>")


def _when(sub: dict[str, Any]) -> str:
    line = f"{sub['hour']:02d}:{sub['minute']:02d} ({sub['tz']})"
    if sub.get("paused_reason"):
        line += " · paused"
    return escape(line)


def notice_mrkdwn(notice: str, mentions: tuple[str, ...] = ()) -> str:
    """The notice, escaped (it may quote a topic), but for the channel mentions it was given
    (``<#C123>``: the channel a Home control acted on) which stay links."""
    out = escape_trimmed(notice, 2000)
    for mention in mentions:
        if _MENTION.fullmatch(mention):
            out = out.replace(escape(mention), mention)
    return out


def follows_line(home: HomeAnswer) -> str:
    """'*Your follows* (3) — one DM digest of them every day at 21:10 (Europe/London).'"""
    s = home.settings
    days = "on weekdays" if s.skip_weekends else "every day"
    when = f"{days} at {escape(s.schedule or 'your digest time')}"
    if home.follows_total:
        return (
            f"*Your follows* ({home.follows_total}) — one DM digest of them {when}. "
            "Add one with `/news follow &lt;topic&gt;`."
        )
    return f"*Your follows* (0) — `/news follow &lt;topic&gt;` sends you a DM digest of it {when}."


def _paused_channels(home: HomeAnswer) -> Blocks:
    """A Resume button for each paused channel the user subscribed (the first few), saying
    why it is paused and since when."""
    subs = home.channel_subscriptions + home.more_channel_subscriptions
    first: dict[str, dict[str, Any]] = {}
    for sub in subs:
        if sub.get("paused_reason"):
            first.setdefault(sub["channel_id"], sub)
    blocks: Blocks = []
    for channel, sub in list(first.items())[:MAX_PAUSED_SHOWN]:
        mention = f"<#{escape(channel)}>"
        value = json.dumps({"c": channel})
        blocks.append(
            section(
                f"{mention} is {pause_mrkdwn(sub, PAUSE_CHARS, where='it')}",
                accessory=button("Resume", HOME_RESUME, value),
            )
        )
    rest = list(first)[MAX_PAUSED_SHOWN:]
    if rest:
        named = ", ".join(f"<#{escape(c)}>" for c in rest[:MAX_CHANNELS_NAMED])
        blocks.append(context(f"Also paused: {named}: `/news resume` in each resumes it."))
    return blocks


def home_view(
    home: HomeAnswer, notice: str | None = None, mentions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The Home view; ``notice`` (what the last change did, or why not) shows at the top, the
    channel ``mentions`` in it as links."""
    s = home.settings
    blocks: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Your news"}}]
    if notice:
        blocks.append(context(notice_mrkdwn(notice, mentions)))

    blocks.append(section(follows_line(home)))
    paused = next((f for f in home.follows if f.get("paused_reason")), None)
    if paused is not None:
        blocks.append(
            section(
                f"Your DM digest is {pause_mrkdwn(paused, PAUSE_CHARS, where='your DM')}",
                accessory=button("Resume", HOME_RESUME, RESUME_DM),
            )
        )
    for follow in home.follows:
        blocks.append(
            section(
                f"• {strong(escape_trimmed(follow['topic'], 200))} · {_when(follow)}",
                accessory=button("Unfollow", HOME_UNFOLLOW, follow["topic"]),
            )
        )
    if home.pages > 1:
        nav = []
        if home.page > 0:
            nav.append(button("← Previous", HOME_PAGE, str(home.page - 1)))
        if home.page + 1 < home.pages:
            nav.append(button("Next →", HOME_PAGE, str(home.page + 1)))
        blocks.append(context(f"Page {home.page + 1} of {home.pages}"))
        blocks.append({"type": "actions", "elements": nav})
    blocks.append({"type": "divider"})

    blocks.append(section("*Your settings*"))
    lo, hi = ITEMS_RANGE
    options = [
        {"text": {"type": "plain_text", "text": str(n)}, "value": str(n)} for n in range(lo, hi + 1)
    ]
    current = next(o for o in options if o["value"] == str(min(max(s.items, lo), hi)))
    blocks.append(
        section(
            "Items per digest",
            accessory={
                "type": "static_select",
                "action_id": HOME_ITEMS,
                "options": options,
                "initial_option": current,
            },
        )
    )
    hour_minute = (s.schedule or "08:00").split(" ")[0]
    blocks.append(
        section(
            f"Digest time · {escape(s.schedule or hour_minute)}",
            accessory={
                "type": "timepicker",
                "action_id": HOME_TIME,
                "initial_time": hour_minute,
                "placeholder": {"type": "plain_text", "text": "Digest time"},
            },
        )
    )
    if s.skip_weekends:
        blocks.append(
            section(
                "Weekends: no digest", accessory=button("Send at weekends", HOME_WEEKENDS, "send")
            )
        )
    else:
        blocks.append(
            section(
                "Weekends: a digest every day",
                accessory=button("Skip weekends", HOME_WEEKENDS, "skip"),
            )
        )
    if s.mutes:
        for mute in s.mutes[:MAX_MUTES_SHOWN]:
            label = escape_trimmed(f"{mute['label']} ({mute['domain']})", 300)
            blocks.append(
                section(f"Muted: {label}", accessory=button("Unmute", HOME_UNMUTE, mute["domain"]))
            )
        if len(s.mutes) > MAX_MUTES_SHOWN:
            blocks.append(
                context(
                    f"… and {len(s.mutes) - MAX_MUTES_SHOWN} more: `/news settings` lists them all"
                )
            )
    else:
        blocks.append(context("No muted outlets. `/news mute &lt;outlet or domain&gt;` hides one."))
    blocks.append({"type": "divider"})

    total = len(home.channel_subscriptions) + len(home.more_channel_subscriptions)
    blocks.append(section(f"*Channel subscriptions you made* ({total})"))
    if not home.channel_subscriptions:
        blocks.append(context("None. In a channel: `/news subscribe &lt;topic&gt;`."))
    blocks += _paused_channels(home)
    for sub in home.channel_subscriptions:
        value = json.dumps({"c": sub["channel_id"], "t": sub["topic"]}, ensure_ascii=False)
        accessory = button("Unsubscribe", HOME_UNSUBSCRIBE, value) if len(value) <= 2000 else None
        blocks.append(
            section(
                f"• <#{escape(sub['channel_id'])}> {strong(escape_trimmed(sub['topic'], 200))} · "
                f"{_when(sub)}",
                accessory=accessory,
            )
        )
    if home.more_channel_subscriptions:
        rest = home.more_channel_subscriptions
        channels = list(dict.fromkeys(sub["channel_id"] for sub in rest))
        named = ", ".join(f"<#{escape(c)}>" for c in channels[:MAX_CHANNELS_NAMED])
        if len(channels) > MAX_CHANNELS_NAMED:
            named += f" and {len(channels) - MAX_CHANNELS_NAMED} more channels"
        blocks.append(
            context(
                f"… and {len(rest)} more, in {named}: `/news list` in a channel "
                "shows all of its subscriptions."
            )
        )
    blocks.append({"type": "divider"})
    blocks += home_sources(home.sources, home.more_sources)
    if len(blocks) > MAX_VIEW_BLOCKS:  # cannot happen with the page sizes above; stay valid
        blocks = blocks[: MAX_VIEW_BLOCKS - 1] + [context("… more in `/news list`")]
    # Slack sends private_metadata back with each action: a change keeps the page it was made on.
    return {"type": "home", "blocks": blocks, "private_metadata": json.dumps({"page": home.page})}


def home_error_view() -> dict[str, Any]:
    """What the Home tab shows when it cannot be built (the error is logged)."""
    return {
        "type": "home",
        "blocks": [
            section(
                "Sorry, your news could not be shown just now. "
                "Please open this tab again in a moment."
            )
        ],
    }
