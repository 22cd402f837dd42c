"""Carrying out a parsed command against the store: the core both Slack and the shell call.

Nothing here knows Slack: who asks and where comes in a :class:`Context` (the Slack listener
fills it from the request, looking up the user's time zone and admin flag when needed), and
every answer is plain data for a renderer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bot.core.answers import (
    Answer,
    HelpAnswer,
    HomeAnswer,
    ListAnswer,
    MessageAnswer,
    PreviewAnswer,
    SearchAnswer,
    SettingsAnswer,
    SimilarAnswer,
)
from bot.core.commands import Command, CommandError, parse, parse_time
from bot.core.digest import DigestSettings, preview_digest
from bot.core.markup import code, strong
from bot.core.preferences import Outlet, domain_of, parse_setting
from bot.core.schedule import known_zone
from bot.core.search import search
from bot.core.similar import similar
from storage.store import Store

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("newsbot")

Clock = Callable[[], dt.datetime]
ChangeHook = Callable[[str, str], None]  # (team_id, channel_key) after a subscription change

PAGE_SIZE = 5
SUBSCRIPTION_COMMANDS = frozenset({"subscribe", "unsubscribe", "resume"})
HERE = " here"  # "/news mute reuters.com here": for this channel's digests


@dataclass
class Context:
    """Who asks, and where (Slack ids; the shell uses stand-ins)."""

    team_id: str = "local"
    channel_id: str = "shell"
    user_id: str = "you"
    is_dm: bool = False
    is_admin: bool | None = None  # None: not looked up
    # the user's Slack time zone as Slack gave it, when looked up: maybe one this system's
    # zoneinfo does not know, which the service never stores (it says so and uses another)
    user_tz: str | None = None

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
    items_per_topic: int = 5

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(
            admins_only=config.subscriptions.admins_only,
            default_time=config.digest.default_time,
            default_tz=config.digest.default_tz,
            page_size=config.search.page_size,
            items_per_topic=config.digest.items_per_topic,
        )


def checked_zone(hour: int, minute: int, tz: str) -> str:
    """The last check before a digest time is stored, whoever built the command: the zone as
    stored (``utc`` is ``UTC``), or CommandError for a time or zone the scheduler cannot use."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise CommandError(f"{hour}:{minute:02d} is not a time of day: hours 00-23, minutes 00-59.")
    name = known_zone(tz)
    if name is None:
        raise CommandError(f"“{str(tz)[:60]}” is not a time zone I know: use an Area/City name "
                           "such as Europe/London.")
    return name


def unknown_slack_zone(ctx: Context, hour: int, minute: int, tz: str, why: str,
                       whose: str = "your digest") -> str:
    """What to say when Slack gave the user a zone zoneinfo does not know ("" when it did not):
    ``whose`` is at ``hour:minute`` in ``tz`` instead, for the reason ``why``."""
    if not ctx.user_tz or known_zone(ctx.user_tz):
        return ""
    shown = re.sub(r"[^\w+\-/]", "?", ctx.user_tz)[:60]  # a zone's alphabet, no markup
    return (f" Slack gave your time zone as {shown}, which I do not know, so {whose} is at "
            f"{hour:02d}:{minute:02d} in {tz}, {why}.")


