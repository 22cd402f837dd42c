"""What listeners need, handed to each ``register``: built once in ``bot.app``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.service import Context, NewsService

log = logging.getLogger("newsbot.slack")


@dataclass
class Deps:
    service: NewsService
    client: WebClient  # the bot's client (retries 429/5xx)


def context_from(payload: dict[str, Any]) -> Context:
    """A Context from a slash command payload or an interaction body."""
    team = payload.get("team_id") or (payload.get("team") or {}).get("id") or ""
    channel = payload.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    user = payload.get("user_id") or (payload.get("user") or {}).get("id") or ""
    is_dm = channel.startswith("D") or payload.get("channel_name") == "directmessage"
    return Context(team_id=team, channel_id=channel, user_id=user, is_dm=is_dm)


def add_user_info(ctx: Context, client: WebClient) -> Context:
    """Fill the user's time zone and admin flag from ``users.info``; on failure leave them
    unknown (an unknown admin flag counts as not an admin)."""
    try:
        user = client.users_info(user=ctx.user_id)["user"]
    except (SlackApiError, OSError) as exc:
        log.warning("users.info failed for %s: %s", ctx.user_id, getattr(exc, "response", exc))
        return ctx
    ctx.user_tz = user.get("tz") or None
    ctx.is_admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    return ctx
