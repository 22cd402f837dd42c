"""What every area of the service shares: who asks (:class:`Context`), the options
(:class:`Settings`), the :class:`Area` base over the service's store and clock, the checks a
digest time passes before it is stored, and :func:`subcommand`, which declares a ``/news``
subcommand on the handler that carries it out.

A declaration holds everything about a subcommand, in one place: its name and the words that
name it, how its arguments are read (a reader from ``bot.core.grammar``), its usage and help
line, whether it changes a channel (then ``subscriptions.admins_only`` applies) and whether
the caller should look the user up first. Each :class:`Area` subclass collects the handlers
declared in its body, in order, as ``subcommands``; ``bot.core.service.dispatch`` lists the
areas, and so the language.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FunctionType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from bot.core.answers import Answer
from bot.core.digest import DigestSettings
from bot.core.grammar import Command, CommandError, Reader
from bot.core.markup import code
from bot.core.schedule import known_zone
from storage.store import Store

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("newsbot")

Clock = Callable[[], dt.datetime]
ChangeHook = Callable[[str, str], object]  # (team_id, channel_key) after a change; result unused

PAGE_SIZE = 5


PostStatus = Literal["member", "joined", "not_member", "archived", "no_permission", "unanswered"]


@dataclass(frozen=True)
class PostCheck:
    """Whether the bot can post in a conversation, as the chat platform answered (the Slack
    layer asks: ``bot.slack.membership``): ``member`` (it is in it, or it is the person's DM),
    ``joined`` (a public channel it has just joined), ``not_member`` (it must be invited),
    ``archived``, ``no_permission`` (the app lacks ``scope`` to check or to join) or
    ``unanswered`` (the platform did not say). ``bot_name``: how to mention the bot in an
    ``/invite``."""

    status: PostStatus
    bot_name: str = "newsbot"
    scope: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("member", "joined")


# Can the bot post in the conversation this Context names (its DM when ``is_dm``)? Set by the
# Slack layer; None (the shell) means there is nothing to check.
CanPost = Callable[["Context"], PostCheck]


# The local shell's stand-in team: its conversations are the shell's, never Slack's (the
# digest runner prints them and never posts them; there is no Slack profile behind them).
LOCAL_TEAM = "local"


@dataclass
class Context:
    """Who asks, and where (Slack ids; the shell uses stand-ins)."""

    team_id: str = LOCAL_TEAM
    channel_id: str = "shell"
    user_id: str = "you"
    is_dm: bool = False
    is_admin: bool | None = None  # None: not looked up
    # the user's Slack time zone as Slack gave it, when looked up: maybe one this system's
    # zoneinfo does not know, which the service never stores (it says so and uses another)
    user_tz: str | None = None
    # asked about a conversation the person is not in (the Home tab): how to name it instead
    # of "this channel" (the Slack layer gives the channel's mention, which its renderer keeps)
    named: str | None = None
    can_post: CanPost | None = field(default=None, repr=False, compare=False)

    @property
    def local(self) -> bool:
        """The local shell: no Slack behind it (no time zone to read, nothing to check)."""
        return self.team_id == LOCAL_TEAM

    @property
    def channel_key(self) -> str:
        """Where subscriptions of this conversation live: a DM's belong to the user."""
        return self.user_id if self.is_dm else self.channel_id

    @property
    def kind(self) -> str:
        """How the store marks this conversation's subscriptions ("dm" or "channel"): a
        storage code, never words for a person (those are :attr:`where`)."""
        return "dm" if self.is_dm else "channel"

    @property
    def where(self) -> str:
        """The conversation, in the middle of a sentence: "this channel", "your DM"."""
        if self.is_dm:
            return "your DM"
        return self.named or "this channel"

    @property
    def where_first(self) -> str:
        """:attr:`where` starting a sentence: "This channel", "Your DM" (only the first letter
        raised: ``str.capitalize`` made "Your dm")."""
        return self.where[:1].upper() + self.where[1:]


@dataclass
class Settings:
    admins_only: bool = False
    default_time: str = "08:00"
    default_tz: str = "UTC"
    page_size: int = PAGE_SIZE
    items_per_topic: int = 5
    source_interval: int = 30 * 60  # a new live source's, in seconds (/news source add)

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(
            admins_only=config.subscriptions.admins_only,
            default_time=config.digest.default_time,
            default_tz=config.digest.default_tz,
            page_size=config.search.page_size,
            items_per_topic=config.digest.items_per_topic,
            # as bot.feeds.cli.interval_seconds: sources.poll_minutes, never below the floor
            source_interval=60 * max(config.sources.poll_minutes, config.sources.min_poll_minutes),
        )


def checked_zone(hour: int, minute: int, tz: str) -> str:
    """The last check before a digest time is stored, whoever built the command: the zone as
    stored (``utc`` is ``UTC``), or CommandError for a time or zone the scheduler cannot use."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise CommandError(f"{hour}:{minute:02d} is not a time of day: hours 00-23, minutes 00-59.")
    name = known_zone(tz)
    if name is None:
        raise CommandError(
            f"“{str(tz)[:60]}” is not a time zone I know: use an Area/City name "
            "such as Europe/London."
        )
    return name


def unknown_slack_zone(
    ctx: Context, hour: int, minute: int, tz: str, why: str, whose: str = "your digest"
) -> str:
    """What to say when Slack gave the user a zone zoneinfo does not know ("" when it did not):
    ``whose`` is at ``hour:minute`` in ``tz`` instead, for the reason ``why``."""
    if not ctx.user_tz or known_zone(ctx.user_tz):
        return ""
    shown = re.sub(r"[^\w+\-/]", "?", ctx.user_tz)[:60]  # a zone's alphabet, no markup
    return (
        f" Slack gave your time zone as {shown}, which I do not know, so {whose} is at "
        f"{hour:02d}:{minute:02d} in {tz}, {why}."
    )


def post_note(check: PostCheck, ctx: Context, again: str) -> str:
    """What to say of a check that the bot can post where ``ctx`` says: "" when it is a member,
    a sentence (with a leading space) when it has just joined; otherwise CommandError saying
    why it cannot and how to fix it, and that nothing changed. ``again``: the command to give
    once it is fixed."""
    if check.status == "member":
        return ""
    if check.status == "joined":
        return f" I joined {ctx.where} to post its digest there."
    if check.status == "not_member":
        invite = code(f"/invite @{check.bot_name}")
        raise CommandError(
            f"I can't post in {ctx.where} yet: invite me with {invite}, then {code(again)} "
            "again. Nothing changed."
        )
    if check.status == "archived":
        raise CommandError(
            f"{ctx.where_first} is archived, so I can't post in it. Nothing changed."
        )
    if check.status == "no_permission":
        what = f"the {code(check.scope)} permission" if check.scope else "a permission it needs"
        raise CommandError(
            f"I could not check whether I can post in {ctx.where}: newsbot's Slack app lacks "
            f"{what}, so nothing changed. Whoever installed newsbot can grant it by "
            "reinstalling the app from its manifest.yml."
        )
    raise CommandError(
        f"Slack did not answer whether I can post in {ctx.where}, so nothing changed. "
        "Please try again in a moment."
    )


# -- declaring a subcommand ------------------------------------------------------------------------

Predicate = Callable[[Command], bool]
# An Area method, unbound: (the area, the command, who asks) -> the answer. The area is Any
# because each handler's first parameter is its own Area subclass.
Handler = Callable[[Any, Command, Context], Answer]


def never(command: Command) -> bool:
    return False


def always(command: Command) -> bool:
    return True


@dataclass(frozen=True)
class Subcommand:
    """One ``/news`` subcommand, as declared with :func:`subcommand` on its handler."""

    name: str
    usage: str  # "/news follow <topic> [at HH:MM]": the help's left column
    help: str  # what it does: the help's right column
    read: Reader  # how the words after its name become its Command
    words: tuple[str, ...]  # the first words that name it; () for search, which is any other text
    changes_channel: Predicate  # said in a channel, it changes the channel (admins_only applies)
    needs_user_info: Predicate  # the caller should look up the user's zone and admin flag first
    handler: Handler


_DECLARED: dict[Callable[..., Any], Subcommand] = {}  # declared in a class body not yet done

H = TypeVar("H", bound=Callable[..., Answer])


def subcommand(
    name: str,
    usage: str,
    help_line: str,
    *,
    read: Reader,
    words: tuple[str, ...] | None = None,
    changes_channel: Predicate = never,
    needs_user_info: Predicate = never,
) -> Callable[[H], H]:
    """Declare the ``/news`` subcommand the decorated :class:`Area` method carries out (it
    takes the parsed Command and the Context); ``words`` default to the name alone. The method
    stays an ordinary method; its class lists the declaration in ``subcommands``."""

    def declare(handler: H) -> H:
        _DECLARED[handler] = Subcommand(
            name,
            usage,
            help_line,
            read,
            (name,) if words is None else words,
            changes_channel,
            needs_user_info,
            handler,
        )
        return handler

    return declare


def undeclared() -> list[str]:
    """Subcommands declared on a function no Area class holds (a mistake: none would run)."""
    return [s.name for s in _DECLARED.values()]


class Core(Protocol):
    """What the areas share, read through the service each time (so a hook added to
    ``on_change`` later, or options replaced, hold everywhere)."""

    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def options(self) -> Settings: ...
    @property
    def digest_settings(self) -> DigestSettings: ...
    @property
    def on_change(self) -> list[ChangeHook]: ...


class Area:
    """One area of the service: its handlers over the service's store, clock and options."""

    subcommands: ClassVar[tuple[Subcommand, ...]] = ()

    def __init__(self, core: Core) -> None:
        self.core = core

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        held = [f for f in vars(cls).values() if isinstance(f, FunctionType) and f in _DECLARED]
        cls.subcommands = tuple(_DECLARED.pop(f) for f in held)

    @property
    def store(self) -> Store:
        return self.core.store

    @property
    def options(self) -> Settings:
        return self.core.options

    def clock(self) -> dt.datetime:
        return self.core.clock()

    def check_can_post(self, ctx: Context, again: str) -> str:
        """Before anything is stored for ``ctx``'s conversation: "" when the bot can post there
        (or nothing can check: the shell), a sentence when it joined the channel to; else
        CommandError with how to fix it (see :func:`post_note`)."""
        if ctx.can_post is None:
            return ""
        try:
            check = ctx.can_post(ctx)
        except Exception:  # the Slack layer answers its failures itself: a bug, not a refusal
            log.exception("checking whether the bot can post in %s failed", ctx.channel_id)
            check = PostCheck("unanswered")
        return post_note(check, ctx, again)

    def changed(self, ctx: Context) -> None:
        """Tell the hooks (the digest scheduler) that ``ctx``'s subscriptions changed."""
        for hook in self.core.on_change:
            hook(ctx.team_id, ctx.channel_key)
