"""A conversation's subscriptions: ``/news subscribe``, ``unsubscribe``, ``list``, ``preview``
and ``resume``. In a channel they are the channel's (``subscriptions.admins_only`` guards the
changes); in a DM they are the user's own DM digest.

Subscribing and resuming first ask whether the bot can post in the conversation
(``Context.can_post``, the Slack layer's check; :meth:`Area.check_can_post`): when it cannot,
the answer says how to fix it and nothing is stored.
"""

from __future__ import annotations

from bot.core.answers import ListAnswer, MessageAnswer, PreviewAnswer
from bot.core.digest import preview_digest
from bot.core.grammar import Command, CommandError, nothing, parse_time, scheduled_topic, topic
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
from storage.subscriptions import topic_key


def maybe_topic(name: str, words: str) -> Command:
    """A topic, or none at all (then the command is about the whole conversation)."""
    return topic(name, words) if words.strip() else Command(name)


def without_zone(command: Command) -> bool:
    """A subscription given no zone takes the subscriber's Slack zone: look the user up."""
    return command.tz is None


class Subscriptions(Area):
    @subcommand(
        "subscribe",
        "/news subscribe <topic> [at HH:MM] [tz Area/City]",
        "a daily digest of <topic> in this channel",
        read=scheduled_topic,
        changes_channel=always,
        needs_user_info=without_zone,
    )
    def subscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        if ctx.is_dm and command.tz:
            # as a follow: the DM digest is kept in the user's own Slack zone (refresh_user_zone)
            raise CommandError("Your DM digest follows your own Slack time zone; leave out `tz`.")
        hour, minute, tz, note = self._schedule_for(command, ctx)
        tz = checked_zone(hour, minute, tz)
        joined = self.check_can_post(ctx, f"/news subscribe {command.text}")
        before = self.store.channel_schedule(ctx.team_id, ctx.channel_key)
        created = self.store.subscribe(
            ctx.team_id,
            ctx.channel_key,
            command.text,
            user_id=ctx.user_id,
            hour=hour,
            minute=minute,
            tz=tz,
            now=self.clock(),
            kind=ctx.kind,
        )
        self.changed(ctx)
        when = f"every day at {hour:02d}:{minute:02d} ({tz})"
        if created:
            text = f"Subscribed {ctx.where} to {strong(command.text)}: a digest {when}."
        else:
            text = (
                f"{ctx.where_first} was already subscribed to {strong(command.text)}; "
                f"digest {when}."
            )
        moved = before and (before["hour"], before["minute"], before["tz"]) != (hour, minute, tz)
        if moved:
            text += " The digest time applies to all of its topics."
        return MessageAnswer(
            text + f" {code(f'/news unsubscribe {command.text}')} stops it." + joined + note
        )

    @subcommand(
        "unsubscribe",
        "/news unsubscribe <topic>",
        "stop this channel's digest of <topic>",
        read=topic,
        changes_channel=always,
    )
    def unsubscribe(self, command: Command, ctx: Context) -> MessageAnswer:
        if self.store.unsubscribe(ctx.team_id, ctx.channel_key, command.text):
            self.changed(ctx)
            return MessageAnswer(f"Unsubscribed {ctx.where} from {strong(command.text)}.")
        return MessageAnswer(
            f"{ctx.where_first} is not subscribed to {strong(command.text)}. "
            "`/news list` shows its subscriptions.",
            ok=False,
        )

    @subcommand(
        "list", "/news list", "this channel's subscriptions (in a DM: your follows)", read=nothing
    )
    def list_subscriptions(self, command: Command, ctx: Context) -> ListAnswer:
        return ListAnswer(self.store.subscriptions(ctx.team_id, ctx.channel_key), ctx.where)

    @subcommand(
        "preview", "/news preview", "this channel's next digest, privately, now", read=nothing
    )
    def preview(self, command: Command, ctx: Context) -> PreviewAnswer:
        digest = preview_digest(
            self.store, ctx.team_id, ctx.channel_key, self.clock(), self.core.digest_settings
        )
        return PreviewAnswer(digest, ctx.where)

    @subcommand(
        "resume",
        "/news resume [<topic>]",
        "resume this channel's paused subscriptions (or one topic's)",
        read=maybe_topic,
        changes_channel=always,
    )
    def resume(self, command: Command, ctx: Context) -> MessageAnswer:
        """Resume the conversation's paused subscriptions (a pause stops them all), or one
        topic's; the bot must be able to post there first. The scheduler is told."""
        subs = self.store.subscriptions(ctx.team_id, ctx.channel_key)
        paused = [s for s in subs if s["paused_reason"]]
        if command.text:
            paused = [s for s in paused if s["topic_key"] == topic_key(command.text)]
        if not paused:
            what = f"subscription to {strong(command.text)}" if command.text else "subscription"
            return MessageAnswer(
                f"No paused {what} in {ctx.where}. `/news list` shows its subscriptions.",
                ok=False,
            )
        again = f"/news resume {command.text}".strip()
        joined = self.check_can_post(ctx, again)
        if command.text:
            self.store.resume(ctx.team_id, ctx.channel_key, command.text)
            text = f"Resumed {strong(command.text)} in {ctx.where}."
        else:
            self.store.resume_channel(ctx.team_id, ctx.channel_key)
            text = f"Resumed {ctx.where}: {', '.join(strong(s['topic']) for s in paused)}."
        self.changed(ctx)
        still = [
            s["topic"]
            for s in self.store.subscriptions(ctx.team_id, ctx.channel_key)
            if s["paused_reason"]
        ]
        if still:
            text += (
                f" Still paused: {', '.join(strong(t) for t in still)}; "
                f"{code('/news resume')} resumes them all."
            )
        return MessageAnswer(text + joined)

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
        tz = command.tz or known_zone(current["tz"] if current else None) or known_zone(ctx.user_tz)
        if tz:
            return hour, minute, tz, ""
        tz = self.options.default_tz
        whose = "your digest" if ctx.is_dm else "this channel's digest"
        note = unknown_slack_zone(ctx, hour, minute, tz, "the default", whose)
        if note and not ctx.is_dm:
            note += f" {code(f'/news subscribe {command.text} tz Area/City')} picks a zone."
        return hour, minute, tz, note
