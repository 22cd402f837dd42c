"""The menu on each digest entry: "Mute <outlet>" and "More like this", answered privately."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.core.commands import Command
from bot.listeners.deps import Deps, Reply, context_from
from bot.render.blocks import message_blocks, render


def _choice(body: dict[str, Any]) -> dict[str, Any]:
    action = (body.get("actions") or [{}])[0]
    raw = (action.get("selected_option") or {}).get("value") or action.get("value") or "{}"
    value = json.loads(raw)
    if not isinstance(value, dict) or not (value.get("m") or value.get("l")):
        raise ValueError(raw)
    if "l" in value:
        value["l"] = int(value["l"])  # an article id; anything else is a stale or forged value
    return value


def tune(deps: Deps) -> Callable[..., None]:
    def on_tune(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _tune(deps, body))

    return on_tune


def _tune(deps: Deps, body: dict[str, Any]) -> Reply:
    ctx = context_from(body)
    try:
        choice = _choice(body)
    except (ValueError, TypeError):
        return message_blocks("That menu has expired.")
    service = deps.service
    if "l" in choice:
        return render(service.similar(choice["l"], ctx), service.clock())
    domain = str(choice.get("m") or "")
    # In a channel's digest the mute is the channel's; in a DM digest, the person's.
    return deps.reply(Command("mute", f"{domain} here" if not ctx.is_dm else domain), ctx)
