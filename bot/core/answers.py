"""What a command answers, as plain data. Renderers (``bot.render``) turn it into Block Kit or
terminal text; nothing here knows either."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.search import SearchResult


@dataclass
class HelpAnswer:
    hint: str | None = None


@dataclass
class SearchAnswer:
    result: SearchResult


@dataclass
class MessageAnswer:
    """A plain sentence: a confirmation, or (``ok=False``) what is wrong."""

    text: str
    ok: bool = True


@dataclass
class ListAnswer:
    """A conversation's subscriptions (rows of ``Store.subscriptions``)."""

    subscriptions: list[dict[str, Any]]
    where: str  # "this channel" / "your DM"


Answer = HelpAnswer | SearchAnswer | MessageAnswer | ListAnswer
