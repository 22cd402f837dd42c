"""The buttons under search results: Subscribe, More, Share in channel."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk.errors import SlackApiError

from bot.core.commands import MAX_TOPIC_CHARS, Command
from bot.listeners.deps import Deps, Reply, context_from
from bot.render.blocks import message_blocks, render, shared_story_blocks

log = logging.getLogger("newsbot.slack")

Handler = Callable[..., None]


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def subscribe(deps: Deps) -> Handler:
    def on_subscribe(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _subscribe(deps, body))

    return on_subscribe


def _subscribe(deps: Deps, body: dict[str, Any]) -> Reply:
    ctx = context_from(body)
    # The button's value is the search's words: that topic exactly, never read as
    # "<topic> at HH:MM" (a search for "rates at 5%" or "ai at 7pm" subscribes to just that).
    topic = " ".join(_value(body).split())
    if not topic or len(topic) > MAX_TOPIC_CHARS:
        return message_blocks("That button has expired: search again with /news.")
    return deps.reply(Command("subscribe", topic), ctx)


def more(deps: Deps) -> Handler:
    def on_more(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _more(deps, body), replace_original=True)

    return on_more


def _more(deps: Deps, body: dict[str, Any]) -> Reply:
    try:
        value = json.loads(_value(body))
        query, offset = str(value["q"]), max(0, int(value["o"]))
    except (ValueError, KeyError, TypeError):
        return message_blocks("That button has expired: search again with /news.")
    answer = deps.service.search(query, context_from(body), offset=offset)
    return render(answer, deps.service.clock())


def share(deps: Deps) -> Handler:
    def on_share(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _share(deps, body))

    return on_share


def _share(deps: Deps, body: dict[str, Any]) -> Reply | None:
    """Post the story in the conversation; answer privately only when that fails."""
    ctx = context_from(body)
    try:
        article = deps.service.store.article(int(_value(body)))
    except ValueError:
        article = None
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
