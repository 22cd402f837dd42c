"""``/news``: acknowledge at once, then answer privately through ``respond``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.core.commands import CommandError, parse
from bot.listeners.deps import Deps, Reply, add_user_info, context_from, slack_text
from bot.render.blocks import message_blocks, render


def handle_news(deps: Deps) -> Callable[..., None]:
    def news(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: answer(deps, command))

    return news


def answer(deps: Deps, command: dict[str, Any]) -> Reply:
    ctx = context_from(command)
    service = deps.service
    try:
        parsed = parse(slack_text(command.get("text")))
    except CommandError as exc:
        return message_blocks(str(exc))
    if service.needs_user_info(parsed, ctx):
        add_user_info(ctx, deps.client)
    return render(service.handle(parsed, ctx), service.clock())
