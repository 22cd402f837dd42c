"""What a command answers, as plain data. Renderers (``bot.render``) turn it into Block Kit or
terminal text; nothing here knows either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.digest import Digest
from bot.core.search import SearchResult
from storage.sources import Source


@dataclass
class HelpAnswer:
    hint: str | None = None


@dataclass
class SearchAnswer:
    result: SearchResult
    where: str = "this channel"  # what its Subscribe button subscribes: "your DM" in a DM


@dataclass
class SimilarAnswer:
    """Stories like one article: a search result with no query to subscribe to."""

    title: str
    result: SearchResult


@dataclass
class MessageAnswer:
    """A sentence: a confirmation, or (``ok=False``) what is wrong. Its words may hold the
    marks of ``bot.core.markup`` (a topic in ``*strong*``, a command in ```code```)."""

    text: str
    ok: bool = True


@dataclass
class ListAnswer:
    """A conversation's subscriptions (rows of ``Store.subscriptions``)."""

    subscriptions: list[dict[str, Any]]
    where: str  # "this channel" / "your DM"


@dataclass
class SettingsAnswer:
    """A user's (in a DM) or a channel's settings, with its muted outlets."""

    where: str  # "your DM" / "this channel"
    is_dm: bool
    items: int  # per digest (user) or per topic (channel)
    skip_weekends: bool
    schedule: str | None  # "08:00 (Europe/London)", None when nothing is subscribed
    mutes: list[dict[str, Any]]


@dataclass(frozen=True)
class SourceHealth:
    """One live source (``storage.sources.Source``: state, last success, last error in plain
    words, who added it) and the articles it brought in the last 7 days."""

    source: Source
    items_last_7_days: int


@dataclass
class SourcesAnswer:
    """``/news sources``: every source with its health, first added first."""

    sources: list[SourceHealth]


@dataclass
class HomeAnswer:
    """What a user's App Home shows: one page of their follows, their settings, and the
    channel subscriptions they made."""

    follows: list[dict[str, Any]]  # this page
    follows_total: int
    page: int  # 0-based
    pages: int
    settings: SettingsAnswer
    channel_subscriptions: list[dict[str, Any]]  # the first ones
    more_channel_subscriptions: list[dict[str, Any]] = field(default_factory=list)  # the rest
    sources: list[SourceHealth] = field(default_factory=list)  # the first live sources
    more_sources: int = 0  # how many more there are


@dataclass
class PreviewAnswer:
    """``/news preview``: the conversation's next digest as it would be now (None: nothing
    is subscribed here)."""

    digest: Digest | None
    where: str


Answer = (
    HelpAnswer
    | SearchAnswer
    | SimilarAnswer
    | MessageAnswer
    | ListAnswer
    | SettingsAnswer
    | PreviewAnswer
    | SourcesAnswer
)
