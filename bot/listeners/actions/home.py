"""Controls on the Home tab: each changes one thing, then the tab is published again."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.core.commands import Command
from bot.core.service import Context
from bot.listeners.deps import Deps
from bot.listeners.events.app_home import publish_home
from bot.render import home

log = logging.getLogger("newsbot.slack")

Handler = Callable[..., None]


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _ctx(body: dict[str, Any]) -> Context:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return Context(team_id=team, channel_id=user.get("id", ""), user_id=user.get("id", ""),
                   is_dm=True)


def _page(body: dict[str, Any]) -> int:
    """The page of follows the Home tab showed when the control was used."""
    try:
        return int(json.loads((body.get("view") or {}).get("private_metadata") or "{}")["page"])
    except (ValueError, KeyError, TypeError):
        return 0


def _commands(action_id: str, action: dict[str, Any], ctx: Context) -> tuple[Command, Context]:
    """The /news command a Home control stands for (and where it applies)."""
    value = str(action.get("value") or "")
    if action_id == home.HOME_UNFOLLOW:
        return Command("unfollow", value), ctx
    if action_id == home.HOME_ITEMS:
        return Command("settings", "items", value=str(action["selected_option"]["value"])), ctx
    if action_id == home.HOME_TIME:
        return Command("settings", "time", value=str(action.get("selected_time"))), ctx
    if action_id == home.HOME_WEEKENDS:
        return Command("settings", "weekends", value=value), ctx
    if action_id == home.HOME_UNMUTE:
        return Command("unmute", value), ctx
    if action_id == home.HOME_UNSUBSCRIBE:
        target = json.loads(value)
        channel_ctx = Context(team_id=ctx.team_id, channel_id=str(target["c"]),
                              user_id=ctx.user_id, is_dm=False)
        return Command("unsubscribe", str(target["t"])), channel_ctx
    raise ValueError(action_id)


def on_home_action(deps: Deps) -> Handler:
    def handler(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        deps.work.submit(_apply, deps, body)

    return handler


def _apply(deps: Deps, body: dict[str, Any]) -> None:
    ctx = _ctx(body)
    action = _action(body)
    action_id = action.get("action_id", "")
    page = _page(body)
    notice = None
    try:
        if action_id == home.HOME_PAGE:
            page = int(action.get("value") or 0)
        else:
            command, where = _commands(action_id, action, ctx)
            answer = deps.handle(command, where)
            ctx.user_tz = where.user_tz
            notice = getattr(answer, "text", None)
    except (ValueError, KeyError, TypeError):
        log.warning("home action %s with a bad value", action_id)
        notice = "That control has expired; here is your Home as it is now."
    except Exception:  # on a worker thread: unless logged here, it would vanish unseen
        log.exception("home action %s failed", action_id)
        notice = "Sorry, that did not work. Please try again."
    publish_home(deps, ctx, page, notice)
