"""The language and the service's front: ``SUBCOMMANDS`` gathered from the areas, ``parse``
(text to a Command, by those declarations) and :class:`NewsService`, which runs a Command with
the handler declared for it, checking ``subscriptions.admins_only`` first.

The order of ``SUBCOMMANDS`` (the help's, the README's) is the order of the areas below, then
of the handlers in each area's class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from bot.core.answers import (
    Answer,
    HelpAnswer,
    HomeAnswer,
    MessageAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
)
from bot.core.digest import DigestSettings
from bot.core.grammar import Command, CommandError, did_you_mean, nothing, words_of
from bot.core.service.base import (
    Area,
    ChangeHook,
    Clock,
    Context,
    Settings,
    Subcommand,
    subcommand,
    undeclared,
)
from bot.core.service.follows import Follows
from bot.core.service.home import Home
from bot.core.service.preferences import Preferences
from bot.core.service.search import Searches
from bot.core.service.sources import Sources
from bot.core.service.subscriptions import Subscriptions
from storage.store import Store


class Help(Area):
    @subcommand("help", "/news help", "this help", read=nothing, words=("help", "?"))
    def show_help(self, command: Command, ctx: Context) -> HelpAnswer:
        return HelpAnswer(command.hint)


AREAS: tuple[type[Area], ...] = (
    Searches,
    Subscriptions,
    Follows,
    Preferences,
    Sources,
    Home,
    Help,
)


def _gather(areas: tuple[type[Area], ...]) -> tuple[Subcommand, ...]:
    """Every area's subcommands, in order; refused at import when two share a name or a word,
    when search (the subcommand no word names) is not exactly one, or one is declared outside
    an area."""
    subcommands = tuple(s for area in areas for s in area.subcommands)
    names = [s.name for s in subcommands]
    words = [w for s in subcommands for w in s.words]
    if len(set(names)) != len(names) or len(set(words)) != len(words):
        raise RuntimeError(f"/news subcommands declared twice: {names}, {words}")
    if sum(not s.words for s in subcommands) != 1:
        raise RuntimeError("exactly one /news subcommand must take any other text (words=())")
    if stray := undeclared():
        raise RuntimeError(f"/news subcommands declared outside an Area: {stray}")
    return subcommands


SUBCOMMANDS = _gather(AREAS)
BY_NAME = {s.name: s for s in SUBCOMMANDS}
BY_WORD = {w: s for s in SUBCOMMANDS for w in s.words}
SEARCH = next(s for s in SUBCOMMANDS if not s.words)  # what any other text is
NAMES = tuple(s.name for s in SUBCOMMANDS if s.words)  # what a misspelt first word may mean


def parse(text: str) -> Command:
    """The Command ``text`` says, or CommandError with a message fit to show a person."""
    words = words_of(text)
    if not words:
        return Command("help")
    word, _, rest = words.partition(" ")
    rest = rest.strip()
    named = BY_WORD.get(word.lower())
    if named:
        return named.read(named.name, rest)
    hint = did_you_mean(word, rest, NAMES)
    if hint:
        return Command("help", hint=hint)
    return SEARCH.read(SEARCH.name, words)


Run = Callable[[Command, Context], Answer]

NOT_ADMIN = (
    "Only workspace admins and owners can change this channel's subscriptions and settings here."
)
ADMIN_UNKNOWN = (
    "Only workspace admins and owners can change this channel's subscriptions and "
    "settings here, and I could not check with Slack whether you are one. Nothing "
    "changed; please try again in a moment."
)


@dataclass
class NewsService:
    """Text in, an answer (plain data) out: the one entry point of Slack and the shell."""

    store: Store
    clock: Clock
    options: Settings = field(default_factory=Settings)
    on_change: list[ChangeHook] = field(default_factory=list)
    digest_settings: DigestSettings = field(default_factory=DigestSettings)
    searches: Searches = field(init=False, repr=False, compare=False)
    subscriptions: Subscriptions = field(init=False, repr=False, compare=False)
    follows: Follows = field(init=False, repr=False, compare=False)
    preferences: Preferences = field(init=False, repr=False, compare=False)
    homes: Home = field(init=False, repr=False, compare=False)
    sources: Sources = field(init=False, repr=False, compare=False)
    _runs: dict[str, Run] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.searches = Searches(self)
        self.subscriptions = Subscriptions(self)
        self.follows = Follows(self)
        self.preferences = Preferences(self, self.follows)
        self.sources = Sources(self)
        self.homes = Home(self, self.follows, self.preferences, self.sources)
        areas = (
            self.searches,
            self.subscriptions,
            self.follows,
            self.preferences,
            self.sources,
            self.homes,
            Help(self),
        )
        self._runs = {
            s.name: partial(s.handler, area) for area in areas for s in type(area).subcommands
        }

    # -- entry points ----------------------------------------------------------------------------

    def handle_text(self, text: str, ctx: Context) -> Answer:
        try:
            command = parse(text)
        except CommandError as exc:
            return MessageAnswer(str(exc), ok=False)
        return self.handle(command, ctx)

    def handle(self, command: Command, ctx: Context) -> Answer:
        declared = BY_NAME.get(command.name)
        if declared is None:
            return HelpAnswer(f"Unknown command “{command.name}”.")
        if (
            self.options.admins_only
            and not ctx.is_admin
            and changes_channel(declared, command, ctx)
        ):
            # a failed look-up (None) says so, not "you are no admin"
            return MessageAnswer(ADMIN_UNKNOWN if ctx.is_admin is None else NOT_ADMIN, ok=False)
        try:
            return self._runs[declared.name](command, ctx)
        except CommandError as exc:
            return MessageAnswer(str(exc), ok=False)

    def needs_user_info(self, command: Command, ctx: Context) -> bool:
        """Whether the caller should look up the user (time zone, admin) before ``handle``."""
        declared = BY_NAME.get(command.name)
        if declared is None:
            return False
        if self.options.admins_only and changes_channel(declared, command, ctx):
            return True
        return declared.needs_user_info(command)

    # -- what listeners call directly ------------------------------------------------------------

    def search(
        self,
        query: str,
        ctx: Context,
        offset: int = 0,
        *,
        moment: dt.datetime | None = None,
        shown: Sequence[int] = (),
    ) -> SearchAnswer:
        return self.searches.search(query, ctx, offset, moment=moment, shown=shown)

    def similar(self, article_id: int, ctx: Context) -> SimilarAnswer:
        return self.searches.similar(article_id, ctx)

    def refresh_user_zone(self, ctx: Context) -> bool:
        return self.follows.refresh_user_zone(ctx)

    def settings_answer(self, ctx: Context) -> SettingsAnswer:
        return self.preferences.settings_answer(ctx)

    def home(self, ctx: Context, page: int = 0) -> HomeAnswer:
        return self.homes.home(ctx, page)


def changes_channel(declared: Subcommand, command: Command, ctx: Context) -> bool:
    """Whether a command changes a channel's (not a person's) subscriptions or settings."""
    return not ctx.is_dm and declared.changes_channel(command)
