"""The buttons under search results: Subscribe, More, Share in channel."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk.errors import SlackApiError

from bot.core.commands import MAX_QUERY_CHARS, MAX_TOPIC_CHARS, Command
from bot.listeners.deps import (
    EXPIRED,
    Deps,
    Reply,
    article_id,
    context_from,
    json_value,
    unplaced,
)
from bot.render.blocks import message_blocks, render, shared_story_blocks

log = logging.getLogger("newsbot.slack")

Handler = Callable[..., None]


MAX_OFFSET = 10_000  # "More" pages through at most this many stories
MAX_SHOWN = 500  # articles shown so far a More button may carry (its value is 2,000 characters)


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    value = actions[0].get("value") if isinstance(actions[0], dict) else None
    return value if isinstance(value, str) else ""


def subscribe(deps: Deps) -> Handler:
    def on_subscribe(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _subscribe(deps, body))

    return on_subscribe


def _subscribe(deps: Deps, body: dict[str, Any]) -> Reply:
    ctx = context_from(body)
    if problem := unplaced(ctx):
        return problem
    # The button's value is the search's words: that topic exactly, never read as
    # "<topic> at HH:MM" (a search for "rates at 5%" or "ai at 7pm" subscribes to just that).
    topic = " ".join(_value(body).split())
    if not topic or len(topic) > MAX_TOPIC_CHARS:
        return message_blocks(EXPIRED)
    return deps.reply(Command("subscribe", topic), ctx)


def more(deps: Deps) -> Handler:
    def on_more(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _more(deps, body), replace_original=True)

    return on_more


def _more(deps: Deps, body: dict[str, Any]) -> Reply:
    ctx = context_from(body)
    if problem := unplaced(ctx):
        return problem
    value = json_value(_value(body))
    query = value.get("q") if isinstance(value, dict) else None
    offset = value.get("o") if isinstance(value, dict) else None
    if (
        not isinstance(query, str)
        or not query.strip()
        or len(query) > MAX_QUERY_CHARS
        or type(offset) is not int
        or not 0 <= offset <= MAX_OFFSET
    ):
        return message_blocks(EXPIRED)
    moment, shown = _continuation(value, deps.service.clock())
    answer = deps.service.search(query, ctx, offset=offset, moment=moment, shown=shown)
    return render(answer, deps.service.clock())


def _continuation(value: dict[str, Any], now: dt.datetime) -> tuple[dt.datetime | None, list[int]]:
    """The first page's moment ("t", a timestamp) and the articles shown so far ("s") from a
    More button's value; what is missing or malformed (an older button, a forged value) is
    left out: the page is then ranked now and cut at the offset."""
    moment = None
    t = value.get("t")
    if isinstance(t, int | float) and not isinstance(t, bool) and 0 < t <= now.timestamp() + 86_400:
        moment = dt.datetime.fromtimestamp(float(t), dt.UTC)
    s = value.get("s")
    shown = []
    if isinstance(s, list) and len(s) <= MAX_SHOWN:
        shown = [i for i in s if type(i) is int and 0 < i < 2**63]
    return moment, shown


def share(deps: Deps) -> Handler:
    def on_share(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _share(deps, body))

    return on_share


def _share(deps: Deps, body: dict[str, Any]) -> Reply | None:
    """Post the story in the conversation; answer privately only when that fails."""
    ctx = context_from(body)
    if problem := unplaced(ctx):
        return problem
    number = article_id(_value(body))
    article = deps.service.store.article(number) if number is not None else None
    if article is None:
        return message_blocks("That story is no longer available.")
    text, blocks = shared_story_blocks(article, ctx.user_id, deps.service.clock())
    target = ctx.user_id if ctx.is_dm else ctx.channel_id
    try:
        deps.client.chat_postMessage(
            channel=target, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        log.warning("share to %s failed: %s", target, error)
        reason = {
            "not_in_channel": "I'm not in this channel: invite me with `/invite @newsbot`.",
            "channel_not_found": "I can't post here: invite me to the channel first.",
            "is_archived": "This channel is archived.",
        }.get(error, f"Slack said {error}.")
        return message_blocks(f"Could not share the story. {reason}")
    return None
