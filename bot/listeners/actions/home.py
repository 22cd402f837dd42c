"""Controls on the Home tab: each changes one thing, then the tab is published again.

Unsubscribe and Resume name a channel: they are carried out only there where the user made a
subscription, the answer naming the channel (``Context.named``: its mention, kept a link by
the Home renderer). Resume, as ``/news resume``, first checks that the bot can post there."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.core.commands import MAX_TOPIC_CHARS, Command
from bot.core.service import Context
from bot.listeners.deps import Deps, json_value, slack_id
from bot.listeners.events.app_home import publish_home
from bot.render import home
from storage.subscriptions import topic_key

log = logging.getLogger("newsbot.slack")

Handler = Callable[..., None]
MAX_PAGE = 10_000


class NotYours(Exception):
    """The control names a subscription the user did not make (a forged or stale value)."""


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _ctx(body: dict[str, Any]) -> Context:
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    team: dict[str, Any] = body["team"] if isinstance(body.get("team"), dict) else {}
    user_id = slack_id(user.get("id"))
    return Context(
        team_id=slack_id(team.get("id") or user.get("team_id")),
        channel_id=user_id,
        user_id=user_id,
        is_dm=True,
    )


def _page(body: dict[str, Any]) -> int:
    """The page of follows the Home tab showed when the control was used."""
    view: dict[str, Any] = body["view"] if isinstance(body.get("view"), dict) else {}
    meta = json_value(view.get("private_metadata") or "{}", limit=200)
    page = meta.get("page") if isinstance(meta, dict) else None
    return page if type(page) is int and 0 <= page <= MAX_PAGE else 0


def _number(value: Any, most: int) -> str:
    """``value`` if it is a whole number from 0 to ``most`` in ASCII digits; else ValueError."""
    if not (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 6
        and int(value) <= most
    ):
        raise ValueError("not a number newsbot rendered")
    return value


def _own_paused_channel(deps: Deps, ctx: Context, value: str) -> str:
    """The channel a Resume button names, if the user made a subscription there; else
    :class:`NotYours` (the value is the client's to forge)."""
    target = json_value(value, limit=200)
    channel = slack_id(target.get("c")) if isinstance(target, dict) else ""
    if not channel:
        raise ValueError("not a channel value")
    for sub in deps.service.store.subscriptions(ctx.team_id, channel):
        if sub["kind"] == "channel" and sub["subscribed_by"] == ctx.user_id:
            return channel
    raise NotYours(channel)


def _in_channel(ctx: Context, channel: str) -> Context:
    """``ctx``'s user acting from the Home tab on ``channel``, named by its mention."""
    return Context(
        team_id=ctx.team_id,
        channel_id=channel,
        user_id=ctx.user_id,
        is_dm=False,
        named=f"<#{channel}>",
    )


def _own_channel_subscription(deps: Deps, ctx: Context, value: str) -> tuple[str, str]:
    """(channel, topic) from an Unsubscribe button's value, if the user made that channel
    subscription; :class:`NotYours` otherwise. The value is the client's to forge: it once
    removed another channel's subscription, or (DM follows being keyed by user) a person's."""
    target = json_value(value, limit=2000)
    if not isinstance(target, dict):
        raise ValueError("not a subscription value")
    channel, topic = slack_id(target.get("c")), target.get("t")
    if not channel or not isinstance(topic, str) or not topic.strip():
        raise ValueError("not a subscription value")
    key = topic_key(topic)
    for sub in deps.service.store.subscriptions(ctx.team_id, channel):
        if (
            sub["topic_key"] == key
            and sub["kind"] == "channel"
            and sub["subscribed_by"] == ctx.user_id
        ):
            return channel, topic
    raise NotYours(channel)


def _text(value: Any, most: int = MAX_TOPIC_CHARS) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise ValueError("not a value newsbot rendered")
    return value


def _commands(
    deps: Deps, action_id: str, action: dict[str, Any], ctx: Context
) -> tuple[Command, Context]:
    """The /news command a Home control stands for (and where it applies). Each acts on the
    user's own follows, mutes and settings, but Unsubscribe, which names a channel: it is
    carried out only for a channel subscription the user made (and, with admins_only, by an
    admin: the service checks that)."""
    value = action.get("value")
    if action_id == home.HOME_UNFOLLOW:
        return Command("unfollow", _text(value)), ctx
    if action_id == home.HOME_ITEMS:
        option = action.get("selected_option")
        chosen = option.get("value") if isinstance(option, dict) else None
        return Command("settings", "items", value=_number(chosen, 99)), ctx
    if action_id == home.HOME_TIME:
        return Command("settings", "time", value=_text(action.get("selected_time"), 10)), ctx
    if action_id == home.HOME_WEEKENDS:
        return Command("settings", "weekends", value=_text(value, 10)), ctx
    if action_id == home.HOME_UNMUTE:
        return Command("unmute", _text(value)), ctx
    if action_id == home.HOME_UNSUBSCRIBE:
        channel, topic = _own_channel_subscription(deps, ctx, _text(value, 2000))
        return Command("unsubscribe", topic), _in_channel(ctx, channel)
    if action_id == home.HOME_RESUME:
        if value == home.RESUME_DM:
            return Command("resume"), ctx
        channel = _own_paused_channel(deps, ctx, _text(value, 200))
        return Command("resume"), _in_channel(ctx, channel)
    raise ValueError(action_id)


def on_home_action(deps: Deps) -> Handler:
    def handler(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        deps.work.submit(_apply, deps, body)

    return handler


def _apply(deps: Deps, body: dict[str, Any]) -> None:
    ctx = _ctx(body)
    if not ctx.user_id or not ctx.team_id:
        log.info("a Home control without a user or team: nothing to do")
        return
    action = _action(body)
    action_id = action.get("action_id", "")
    page = _page(body)
    notice = None
    mentions: tuple[str, ...] = ()
    try:
        if action_id == home.HOME_PAGE:
            page = int(_number(action.get("value") or "0", MAX_PAGE))
        else:
            command, where = _commands(deps, action_id, action, ctx)
            answer = deps.handle(command, where)
            ctx.user_tz = where.user_tz
            ctx.is_admin = where.is_admin
            notice = getattr(answer, "text", None)
            mentions = (where.named,) if where.named else ()
    except NotYours:
        log.warning(
            "home action %s by %s names a subscription they did not make", action_id, ctx.user_id
        )
        notice = (
            "That subscription is not one you made, so I left it alone. In its channel, "
            "`/news unsubscribe <topic>` stops it."
        )
    except (ValueError, KeyError, TypeError):
        log.info("home action %s with a value newsbot never rendered", action_id)
        notice = "That control has expired; here is your Home as it is now."
    except Exception:  # on a worker thread: unless logged here, it would vanish unseen
        log.exception("home action %s failed", action_id)
        notice = "Sorry, that did not work. Please try again."
    publish_home(deps, ctx, page, notice, mentions)
