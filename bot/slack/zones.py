"""Keeping follows in their users' current Slack time zones.

A user who moves zone (their Slack profile's ``tz``) gets their DM digest at the same local
hour in the new zone. Any interaction refreshes it (``NewsService.refresh_user_zone``); this
daily sweep catches the users who did not interact.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.service import Context, NewsService

log = logging.getLogger("newsbot.zones")

JOB_ID = "follower-zones"


def refresh_follower_zones(service: NewsService, client: WebClient) -> int:
    """Look every follower up (``users.info``) and move their follows to their zone; returns
    how many moved. A Slack error is logged and the sweep goes on; a zone this system's
    zoneinfo does not know moves nothing (``NewsService.refresh_user_zone`` checks and logs)."""
    moved = 0
    for row in service.store.followers():
        try:
            user = client.users_info(user=row["user_id"])["user"]
        except (SlackApiError, OSError) as exc:
            log.warning(
                "users.info for %s failed: %s", row["user_id"], getattr(exc, "response", exc)
            )
            continue
        ctx = Context(
            team_id=row["team_id"],
            channel_id=row["user_id"],
            user_id=row["user_id"],
            is_dm=True,
            user_tz=user.get("tz") or None,
        )
        try:
            moved += service.refresh_user_zone(ctx)
        except Exception:  # one user's trouble must not stop the sweep or the scheduler
            log.exception("moving the follows of %s failed", row["user_id"])
    if moved:
        log.info("moved the follows of %d user(s) to their new time zone", moved)
    return moved
