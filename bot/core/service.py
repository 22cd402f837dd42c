"""Carrying out a parsed command against the store: the core both Slack and the shell call.

Nothing here knows Slack: who asks and where comes in a :class:`Context` (the Slack listener
fills it from the request, looking up the user's time zone and admin flag when needed), and
every answer is plain data for a renderer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.answers import Answer, HelpAnswer, ListAnswer, MessageAnswer, SearchAnswer
from bot.core.commands import Command, CommandError, parse, parse_time
from bot.core.search import search
from storage.store import Store

Clock = Callable[[], dt.datetime]
ChangeHook = Callable[[str, str], None]  # (team_id, channel_key) after a subscription change

PAGE_SIZE = 5
SUBSCRIPTION_COMMANDS = frozenset({"subscribe", "unsubscribe", "resume"})


@dataclass
class Context:
    """Who asks, and where (Slack ids; the shell uses stand-ins)."""

    team_id: str = "local"
    channel_id: str = "shell"
    user_id: str = "you"
    is_dm: bool = False
    is_admin: bool | None = None  # None: not looked up
    user_tz: str | None = None  # the user's Slack time zone, when known

    @property
    def channel_key(self) -> str:
        """Where subscriptions of this conversation live: a DM's belong to the user."""
        return self.user_id if self.is_dm else self.channel_id

    @property
    def kind(self) -> str:
        return "dm" if self.is_dm else "channel"

    @property
    def where(self) -> str:
        return "your DM" if self.is_dm else "this channel"


@dataclass
class Settings:
    admins_only: bool = False
    default_time: str = "08:00"
    default_tz: str = "UTC"
    page_size: int = PAGE_SIZE

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(
            admins_only=config["subscriptions.admins_only"],
            default_time=config["digest.default_time"],
            default_tz=config["digest.default_tz"],
            page_size=config["search.page_size"],
        )


@dataclass
class NewsService:
    store: Store
    clock: Clock
    settings: Settings = field(default_factory=Settings)
    on_change: list[ChangeHook] = field(default_factory=list)

    # -- entry points ------------------------------------------------------------------------

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
        if command.name == "list":
            return self.list(ctx)
        if command.name in SUBCOMMANDS_HANDLED:
            if command.name in SUBSCRIPTION_COMMANDS and self.settings.admins_only and not ctx.is_dm:
                if not ctx.is_admin:
                    return MessageAnswer(
                        "Only workspace admins and owners can change this channel's "
                        "subscriptions here.",
                        ok=False,
                    )
            return getattr(self, command.name)(command, ctx)
        return MessageAnswer(
            f"`/news {command.name}` is not available yet. Type `/news help` for what is.",
            ok=False,
        )

    def needs_user_info(self, command: Command, ctx: Context) -> bool:
        """Whether the caller should look up the user (time zone, admin) before ``handle``."""
        if command.name not in SUBSCRIPTION_COMMANDS:
            return False
        if self.settings.admins_only and not ctx.is_dm:
            return True
        return command.name == "subscribe" and command.tz is None

    # -- commands ----------------------------------------------------------------------------

    def search(self, query: str, ctx: Context, offset: int = 0) -> SearchAnswer:
        result = search(
            self.store, query, limit=self.settings.page_size, offset=offset, now=self.clock()
        )
        return SearchAnswer(result)

    def _schedule_for(self, command: Command, ctx: Context) -> tuple[int, int, str]:
        """Explicit time/zone, else the channel's current schedule, else the subscriber's
        Slack time zone at the default time, else the configured default."""
        current = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        default_hour, default_minute = parse_time(self.settings.default_time)
        if command.hour is not None:
            hour, minute = command.hour, command.minute or 0
        elif current:
            hour, minute = current["hour"], current["minute"]
        else:
            hour, minute = default_hour, default_minute
        tz = command.tz or (current["tz"] if current else None) or ctx.user_tz
        return hour, minute, tz or self.settings.default_tz

    def subscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        hour, minute, tz = self._schedule_for(command, ctx)
        before = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        created = self.store.subscribe(
            ctx.team_id, ctx.channel_key, command.text, user_id=ctx.user_id, hour=hour,
            minute=minute, tz=tz, now=self.clock(), kind=ctx.kind,
        )
        self._changed(ctx)
        when = f"every day at {hour:02d}:{minute:02d} ({tz})"
        if created:
            text = f"Subscribed {ctx.where} to *{command.text}*: a digest {when}."
        else:
            text = f"{ctx.where.capitalize()} was already subscribed to *{command.text}*; digest {when}."
        moved = before and (before["hour"], before["minute"], before["tz"]) != (hour, minute, tz)
        if moved:
            text += " The digest time applies to all of its topics."
        return MessageAnswer(text + f" `/news unsubscribe {command.text}` stops it.")

    def unsubscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.unsubscribe(ctx.team_id, ctx.channel_key, command.text):
            self._changed(ctx)
            return MessageAnswer(f"Unsubscribed {ctx.where} from *{command.text}*.")
        return MessageAnswer(
            f"{ctx.where.capitalize()} is not subscribed to *{command.text}*. "
            "`/news list` shows its subscriptions.",
            ok=False,
        )

    def resume(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.resume(ctx.team_id, ctx.channel_key, command.text):
            self._changed(ctx)
            return MessageAnswer(f"Resumed *{command.text}* in {ctx.where}.")
        return MessageAnswer(
            f"No paused subscription to *{command.text}* in {ctx.where}. "
            "`/news list` shows its subscriptions.",
            ok=False,
        )

    def list(self, ctx: Context) -> ListAnswer:
        return ListAnswer(self.store.subscriptions(ctx.team_id, ctx.channel_key), ctx.where)

    def _changed(self, ctx: Context) -> None:
        for hook in self.on_change:
            hook(ctx.team_id, ctx.channel_key)


SUBCOMMANDS_HANDLED = frozenset({"subscribe", "unsubscribe", "resume"})
