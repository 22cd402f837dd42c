"""The Home tab: published when a user opens it, and again after each change they make."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.service import Context
from bot.listeners.deps import Deps, add_user_info, slack_id
from bot.render.home import home_error_view, home_view

log = logging.getLogger("newsbot.slack")


def publish_home(
    deps: Deps,
    ctx: Context,
    page: int = 0,
    notice: str | None = None,
    mentions: tuple[str, ...] = (),
) -> None:
    """Look the user up (zone), build their Home and ``views.publish`` it, ``notice`` at the
    top (its channel ``mentions`` as links); an error is logged, never raised (this runs on
    a worker thread, where nobody else would see it)."""
    if ctx.user_tz is None:
        add_user_info(ctx, deps.client)
    try:
        view = home_view(deps.service.home(ctx, page), notice, mentions)
    except Exception:
        log.exception("building the Home tab of %s failed", ctx.user_id)
        view = home_error_view()
    try:
        deps.client.views_publish(user_id=ctx.user_id, view=view)
    except (SlackApiError, OSError) as exc:
        log.warning("views.publish for %s failed: %s", ctx.user_id, getattr(exc, "response", exc))


def app_home_opened(deps: Deps) -> Callable[..., None]:
    def on_open(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = slack_id(event.get("user"))
        team = slack_id(body.get("team_id"))
        if not user or not team:  # no one to publish a Home for
            log.info("app_home_opened without a user or team: ignored")
            return
        ctx = Context(
            team_id=team, channel_id=slack_id(event.get("channel")), user_id=user, is_dm=True
        )
        deps.work.submit(publish_home, deps, ctx)

    return on_open
