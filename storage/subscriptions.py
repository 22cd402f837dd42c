"""Subscriptions: SQL for who gets which topic where, and when. Part of :class:`Store`.

A conversation's subscriptions come in the order it subscribed them (``SUB_ORDER``): its
digest's sections, ``/news list`` and the DM follows all follow it. The row id is that order:
an ``INTEGER PRIMARY KEY`` is assigned above every id in the table, so a later subscription
always has a larger id. Subscribing to a topic already there keeps its row (and its place);
resuming one keeps it too; unsubscribing and subscribing again puts it last.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.base import StoreBase

SUB_COLUMNS = (
    "id, team_id, channel_id, kind, topic, topic_key, subscribed_by, subscribed_at, hour, "
    "minute, tz, paused_reason, paused_at"
)


# A conversation's subscriptions, first subscribed first (see the module's docstring).
SUB_ORDER = "id"


def topic_key(topic: str) -> str:
    return " ".join(topic.lower().split())


class SubscriptionsMixin(StoreBase):
    """Methods of Store (see storage.store) for the ``subscriptions`` table."""

    def subscribe(
        self,
        team_id: str,
        channel_id: str,
        topic: str,
        *,
        user_id: str,
        hour: int,
        minute: int,
        tz: str,
        now: dt.datetime,
        kind: str = "channel",
    ) -> bool:
        """Add a topic (True) or, if there, leave it (False). Either way the channel's digest
        time becomes ``hour:minute`` in ``tz`` for all its topics."""
        with self.transaction():
            created = (
                self._write(
                    "INSERT OR IGNORE INTO subscriptions (team_id, channel_id, kind, topic, topic_key,"
                    " subscribed_by, subscribed_at, hour, minute, tz) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        team_id,
                        channel_id,
                        kind,
                        topic,
                        topic_key(topic),
                        user_id,
                        now.isoformat(),
                        hour,
                        minute,
                        tz,
                    ),
                ).rowcount
                == 1
            )
            self._write(
                "UPDATE subscriptions SET hour = ?, minute = ?, tz = ? "
                "WHERE team_id = ? AND channel_id = ?",
                (hour, minute, tz, team_id, channel_id),
            )
        return created

    def unsubscribe(self, team_id: str, channel_id: str, topic: str) -> bool:
        return (
            self._write(
                "DELETE FROM subscriptions WHERE team_id = ? AND channel_id = ? AND topic_key = ?",
                (team_id, channel_id, topic_key(topic)),
            ).rowcount
            > 0
        )

    def subscriptions(self, team_id: str, channel_id: str) -> list[dict[str, Any]]:
        """The conversation's subscriptions, paused ones too, in the order it subscribed them."""
        return self._rows(
            f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE team_id = ? AND channel_id = ? "
            f"ORDER BY {SUB_ORDER}",
            (team_id, channel_id),
        )

    def all_subscriptions(self) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT {SUB_COLUMNS} FROM subscriptions ORDER BY team_id, channel_id, {SUB_ORDER}"
        )

    def channel_schedule(self, team_id: str, channel_id: str) -> dict[str, Any] | None:
        """The channel's digest time and zone, or None when it has no subscription."""
        return self._one(
            "SELECT hour, minute, tz, kind FROM subscriptions WHERE team_id = ? AND channel_id = ? "
            "LIMIT 1",
            (team_id, channel_id),
        )

    def pause_channel(self, team_id: str, channel_id: str, reason: str, now: dt.datetime) -> int:
        """Pause every active subscription of a channel; returns how many were paused."""
        return self._write(
            "UPDATE subscriptions SET paused_reason = ?, paused_at = ? "
            "WHERE team_id = ? AND channel_id = ? AND paused_reason IS NULL",
            (reason, now.isoformat(), team_id, channel_id),
        ).rowcount

    def resume(self, team_id: str, channel_id: str, topic: str) -> bool:
        return (
            self._write(
                "UPDATE subscriptions SET paused_reason = NULL, paused_at = NULL "
                "WHERE team_id = ? AND channel_id = ? AND topic_key = ? AND paused_reason IS NOT NULL",
                (team_id, channel_id, topic_key(topic)),
            ).rowcount
            > 0
        )

    def resume_channel(self, team_id: str, channel_id: str) -> int:
        """Resume every paused subscription of a conversation; returns how many."""
        return self._write(
            "UPDATE subscriptions SET paused_reason = NULL, paused_at = NULL "
            "WHERE team_id = ? AND channel_id = ? AND paused_reason IS NOT NULL",
            (team_id, channel_id),
        ).rowcount
