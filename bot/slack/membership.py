"""Can the bot post in a conversation? Asked of Slack before a subscription is stored or
resumed (``/news subscribe``, ``follow``, ``resume``, the Subscribe and Resume buttons), so a
channel the bot is not in is refused at once, with how to fix it, rather than failing at the
next morning's digest.

- A DM (the person's own, with the bot): yes, without a call. The bot may always open a DM
  with a member of its workspace (``im:write``; the manifest turns the Messages tab on), and
  the digest runner opens it with ``conversations.open`` at posting time anyway: checking
  here would only cost a call.
- ``conversations.info``: ``is_member`` is yes; an archived channel is no.
- Not a member of a public channel: ``conversations.join`` (scope ``channels:join``), then yes.
- A private channel the bot is not in is invisible to it (``channel_not_found``), like a
  channel that does not exist: no, invite the bot. So is a refused join.
- Slack not answering (a network error, 5xx, 429 after the client's retries): "unanswered",
  never an exception; nothing is stored and the person is asked to try again.

What this returns is the core's :class:`~bot.core.service.base.PostCheck`: the service words
the answer; nothing in the core knows Slack.
"""

from __future__ import annotations

import http.client
import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.service.base import CanPost, Context, PostCheck

log = logging.getLogger("newsbot.slack")

# What a Web API call may raise besides Slack's own answer: the network, a broken HTTP
# exchange, a body that is not JSON (as bot.digests.posting's CALL_ERRORS).
CALL_ERRORS = (SlackClientError, OSError, http.client.HTTPException, ValueError)
# Slack's answers that mean the bot cannot see or enter the conversation: invite it.
NOT_MEMBER = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "method_not_allowed_for_channel_type",
        "cant_invite_self",
        "restricted_action",
        "is_private",
        "user_is_restricted",
    }
)
# Slack's answers that say nothing about the conversation: it did not answer the question.
UNANSWERED = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
DEFAULT_NAME = "newsbot"


def checker(client: WebClient) -> CanPost:
    """The ``Context.can_post`` of the Slack app: :func:`can_post` with this client."""

    def check(ctx: Context) -> PostCheck:
        return can_post(client, ctx)

    return check


def can_post(client: WebClient, ctx: Context) -> PostCheck:
    """Whether the bot can post in ``ctx``'s conversation, joining a public channel it is not
    in when it may; never raises for anything Slack or the network does."""
    if ctx.is_dm:
        return PostCheck("member")
    try:
        info = client.conversations_info(channel=ctx.channel_id)["channel"]
    except SlackApiError as exc:
        return _refused(client, ctx, "conversations.info", exc)
    except CALL_ERRORS as exc:
        log.warning("conversations.info for %s failed: %s", ctx.channel_id, type(exc).__name__)
        return PostCheck("unanswered")
    if not isinstance(info, dict):
        return PostCheck("unanswered")
    if info.get("is_archived"):
        return PostCheck("archived")
    if info.get("is_member") or info.get("is_im"):
        return PostCheck("member")
    if info.get("is_private") is not False or info.get("is_mpim"):
        # a private channel or group DM (only a member may add the bot), or one Slack did
        # not say is public: joining is for public channels alone
        return PostCheck("not_member", _bot_name(client))
    try:
        client.conversations_join(channel=ctx.channel_id)
    except SlackApiError as exc:
        return _refused(client, ctx, "conversations.join", exc)
    except CALL_ERRORS as exc:
        log.warning("conversations.join of %s failed: %s", ctx.channel_id, type(exc).__name__)
        return PostCheck("unanswered")
    log.info("joined %s to post its digest", ctx.channel_id)
    return PostCheck("joined")


def _refused(client: WebClient, ctx: Context, method: str, exc: SlackApiError) -> PostCheck:
    """What Slack's error answer to ``method`` means for posting in ``ctx``'s conversation."""
    response: Any = exc.response
    code = str(response.get("error") or "")
    status = getattr(response, "status_code", 200)
    log.debug("%s for %s: %s", method, ctx.channel_id, code or status)  # no INFO per request
    if status == 429 or status >= 500 or code in UNANSWERED or not code:
        return PostCheck("unanswered")
    if code == "is_archived":
        return PostCheck("archived")
    if code == "missing_scope":
        needed = str(response.get("needed") or "")
        if method == "conversations.join":  # no channels:join: inviting the bot still works
            return PostCheck("not_member", _bot_name(client))
        log.warning("newsbot's Slack app lacks the scope %r (%s)", needed, method)
        return PostCheck("no_permission", scope=needed if _scopes(needed) else "")
    if code in NOT_MEMBER:
        return PostCheck("not_member", _bot_name(client))
    return PostCheck("unanswered")


def _scopes(text: str) -> bool:
    """Whether ``text`` is a list of Slack scope names (safe to show in a message)."""
    return bool(re.fullmatch(r"[a-z.:_]{1,40}(,[a-z.:_]{1,40}){0,5}", text))


def _bot_name(client: WebClient) -> str:
    """The bot's user name for ``/invite @...`` (``auth.test``'s ``user``), or "newsbot"
    when Slack does not say: asked only when the answer needs it, a refusal being rare."""
    try:
        name = client.auth_test().get("user")
    except (SlackApiError, *CALL_ERRORS):
        return DEFAULT_NAME
    return name if isinstance(name, str) and _NAME.fullmatch(name) else DEFAULT_NAME
