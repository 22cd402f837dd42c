"""Personal digests: ``/news follow`` and ``unfollow``, a DM digest at the user's hour in the
user's own Slack time zone, kept current by :meth:`Follows.refresh_user_zone`."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.core.answers import MessageAnswer
from bot.core.grammar import Command, timed_topic, topic
from bot.core.markup import code, strong
from bot.core.schedule import known_zone
from bot.core.service.base import (
    Area,
    Context,
    always,
    checked_zone,
    subcommand,
    unknown_slack_zone,
)

log = logging.getLogger("newsbot")


def as_dm(ctx: Context) -> Context:
    """``ctx`` in the user's DM, where their follows live."""
    return replace(ctx, is_dm=True)


class Follows(Area):
    @subcommand(
        "follow",
        "/news follow <topic> [at HH:MM]",
        "a daily digest of <topic> by DM",
        read=timed_topic,
        needs_user_info=always,
    )
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
        dm = as_dm(ctx)
        joined = self.check_can_post(dm, f"/news follow {command.text}")
        if command.hour is not None:
            self.store.set_user_settings(
                ctx.team_id, ctx.user_id, self.clock(), hour=hour, minute=minute
            )
        created = self.store.subscribe(
            ctx.team_id,
            ctx.user_id,
            command.text,
            user_id=ctx.user_id,
            hour=hour,
            minute=minute,
            tz=tz,
            now=self.clock(),
            kind="dm",
        )
        self.changed(dm)
        first = "Following" if created else "Already following"
        moved = before and (before["hour"], before["minute"]) != (hour, minute)
        also = " The time applies to all your follows." if moved else ""
        note = unknown_slack_zone(
            ctx, hour, minute, tz, "the zone you had" if kept_tz else "the default"
        )
        if note or ctx.local:  # the shell has no Slack profile to read a zone from
            zone = ""
        elif slack_tz or kept_tz:
            zone = ", your Slack time zone"
        else:
            zone = ": I could not read your Slack time zone, so this is the default until I can"
        return MessageAnswer(
            f"{first} {strong(command.text)}: a DM digest every day at {hour:02d}:{minute:02d} "
            f"({tz}{zone}).{also} {code(f'/news unfollow {command.text}')} stops it.{joined}{note}"
        )

    @subcommand("unfollow", "/news unfollow <topic>", "stop your DM digest of <topic>", read=topic)
    def unfollow(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.unsubscribe(ctx.team_id, ctx.user_id, command.text):
            self.changed(as_dm(ctx))
            return MessageAnswer(
                f"No longer following {strong(command.text)}. "
                f"{code(f'/news follow {command.text}')} undoes it."
            )
        return MessageAnswer(
            f"You do not follow {strong(command.text)}. "
            "`/news list` in your DM with me shows your follows.",
            ok=False,
        )

    def refresh_user_zone(self, ctx: Context) -> bool:
        """Keep a user's follows in their current Slack zone; True when it moved. A zone
        zoneinfo does not know moves nothing (the follows stay where they were)."""
        tz = known_zone(ctx.user_tz)
        if not tz:
            if ctx.user_tz:
                log.warning(
                    "Slack gave %s the time zone %r, which zoneinfo does not know: "
                    "their follows stay in the zone they have",
                    ctx.user_id,
                    ctx.user_tz,
                )
            return False
        prefs = self.store.user_settings(ctx.team_id, ctx.user_id)
        schedule = self.store.channel_schedule(ctx.team_id, ctx.user_id)
        if prefs["tz"] == tz and (schedule is None or schedule["tz"] == tz):
            return False
        with self.store.transaction():
            self.store.set_user_settings(ctx.team_id, ctx.user_id, self.clock(), tz=tz)
            moved = self.store.move_dm_schedule(ctx.team_id, ctx.user_id, tz=tz)
        if moved:
            self.changed(as_dm(ctx))
        return bool(moved)
