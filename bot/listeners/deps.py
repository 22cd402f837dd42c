"""What listeners need, handed to each ``register``: built once in ``bot.app``."""

from __future__ import annotations

import json
import logging
import re
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
from bot.render.blocks import message_blocks, render
from bot.slack.membership import checker

log = logging.getLogger("newsbot.slack")


Reply = tuple[str, list[dict[str, Any]]]  # (fallback text, blocks)


@dataclass
class Deps:
    service: NewsService
    client: WebClient  # the bot's client (retries 429/5xx)
    work: Executor  # where the work after an ack runs, so acks never queue behind it

    def handle(self, command: Command, ctx: Context) -> Answer:
        """Carry a command out for ``ctx``, looking the user up first when it needs to. A
        subscription stored or resumed is first checked: can the bot post there?"""
        if ctx.can_post is None:
            ctx.can_post = checker(self.client)
        if self.service.needs_user_info(command, ctx):
            add_user_info(ctx, self.client)
        return self.service.handle(command, ctx)

    def reply(self, command: Command, ctx: Context) -> Reply:
        """``handle``, rendered as a Slack message."""
        return render(self.handle(command, ctx), self.service.clock())

    def after_ack(
        self, respond: Respond, job: Callable[[], Reply | None], *, replace_original: bool = False
    ) -> None:
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
                reply = (
                    "Sorry, that did not work. Please try again.",
                    [
                        {
                            "type": "section",
                            "text": {
                                "type": "mrkdwn",
                                "text": "Sorry, that did not work. Please try again.",
                            },
                        }
                    ],
                )
            if reply is None:
                return
            url = getattr(respond, "response_url", None) if respond is not None else None
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                # a request without a response_url (forged or broken): nowhere to answer
                log.info("no response_url to answer on")
                return
            text, blocks = reply
            try:
                respond(
                    text=text,
                    blocks=blocks,
                    response_type="ephemeral",
                    replace_original=replace_original,
                )
            except Exception as exc:  # Slack down, or a response_url that leads nowhere
                log.warning("could not answer through response_url: %s", type(exc).__name__)

        self.work.submit(run)


def slack_text(text: str | None) -> str:
    """What a person typed, from a slash command's ``text``: Slack sends ``&``, ``<`` and ``>``
    as ``&amp;``, ``&lt;`` and ``&gt;`` (``&amp;`` last, so a typed ``&lt;`` stays as typed)."""
    return (text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_SLACK_ID = re.compile(r"[A-Z0-9][A-Z0-9_]{0,39}")
MAX_ID = 2**63 - 1  # what SQLite stores; a larger number is no id of ours
EXPIRED = "That button has expired: search again with /news."


def slack_id(value: Any) -> str:
    """``value`` if it looks like a Slack id (``C0123``, ``U1``), else ""."""
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else ""


def _id_of(payload: dict[str, Any], flat: str, nested: str) -> str:
    value = payload.get(flat)
    if not value:
        inner = payload.get(nested)
        value = inner.get("id") if isinstance(inner, dict) else inner
    return slack_id(value)


def context_from(payload: dict[str, Any]) -> Context:
    """A Context from a slash command payload or an interaction body; an id that is missing
    or not shaped like Slack's is "" (see :func:`unplaced`)."""
    team = _id_of(payload, "team_id", "team")
    channel = _id_of(payload, "channel_id", "channel")
    user = _id_of(payload, "user_id", "user")
    is_dm = channel.startswith("D") or payload.get("channel_name") == "directmessage"
    return Context(team_id=team, channel_id=channel, user_id=user, is_dm=is_dm)


def unplaced(ctx: Context) -> Reply | None:
    """A polite answer when Slack's request does not say who asked, or where: nothing may be
    stored for a channel or person "" (a forged or broken request)."""
    if ctx.team_id and ctx.user_id and ctx.channel_id:
        return None
    return message_blocks(
        "Sorry, I could not tell who asked or in which conversation, so I "
        "did nothing. Please try again from Slack."
    )


def article_id(value: Any) -> int | None:
    """An article id from a button's value, or None for anything newsbot never rendered."""
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def json_value(raw: Any, limit: int = 4000) -> Any:
    """A button's JSON value, or None when it is not JSON newsbot could have written (too long,
    too deep: ``json`` raises RecursionError on deep nesting)."""
    if not isinstance(raw, str) or len(raw) > limit:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


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
    ctx.is_admin = bool(
        user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
    )
    return ctx
