"""Preferences: SQL for per-user and per-channel settings and muted outlets. Part of Store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.base import StoreBase

USER_DEFAULTS: dict[str, Any] = {"items": 5, "hour": 8, "minute": 0, "skip_weekends": 0, "tz": None}
CHANNEL_DEFAULTS: dict[str, Any] = {"items_per_topic": None, "skip_weekends": 0}
USER_KEYS = frozenset(USER_DEFAULTS)
CHANNEL_KEYS = frozenset(CHANNEL_DEFAULTS)


class PreferencesMixin(StoreBase):
    """Methods of Store (see storage.store) for user_settings, channel_settings and mutes."""

    # -- settings ----------------------------------------------------------------------------

    def user_settings(self, team_id: str, user_id: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT items, hour, minute, skip_weekends, tz FROM user_settings "
            "WHERE team_id = ? AND user_id = ?",
            (team_id, user_id),
        )
        return {**USER_DEFAULTS, **(rows[0] if rows else {})}

    def set_user_settings(
        self, team_id: str, user_id: str, now: dt.datetime, **values: Any
    ) -> None:
        unknown = set(values) - USER_KEYS
        if unknown:
            raise ValueError(f"unknown user settings: {sorted(unknown)}")
        with self.transaction():
            current = self.user_settings(team_id, user_id)
            merged = {**current, **values}
            self._write(
                "INSERT INTO user_settings (team_id, user_id, items, hour, minute, skip_weekends,"
                " tz, updated_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (team_id, user_id) DO UPDATE"
                " SET items = excluded.items, hour = excluded.hour, minute = excluded.minute,"
                " skip_weekends = excluded.skip_weekends, tz = excluded.tz,"
                " updated_at = excluded.updated_at",
                (
                    team_id,
                    user_id,
                    merged["items"],
                    merged["hour"],
                    merged["minute"],
                    int(bool(merged["skip_weekends"])),
                    merged["tz"],
                    now.isoformat(),
                ),
            )

    def channel_settings(self, team_id: str, channel_id: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT items_per_topic, skip_weekends FROM channel_settings "
            "WHERE team_id = ? AND channel_id = ?",
            (team_id, channel_id),
        )
        return {**CHANNEL_DEFAULTS, **(rows[0] if rows else {})}

    def set_channel_settings(
        self, team_id: str, channel_id: str, now: dt.datetime, **values: Any
    ) -> None:
        unknown = set(values) - CHANNEL_KEYS
        if unknown:
            raise ValueError(f"unknown channel settings: {sorted(unknown)}")
        with self.transaction():
            merged = {**self.channel_settings(team_id, channel_id), **values}
            self._write(
                "INSERT INTO channel_settings (team_id, channel_id, items_per_topic, skip_weekends,"
                " updated_at) VALUES (?,?,?,?,?) ON CONFLICT (team_id, channel_id) DO UPDATE SET"
                " items_per_topic = excluded.items_per_topic,"
                " skip_weekends = excluded.skip_weekends, updated_at = excluded.updated_at",
                (
                    team_id,
                    channel_id,
                    merged["items_per_topic"],
                    int(bool(merged["skip_weekends"])),
                    now.isoformat(),
                ),
            )

    def move_dm_schedule(
        self,
        team_id: str,
        user_id: str,
        *,
        hour: int | None = None,
        minute: int | None = None,
        tz: str | None = None,
    ) -> int:
        """Change the time or zone of a user's follows (their DM digest); returns rows changed."""
        sets, params = [], []
        for column, value in (("hour", hour), ("minute", minute), ("tz", tz)):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if not sets:
            return 0
        return self._write(
            f"UPDATE subscriptions SET {', '.join(sets)} "
            "WHERE team_id = ? AND channel_id = ? AND kind = 'dm'",
            (*params, team_id, user_id),
        ).rowcount

    def followers(self) -> list[dict[str, Any]]:
        """(team_id, user_id, tz) of every user with a follow, for time-zone refreshes."""
        return self._rows(
            "SELECT team_id, channel_id AS user_id, max(tz) AS tz FROM subscriptions "
            "WHERE kind = 'dm' GROUP BY team_id, channel_id"
        )

    def subscriptions_by(
        self, team_id: str, user_id: str, kind: str = "channel"
    ) -> list[dict[str, Any]]:
        """Subscriptions a user made (kind 'channel': in channels; 'dm': their follows)."""
        column = "subscribed_by" if kind == "channel" else "channel_id"
        return self._rows(
            "SELECT id, team_id, channel_id, kind, topic, topic_key, subscribed_by, hour, minute,"
            f" tz, paused_reason, paused_at FROM subscriptions WHERE team_id = ? AND {column} = ?"
            " AND kind = ? ORDER BY topic_key, channel_id",
            (team_id, user_id, kind),
        )

    # -- muted outlets -----------------------------------------------------------------------

    def mute(
        self,
        team_id: str,
        scope: str,
        owner_id: str,
        domain: str,
        label: str,
        by: str,
        now: dt.datetime,
    ) -> bool:
        return (
            self._write(
                "INSERT OR IGNORE INTO mutes (team_id, scope, owner_id, domain, label, muted_by,"
                " muted_at) VALUES (?,?,?,?,?,?,?)",
                (team_id, scope, owner_id, domain, label, by, now.isoformat()),
            ).rowcount
            == 1
        )

    def unmute(self, team_id: str, scope: str, owner_id: str, domain: str) -> bool:
        return (
            self._write(
                "DELETE FROM mutes WHERE team_id = ? AND scope = ? AND owner_id = ? AND domain = ?",
                (team_id, scope, owner_id, domain),
            ).rowcount
            > 0
        )

    def mutes(self, team_id: str, scope: str, owner_id: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT domain, label, muted_by, muted_at FROM mutes "
            "WHERE team_id = ? AND scope = ? AND owner_id = ? ORDER BY label COLLATE NOCASE",
            (team_id, scope, owner_id),
        )

    def muted_domains(self, team_id: str, scope: str, owner_id: str) -> set[str]:
        return {m["domain"] for m in self.mutes(team_id, scope, owner_id)}

    def outlet_domains(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """(domain, provider) of each domain the articles publish an outlet's name under
        (case aside), the most used first."""
        return self._rows(
            "SELECT domain, max(provider) AS provider FROM articles"
            " WHERE provider = ? COLLATE NOCASE AND domain != '' GROUP BY domain"
            " ORDER BY count(*) DESC, domain LIMIT ?",
            (name.strip(), limit),
        )

    def outlet(self, name_or_domain: str) -> dict[str, Any] | None:
        """The outlet (provider, domain) known under a name or a domain, from the articles."""
        key = name_or_domain.strip().lower()
        return self._one(
            "SELECT provider, domain FROM articles WHERE domain = ? OR provider = ? COLLATE NOCASE"
            " LIMIT 1",
            (key.removeprefix("www."), name_or_domain.strip()),
        )
