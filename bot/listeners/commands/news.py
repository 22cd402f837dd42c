"""``/news``: acknowledge at once, then answer privately through ``respond``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.core.commands import CommandError, parse
from bot.listeners.deps import Deps, Reply, context_from, slack_text, unplaced
from bot.render.blocks import message_blocks


def handle_news(deps: Deps) -> Callable[..., None]:
    def news(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        deps.after_ack(respond, lambda: answer(deps, command))

    return news


def answer(deps: Deps, command: dict[str, Any]) -> Reply:
    ctx = context_from(command)
    problem = unplaced(ctx)
    if problem:
        return problem
    text = command.get("text")
    try:
        parsed = parse(slack_text(text if isinstance(text, str) else ""))
    except CommandError as exc:
        return message_blocks(str(exc))
    return deps.reply(parsed, ctx)