@dataclass
class NewsService:
    store: Store
    clock: Clock
    options: Settings = field(default_factory=Settings)
    on_change: list[ChangeHook] = field(default_factory=list)
    digest_settings: DigestSettings = field(default_factory=DigestSettings)

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
        if command.name == "preview":
            digest = preview_digest(self.store, ctx.team_id, ctx.channel_key, self.clock(),
                                    self.digest_settings)
            return PreviewAnswer(digest, ctx.where)
        if command.name in SUBCOMMANDS_HANDLED:
            if self._changes_channel(command, ctx) and self.options.admins_only and not ctx.is_admin:
                if ctx.is_admin is None:  # the look-up failed: say so, not "you are no admin"
                    return MessageAnswer(
                        "Only workspace admins and owners can change this channel's "
                        "subscriptions and settings here, and I could not check with Slack "
                        "whether you are one. Nothing changed; please try again in a moment.",
                        ok=False,
                    )
                return MessageAnswer(
                    "Only workspace admins and owners can change this channel's "
                    "subscriptions and settings here.",
                    ok=False,
                )
            try:
                return getattr(self, command.name)(command, ctx)
            except CommandError as exc:
                return MessageAnswer(str(exc), ok=False)
        return HelpAnswer(f"Unknown command “{command.name}”.")

    @staticmethod
    def _changes_channel(command: Command, ctx: Context) -> bool:
        """Whether a command changes a channel's (not a person's) subscriptions or settings."""
        if ctx.is_dm:
            return False
        if command.name in SUBSCRIPTION_COMMANDS:
            return True
        if command.name in ("mute", "unmute"):
            return command.text.lower().endswith(HERE)
        return command.name == "settings" and bool(command.text)

    def needs_user_info(self, command: Command, ctx: Context) -> bool:
        """Whether the caller should look up the user (time zone, admin) before ``handle``."""
        if self.options.admins_only and self._changes_channel(command, ctx):
            return True
        if command.name in ("follow", "settings"):
            return True  # a follow lives in the user's own zone, kept current
        return command.name == "subscribe" and command.tz is None

    # -- commands ----------------------------------------------------------------------------

    def search(self, query: str, ctx: Context, offset: int = 0) -> SearchAnswer:
        muted = self.store.muted_domains(ctx.team_id, "user", ctx.user_id)
        result = search(
            self.store, query, limit=self.options.page_size, offset=offset, now=self.clock(),
            exclude_domains=muted,
        )
        return SearchAnswer(result, ctx.where)

    def _schedule_for(self, command: Command, ctx: Context) -> tuple[int, int, str, str]:
        """Explicit time/zone, else the channel's current schedule, else the subscriber's
        Slack time zone at the default time, else the configured default; and what to say
        when that default stands in for a Slack zone zoneinfo does not know."""
        current = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        default_hour, default_minute = parse_time(self.options.default_time)
        if command.hour is not None:
            hour, minute = command.hour, command.minute or 0
        elif current:
            hour, minute = current["hour"], current["minute"]
        else:
            hour, minute = default_hour, default_minute
        tz = (command.tz or known_zone(current["tz"] if current else None)
              or known_zone(ctx.user_tz))
        if tz:
            return hour, minute, tz, ""
        tz = self.options.default_tz
        whose = "your digest" if ctx.is_dm else "this channel's digest"
        note = unknown_slack_zone(ctx, hour, minute, tz, "the default", whose)
        if note and not ctx.is_dm:
            note += f" {code(f'/news subscribe {command.text} tz Area/City')} picks a zone."
        return hour, minute, tz, note

    def subscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        if ctx.is_dm and command.tz:
            # as a follow: the DM digest is kept in the user's own Slack zone (refresh_user_zone)
            raise CommandError("Your DM digest follows your own Slack time zone; leave out `tz`.")
        hour, minute, tz, note = self._schedule_for(command, ctx)
        tz = checked_zone(hour, minute, tz)
        before = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        created = self.store.subscribe(
            ctx.team_id, ctx.channel_key, command.text, user_id=ctx.user_id, hour=hour,
            minute=minute, tz=tz, now=self.clock(), kind=ctx.kind,
        )
        self._changed(ctx)
        when = f"every day at {hour:02d}:{minute:02d} ({tz})"
        if created:
            text = f"Subscribed {ctx.where} to {strong(command.text)}: a digest {when}."
        else:
            text = f"{ctx.where.capitalize()} was already subscribed to {strong(command.text)}; digest {when}."
        moved = before and (before["hour"], before["minute"], before["tz"]) != (hour, minute, tz)
        if moved:
            text += " The digest time applies to all of its topics."
        return MessageAnswer(
            text + f" {code(f'/news unsubscribe {command.text}')} stops it." + note)

    def unsubscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.unsubscribe(ctx.team_id, ctx.channel_key, command.text):
            self._changed(ctx)
            return MessageAnswer(f"Unsubscribed {ctx.where} from {strong(command.text)}.")
        return MessageAnswer(
            f"{ctx.where.capitalize()} is not subscribed to {strong(command.text)}. "
            "`/news list` shows its subscriptions.",
            ok=False,
        )

    def resume(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.resume(ctx.team_id, ctx.channel_key, command.text):
            self._changed(ctx)
            return MessageAnswer(f"Resumed {strong(command.text)} in {ctx.where}.")
        return MessageAnswer(
            f"No paused subscription to {strong(command.text)} in {ctx.where}. "
            "`/news list` shows its subscriptions.",
            ok=False,
        )

    def list(self, ctx: Context) -> ListAnswer:
        return ListAnswer(self.store.subscriptions(ctx.team_id, ctx.channel_key), ctx.where)

    # -- personal digests --------------------------------------------------------------------

    def _dm(self, ctx: Context) -> Context:
        return replace(ctx, is_dm=True)

    def refresh_user_zone(self, ctx: Context) -> bool:
        """Keep a user's follows in their current Slack zone; True when it moved. A zone
        zoneinfo does not know moves nothing (the follows stay where they were)."""
        tz = known_zone(ctx.user_tz)
        if not tz:
            if ctx.user_tz:
                log.warning("Slack gave %s the time zone %r, which zoneinfo does not know: "
                            "their follows stay in the zone they have", ctx.user_id, ctx.user_tz)
            return False
        prefs = self.store.user_settings(ctx.team_id, ctx.user_id)
        schedule = self.store.channel_schedule(ctx.team_id, ctx.user_id)
        if prefs["tz"] == tz and (schedule is None or schedule["tz"] == tz):
            return False
        with self.store.transaction():
            self.store.set_user_settings(ctx.team_id, ctx.user_id, self.clock(), tz=tz)
            moved = self.store.move_dm_schedule(ctx.team_id, ctx.user_id, tz=tz)
        if moved:
            self._changed(self._dm(ctx))
        return bool(moved)

    def follow(self, command: Command, ctx: Context) -> MessageAnswer:
        self.refresh_user_zone(ctx)
        prefs = self.store.user_settings(ctx.team_id, ctx.user_id)
        # The DM digest's current time (a `/news subscribe ... at` in the DM may have set it)
        before = self.store.channel_schedule(ctx.team_id, ctx.user_id)
        if command.hour is not None:
            hour, minute = command.hour, command.minute or 0
        elif before:
            hour, minute = before["hour"], before["minute"]
        else:
            hour, minute = prefs["hour"], prefs["minute"]
        slack_tz, kept_tz = known_zone(ctx.user_tz), known_zone(prefs["tz"])
        tz = checked_zone(hour, minute, slack_tz or kept_tz or self.options.default_tz)
        if command.hour is not None:
            self.store.set_user_settings(ctx.team_id, ctx.user_id, self.clock(), hour=hour,
                                         minute=minute)
        dm = self._dm(ctx)
        created = self.store.subscribe(
            ctx.team_id, ctx.user_id, command.text, user_id=ctx.user_id, hour=hour,
            minute=minute, tz=tz, now=self.clock(), kind="dm",
        )
        self._changed(dm)
        first = "Following" if created else "Already following"
        moved = before and (before["hour"], before["minute"]) != (hour, minute)
        also = " The time applies to all your follows." if moved else ""
        note = unknown_slack_zone(ctx, hour, minute, tz,
                                  "the zone you had" if kept_tz else "the default")
        if note:
            zone = ""
        elif slack_tz or kept_tz:
            zone = ", your Slack time zone"
        else:
            zone = ": I could not read your Slack time zone, so this is the default until I can"
        return MessageAnswer(
            f"{first} {strong(command.text)}: a DM digest every day at {hour:02d}:{minute:02d} "
            f"({tz}{zone}).{also} {code(f'/news unfollow {command.text}')} stops it.{note}"
        )

    def unfollow(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.unsubscribe(ctx.team_id, ctx.user_id, command.text):
            self._changed(self._dm(ctx))
            return MessageAnswer(
                f"No longer following {strong(command.text)}. "
                f"{code(f'/news follow {command.text}')} undoes it."
            )
        return MessageAnswer(
            f"You do not follow {strong(command.text)}. "
            "`/news list` in your DM with me shows your follows.",
            ok=False,
        )

    # -- muted outlets -----------------------------------------------------------------------

    def resolve_outlets(self, text: str) -> list[Outlet]:
        """The outlet ``text`` names: a domain or web address is that domain; a name is every
        domain the articles publish it under (not sub-domains of those: a mute covers them)."""
        domain = domain_of(text)
        if domain:
            known = self.store.outlet(domain)
            return [Outlet(domain, (known or {}).get("provider") or domain)]
        rows = self.store.outlet_domains(text)
        if rows:
            domains = [r["domain"] for r in rows]
            label = rows[0]["provider"]
            return [Outlet(d, label) for d in domains
                    if not any(d.endswith("." + other) for other in domains)]
        raise CommandError(
            f"I don't know an outlet called “{text[:60]}”. Give its web address instead, "
            "e.g. `/news mute reuters.com`."
        )

    def _mute_scope(self, command: Command, ctx: Context) -> tuple[str, str, str, str]:
        """(scope, owner, outlet text, where) of a mute or unmute."""
        text = command.text
        if text.lower().endswith(HERE) and len(text) > len(HERE):
            if ctx.is_dm:
                raise CommandError("`here` is for channels; in your DM a mute is yours anyway.")
            return "channel", ctx.channel_id, text[: -len(HERE)].strip(), "this channel's digests"
        return "user", ctx.user_id, text, "your search results and DM digests"

    def mute(self, command: Command, ctx: Context) -> MessageAnswer:
        scope, owner, text, where = self._mute_scope(command, ctx)
        outlets = self.resolve_outlets(text)
        new = [self.store.mute(ctx.team_id, scope, owner, o.domain, o.label, ctx.user_id,
                               self.clock()) for o in outlets]
        here = HERE if scope == "channel" else ""
        name = f"{outlets[0].label} ({', '.join(o.domain for o in outlets)})"
        again = outlets[0].domain if len(outlets) == 1 else outlets[0].label
        undo = f"{code(f'/news unmute {again}{here}')} undoes it."
        if not any(new):
            return MessageAnswer(f"{name} was already muted in {where}. {undo}")
        return MessageAnswer(f"Muted {name} in {where}. {undo}")

    def unmute(self, command: Command, ctx: Context) -> MessageAnswer:
        scope, owner, text, where = self._mute_scope(command, ctx)
        matches = self._matching_mutes(text, self.store.mutes(ctx.team_id, scope, owner))
        done = [m for m in matches if self.store.unmute(ctx.team_id, scope, owner, m["domain"])]
        if done:
            here = HERE if scope == "channel" else ""
            again = done[0]["domain"] if len(done) == 1 else done[0]["label"]
            return MessageAnswer(
                f"Unmuted {done[0]['label']} ({', '.join(m['domain'] for m in done)}) in {where}. "
                f"{code(f'/news mute {again}{here}')} mutes it again.")
        if scope == "channel":
            hint = "`/news settings` here lists this channel's mutes."
        elif not ctx.is_dm and self._matching_mutes(
                text, self.store.mutes(ctx.team_id, "channel", ctx.channel_id)):
            hint = f"This channel's digests mute it: {code(f'/news unmute {text}{HERE}')}."
        else:
            hint = "`/news settings` in your DM with me lists your mutes."
        return MessageAnswer(f"{text} is not muted in {where}. {hint}", ok=False)

    def _matching_mutes(self, text: str, mutes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The mutes ``text`` names: by domain, by label, else by the outlet it resolves to."""
        domain = domain_of(text)
        wanted = text.strip().lower()
        matches = ([m for m in mutes if m["domain"] == domain]
                   or [m for m in mutes if m["label"].lower() == wanted])
        if not matches:
            try:
                known = {o.domain for o in self.resolve_outlets(text)}
            except CommandError:
                known = set()
            matches = [m for m in mutes if m["domain"] in known]
        return matches

    # -- settings ----------------------------------------------------------------------------

    def settings(self, command: Command, ctx: Context) -> Answer:
        if ctx.is_dm:
            self.refresh_user_zone(ctx)
        if not command.text:
            return self.settings_answer(ctx)
        change = parse_setting(command.text, command.value, is_dm=ctx.is_dm)
        now = self.clock()
        if change.key == "time":
            hour, minute = change.value  # type: ignore[misc]
            if ctx.is_dm:
                self.store.set_user_settings(ctx.team_id, ctx.user_id, now, hour=hour, minute=minute)
                self.store.move_dm_schedule(ctx.team_id, ctx.user_id, hour=hour, minute=minute)
            elif not self.store.channel_schedule(ctx.team_id, ctx.channel_id):
                raise CommandError("This channel has no subscription yet: "
                                   "`/news subscribe <topic> at HH:MM` sets its time.")
            else:
                schedule = self.store.channel_schedule(ctx.team_id, ctx.channel_id)
                tz = checked_zone(hour, minute,
                                  known_zone(schedule["tz"]) or self.options.default_tz)
                for sub in self.store.subscriptions(ctx.team_id, ctx.channel_id):
                    self.store.subscribe(ctx.team_id, ctx.channel_id, sub["topic"],
                                         user_id=sub["subscribed_by"], hour=hour, minute=minute,
                                         tz=tz, now=now)
            self._changed(ctx)
        elif ctx.is_dm:
            self.store.set_user_settings(ctx.team_id, ctx.user_id, now, **{change.key: change.value})
        else:
            self.store.set_channel_settings(ctx.team_id, ctx.channel_id, now,
                                            **{change.key: change.value})
        return MessageAnswer(f"Done: {change.shown} in {ctx.where}. `/news settings` shows all.")

    def settings_answer(self, ctx: Context) -> SettingsAnswer:
        schedule = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        shown = f"{schedule['hour']:02d}:{schedule['minute']:02d} ({schedule['tz']})" if schedule else None
        if ctx.is_dm:
            prefs = self.store.user_settings(ctx.team_id, ctx.user_id)
            if shown is None:
                tz = known_zone(prefs["tz"]) or known_zone(ctx.user_tz) or self.options.default_tz
                shown = f"{prefs['hour']:02d}:{prefs['minute']:02d} ({tz})"
            return SettingsAnswer(ctx.where, True, prefs["items"], bool(prefs["skip_weekends"]),
                                  shown, self.store.mutes(ctx.team_id, "user", ctx.user_id))
        prefs = self.store.channel_settings(ctx.team_id, ctx.channel_id)
        items = prefs["items_per_topic"] or self.options.items_per_topic
        return SettingsAnswer(ctx.where, False, items, bool(prefs["skip_weekends"]), shown,
                              self.store.mutes(ctx.team_id, "channel", ctx.channel_id))

    # -- App Home ----------------------------------------------------------------------------

    HOME_PAGE = 20  # follows per page of the Home tab
    HOME_CHANNEL_SUBS = 20

    def home(self, ctx: Context, page: int = 0) -> HomeAnswer:
        dm = self._dm(ctx)
        self.refresh_user_zone(dm)
        follows = self.store.subscriptions_by(ctx.team_id, ctx.user_id, kind="dm")
        pages = max(1, -(-len(follows) // self.HOME_PAGE))
        page = min(max(0, page), pages - 1)
        shown = follows[page * self.HOME_PAGE : (page + 1) * self.HOME_PAGE]
        channel_subs = self.store.subscriptions_by(ctx.team_id, ctx.user_id, kind="channel")
        return HomeAnswer(shown, len(follows), page, pages, self.settings_answer(dm),
                          channel_subs[: self.HOME_CHANNEL_SUBS],
                          channel_subs[self.HOME_CHANNEL_SUBS :])

    def similar(self, article_id: int, ctx: Context) -> SimilarAnswer:
        """The stories nearest to an article ("More like this"), the user's mutes applied."""
        muted = self.store.muted_domains(ctx.team_id, "user", ctx.user_id)
        result = similar(self.store, article_id, limit=self.options.page_size, now=self.clock(),
                         exclude_domains=muted)
        return SimilarAnswer(result.query, result)

    def _changed(self, ctx: Context) -> None:
        for hook in self.on_change:
            hook(ctx.team_id, ctx.channel_key)


SUBCOMMANDS_HANDLED = frozenset({
    "subscribe", "unsubscribe", "resume", "follow", "unfollow", "mute", "unmute", "settings",
})
