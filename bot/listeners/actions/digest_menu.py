"""The menu on each digest entry: "Mute <outlet>" and "More like this", answered privately."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.core.commands import Command
from bot.listeners.deps import Deps, Reply, article_id, context_from, json_value, unplaced
from bot.render.blocks import message_blocks, render


def _choice(body: dict[str, Any]) -> dict[str, Any]:
    """``{"l": article id}`` or ``{"m": domain}``, as rendered; ValueError for anything else."""
    action = (body.get("actions") or [{}])[0]
    option = action.get("selected_option")
    raw = (option.get("value") if isinstance(option, dict) else None) or action.get("value")
    value = json_value(raw, limit=500)
    if not isinstance(value, dict):
        raise ValueError("not a menu value")
    if "l" in value:
        number = article_id(value["l"])  # an article id; anything else is stale or forged
        if number is None:
            raise ValueError("not an article id")
        return {"l": number}
    domain = value.get("m")
    if (
        not isinstance(domain, str)
        or not 0 < len(domain) <= 253
        or not domain.isprintable()
        or any(c.isspace() for c in domain)
    ):
        raise ValueError("not a domain")
    return {"m": domain}


def tune(deps: Deps) -> Callable[..., None]:
    def on_tune(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: _tune(deps, body))

    return on_tune


def _tune(deps: Deps, body: dict[str, Any]) -> Reply:
    ctx = context_from(body)
    if problem := unplaced(ctx):
        return problem
    try:
        choice = _choice(body)
    except ValueError:
        return message_blocks("That menu has expired.")
    service = deps.service
    if "l" in choice:
        return render(service.similar(choice["l"], ctx), service.clock())
    domain = choice["m"]
    # In a channel's digest the mute is the channel's; in a DM digest, the person's.
    return deps.reply(Command("mute", f"{domain} here" if not ctx.is_dm else domain), ctx)
