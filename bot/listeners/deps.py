"""What listeners need, handed to each ``register``: built once in ``bot.app``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.answers import Answer
from bot.core.commands import Command
from bot.core.service import Context, NewsService
from bot.render.blocks import render

log = logging.getLogger("newsbot.slack")


Reply = tuple[str, list[dict[str, Any]]]  # (fallback text, blocks)


@dataclass
class Deps:
    service: NewsService
    client: WebClient  # the bot's client (retries 429/5xx)
    work: Executor  # where the work after an ack runs, so acks never queue behind it

    def handle(self, command: Command, ctx: Context) -> Answer:
        """Carry a command out for ``ctx``, looking the user up first when it needs to."""
        if self.service.needs_user_info(command, ctx):
            add_user_info(ctx, self.client)
        return self.service.handle(command, ctx)

    def reply(self, command: Command, ctx: Context) -> Reply:
        """``handle``, rendered as a Slack message."""
        return render(self.handle(command, ctx), self.service.clock())

    def after_ack(self, respond: Respond, job: Callable[[], Reply | None], *,
                  replace_original: bool = False) -> None:
        """Run ``job`` off Bolt's listener threads and send what it returns, privately.

        Bolt answers Slack when a listener calls ``ack()``, but only once a listener thread
        is free to call it: doing the work on those threads makes later acks wait for earlier
        searches. A failure is logged and the person told, never left without an answer.
        """

        def run() -> None:
            try:
                reply = job()
            except Exception:
                log.exception("command failed")
                reply = ("Sorry, that did not work. Please try again.",
                         [{"type": "section", "text": {"type": "mrkdwn",
                           "text": "Sorry, that did not work. Please try again."}}])
            if reply is None:
                return
            text, blocks = reply
            try:
                respond(text=text, blocks=blocks, response_type="ephemeral",
                        replace_original=replace_original)
            except Exception:
                log.exception("could not answer through response_url")

        self.work.submit(run)


def slack_text(text: str | None) -> str:
    """What a person typed, from a slash command's ``text``: Slack sends ``&``, ``<`` and ``>``
    as ``&amp;``, ``&lt;`` and ``&gt;`` (``&amp;`` last, so a typed ``&lt;`` stays as typed)."""
    return (text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def context_from(payload: dict[str, Any]) -> Context:
    """A Context from a slash command payload or an interaction body."""
    team = payload.get("team_id") or (payload.get("team") or {}).get("id") or ""
    channel = payload.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    user = payload.get("user_id") or (payload.get("user") or {}).get("id") or ""
    is_dm = channel.startswith("D") or payload.get("channel_name") == "directmessage"
    return Context(team_id=team, channel_id=channel, user_id=user, is_dm=is_dm)


def add_user_info(ctx: Context, client: WebClient) -> Context:
    """Fill the user's time zone and admin flag from ``users.info``; on failure leave them
    unknown (an unknown admin flag counts as not an admin). The zone is Slack's, unchecked:
    the service stores only a zone zoneinfo knows, and says when Slack's is not one."""
    try:
        user = client.users_info(user=ctx.user_id)["user"]
    except (SlackApiError, OSError) as exc:
        log.warning("users.info failed for %s: %s", ctx.user_id, getattr(exc, "response", exc))
        return ctx
    ctx.user_tz = user.get("tz") or None
    ctx.is_admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
    return ctx
