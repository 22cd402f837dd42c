"""Carrying out a parsed command against the store: the core both Slack and the shell call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.answers import Answer, HelpAnswer, MessageAnswer, SearchAnswer
from bot.core.commands import Command, CommandError, parse
from bot.core.search import search
from storage.store import Store

Clock = Callable[[], dt.datetime]

PAGE_SIZE = 5


@dataclass
class Context:
    """Who asks, and where (Slack ids; the shell uses stand-ins)."""

    team_id: str = "local"
    channel_id: str = "shell"
    user_id: str = "you"
    is_dm: bool = False


class NewsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def handle_text(self, text: str, ctx: Context) -> Answer:
        try:
            command = parse(text)
        except CommandError as exc:
            return MessageAnswer(str(exc), ok=False)
        return self.handle(command, ctx)

    def handle(self, command: Command, ctx: Context) -> Answer:
        if command.name == "help":
            return HelpAnswer(command.hint)
        if command.name == "search":
            return self.search(command.text, ctx)
        return MessageAnswer(
            f"`/news {command.name}` works in Slack; this console only searches for now.",
            ok=False,
        )

    def search(self, query: str, ctx: Context, offset: int = 0) -> SearchAnswer:
        result = search(self.store, query, limit=PAGE_SIZE, offset=offset, now=self.clock())
        return SearchAnswer(result)
