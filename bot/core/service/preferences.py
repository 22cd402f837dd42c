"""Preferences: muted outlets (``/news mute``, ``unmute``, a user's own or, with ``here``, a
channel's digests') and settings (``/news settings``: items, time, weekends), a user's in a
DM and a channel's in a channel. The rules for names and values are in bot.core.preferences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.answers import Answer, MessageAnswer, SettingsAnswer
from bot.core.grammar import Command, CommandError, outlet, setting
from bot.core.markup import code
from bot.core.preferences import Outlet, domain_of, parse_setting
from bot.core.schedule import known_zone
from bot.core.service.base import Area, Context, Core, always, checked_zone, subcommand
from bot.core.service.follows import Follows

HERE = " here"  # "/news mute reuters.com here": for this channel's digests


def names_here(command: Command) -> bool:
    """A mute or unmute that ends in ``here`` is the channel's."""
    return command.text.lower().endswith(HERE)


def sets_a_value(command: Command) -> bool:
    """``/news settings <name> ...`` changes something; ``/news settings`` alone only shows."""
    return bool(command.text)


class Preferences(Area):
    def __init__(self, core: Core, follows: Follows) -> None:
        super().__init__(core)
        self.follows = follows  # a DM's settings show the user's current zone

    # -- muted outlets ---------------------------------------------------------------------------

    @subcommand(
        "mute",
        "/news mute <outlet or domain>",
        "hide an outlet from your results",
        read=outlet,
        changes_channel=names_here,
    )
    def mute(self, command: Command, ctx: Context) -> MessageAnswer:
        scope, owner, text, where = self._mute_scope(command, ctx)
        outlets = self.resolve_outlets(text)
        new = [
            self.store.mute(ctx.team_id, scope, owner, o.domain, o.label, ctx.user_id, self.clock())
            for o in outlets
        ]
        here = HERE if scope == "channel" else ""
        name = f"{outlets[0].label} ({', '.join(o.domain for o in outlets)})"
        again = outlets[0].domain if len(outlets) == 1 else outlets[0].label
        undo = f"{code(f'/news unmute {again}{here}')} undoes it."
        if not any(new):
            return MessageAnswer(f"{name} was already muted in {where}. {undo}")
        return MessageAnswer(f"Muted {name} in {where}. {undo}")

    @subcommand(
        "unmute",
        "/news unmute <outlet or domain>",
        "show a muted outlet again",
        read=outlet,
        changes_channel=names_here,
    )
    def unmute(self, command: Command, ctx: Context) -> MessageAnswer:
        scope, owner, text, where = self._mute_scope(command, ctx)
        matches = self._matching_mutes(text, self.store.mutes(ctx.team_id, scope, owner))
        done = [m for m in matches if self.store.unmute(ctx.team_id, scope, owner, m["domain"])]
        if done:
            here = HERE if scope == "channel" else ""
            again = done[0]["domain"] if len(done) == 1 else done[0]["label"]
            return MessageAnswer(
                f"Unmuted {done[0]['label']} ({', '.join(m['domain'] for m in done)}) in {where}. "
                f"{code(f'/news mute {again}{here}')} mutes it again."
            )
        if scope == "channel":
            hint = "`/news settings` here lists this channel's mutes."
        elif not ctx.is_dm and self._matching_mutes(
            text, self.store.mutes(ctx.team_id, "channel", ctx.channel_id)
        ):
            hint = f"This channel's digests mute it: {code(f'/news unmute {text}{HERE}')}."
        else:
            hint = "`/news settings` in your DM with me lists your mutes."
        return MessageAnswer(f"{text} is not muted in {where}. {hint}", ok=False)

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
            return [
                Outlet(d, label)
                for d in domains
                if not any(d.endswith("." + other) for other in domains)
            ]
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

    def _matching_mutes(self, text: str, mutes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The mutes ``text`` names: by domain, by label, else by the outlet it resolves to."""
        domain = domain_of(text)
        wanted = text.strip().lower()
        matches = [m for m in mutes if m["domain"] == domain] or [
            m for m in mutes if m["label"].lower() == wanted
        ]
        if not matches:
            try:
                known = {o.domain for o in self.resolve_outlets(text)}
            except CommandError:
                known = set()
            matches = [m for m in mutes if m["domain"] in known]
        return matches

    # -- settings --------------------------------------------------------------------------------

    @subcommand(
        "settings",
        "/news settings [<name> <value>]",
        "show or change your settings",
        read=setting,
        changes_channel=sets_a_value,
        needs_user_info=always,
    )
    def settings(self, command: Command, ctx: Context) -> Answer:
        if ctx.is_dm:
            self.follows.refresh_user_zone(ctx)
        if not command.text:
            return self.settings_answer(ctx)
        change = parse_setting(command.text, command.value, is_dm=ctx.is_dm)
        now = self.clock()
        if change.key == "time":
            hour, minute = change.value  # type: ignore[misc]
            if ctx.is_dm:
                self.store.set_user_settings(
                    ctx.team_id, ctx.user_id, now, hour=hour, minute=minute
                )
                self.store.move_dm_schedule(ctx.team_id, ctx.user_id, hour=hour, minute=minute)
            else:
                self._move_channel_digest(ctx, hour, minute, now)
            self.changed(ctx)
        elif ctx.is_dm:
            self.store.set_user_settings(
                ctx.team_id, ctx.user_id, now, **{change.key: change.value}
            )
        else:
            self.store.set_channel_settings(
                ctx.team_id, ctx.channel_id, now, **{change.key: change.value}
            )
        return MessageAnswer(f"Done: {change.shown} in {ctx.where}. `/news settings` shows all.")

    def _move_channel_digest(self, ctx: Context, hour: int, minute: int, now: dt.datetime) -> None:
        """Every subscription of the channel to ``hour:minute``, in the channel's zone."""
        schedule = self.store.channel_schedule(ctx.team_id, ctx.channel_id)
        if not schedule:
            raise CommandError(
                "This channel has no subscription yet: "
                "`/news subscribe <topic> at HH:MM` sets its time."
            )
        tz = checked_zone(hour, minute, known_zone(schedule["tz"]) or self.options.default_tz)
        for sub in self.store.subscriptions(ctx.team_id, ctx.channel_id):
            self.store.subscribe(
                ctx.team_id,
                ctx.channel_id,
                sub["topic"],
                user_id=sub["subscribed_by"],
                hour=hour,
                minute=minute,
                tz=tz,
                now=now,
            )

    def settings_answer(self, ctx: Context) -> SettingsAnswer:
        schedule = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        shown = (
            f"{schedule['hour']:02d}:{schedule['minute']:02d} ({schedule['tz']})"
            if schedule
            else None
        )
        if ctx.is_dm:
            prefs = self.store.user_settings(ctx.team_id, ctx.user_id)
            if shown is None:
                tz = known_zone(prefs["tz"]) or known_zone(ctx.user_tz) or self.options.default_tz
                shown = f"{prefs['hour']:02d}:{prefs['minute']:02d} ({tz})"
            return SettingsAnswer(
                ctx.where,
                True,
                prefs["items"],
                bool(prefs["skip_weekends"]),
                shown,
                self.store.mutes(ctx.team_id, "user", ctx.user_id),
            )
        prefs = self.store.channel_settings(ctx.team_id, ctx.channel_id)
        items = prefs["items_per_topic"] or self.options.items_per_topic
        return SettingsAnswer(
            ctx.where,
            False,
            items,
            bool(prefs["skip_weekends"]),
            shown,
            self.store.mutes(ctx.team_id, "channel", ctx.channel_id),
        )
