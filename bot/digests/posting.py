"""The digest runner's Slack side: one post and what came of it, and a digest looked for in a
conversation's history. Nothing here touches the database or decides on a retry: the runner
(:mod:`bot.digests.runner`) records outcomes and its retry policy (:mod:`bot.digests.retry`)
decides what comes next.

:func:`post_digest` sends one ``chat.postMessage`` and sorts its answer into an
:class:`Outcome`:

- ``posted``: Slack stored it (``ts``);
- ``transient``: it did not reach Slack and may next time (a 429, with its ``Retry-After``;
  a connection refused, a name that did not resolve);
- ``unknown``: it may be in Slack (a 5xx or an ``ok: false`` of Slack's own failing, the
  answer ``answered``; a dropped connection or a timeout, no answer): the history will tell;
- ``gone``: the conversation is gone for newsbot (``not_in_channel`` and the like);
- ``refused``: anything else Slack refuses, for good.

The runner adds ``lost`` (its fence found the run held by another process: nothing was sent).
:func:`call_failed` sorts the failure of any other Slack call (``conversations.open``,
``conversations.history``), after which nothing can have landed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import socket
import urllib.error
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.digests.notices import retry_after
from bot.render.digest_blocks import DigestMessage

log = logging.getLogger("newsbot.digests")

EVENT_TYPE = "news_digest"
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "account_inactive"})
# ok:false answers after which Slack may still have stored the message (it failed inside)
UNSURE_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
HISTORY_LIMIT = 50  # messages per history page: the window is the post attempts' minutes
HISTORY_PAGES = 4
CLOCK_SKEW = dt.timedelta(minutes=2)  # between our clock and Slack's message ts
# What a Slack Web API call may raise, besides what Slack answered (SlackApiError, a
# SlackClientError): the network (OSError, urllib's URLError among them), a broken HTTP
# exchange, a body that is not JSON (ValueError).
CALL_ERRORS = (SlackClientError, OSError, http.client.HTTPException, ValueError)

Kind = Literal["posted", "transient", "unknown", "gone", "refused", "lost"]
NOT_SENT: frozenset[Kind] = frozenset({"transient", "gone", "refused"})  # surely not in Slack


@dataclass(frozen=True)
class Outcome:
    """What one post attempt (or the look-up before it) came to."""

    kind: Kind
    error: str = ""  # for the log and the run's record; ``gone``: Slack's error code
    ts: str | None = None  # posted: the message's ts
    retry_after: float | None = None  # transient: wait this long (else the backoff)
    answered: bool = False  # unknown: Slack answered (so it is done with the post)


def post_digest(
    client: WebClient, conversation: str, message: DigestMessage, payload: dict[str, Any]
) -> Outcome:
    """``chat.postMessage`` of a rendered digest, its metadata carrying ``payload`` (the date,
    the run, the post's own mark), no unfurls; what came of it."""
    try:
        response = client.chat_postMessage(
            channel=conversation,
            text=message.text,
            blocks=message.blocks,
            metadata={"event_type": EVENT_TYPE, "event_payload": payload},
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        return _answered(exc)
    except CALL_ERRORS as exc:
        if _never_sent(exc):
            return Outcome("transient", f"{type(exc).__name__}: {exc}")
        return Outcome("unknown", f"{type(exc).__name__}: {exc}")
    return Outcome("posted", ts=response.get("ts"))


def _answered(exc: SlackApiError) -> Outcome:
    """A post Slack answered with an error."""
    code = str(exc.response.get("error") or "")
    status = exc.response.status_code
    if status == 429 or code == "ratelimited":  # refused before anything was stored
        return Outcome("transient", f"HTTP 429 {code}".strip(), retry_after=retry_after(exc))
    if status >= 500 or code in UNSURE_ERRORS:  # may have been stored all the same
        return Outcome("unknown", f"HTTP {status} {code}".strip(), answered=True)
    if code in CHANNEL_GONE:
        return Outcome("gone", code)
    return Outcome("refused", f"Slack refused: {code or status}")


def call_failed(exc: Exception) -> Outcome:
    """A Slack call other than the post failed (one of :data:`CALL_ERRORS`): the conversation
    is gone, or it may pass (a 429 after its ``Retry-After``)."""
    if not isinstance(exc, SlackApiError):
        return Outcome("transient", f"{type(exc).__name__}: {exc}")
    code = str(exc.response.get("error") or "")
    if code in CHANNEL_GONE:
        return Outcome("gone", code)
    status = exc.response.status_code
    return Outcome(
        "transient",
        f"HTTP {status} {code}".strip(),
        retry_after=retry_after(exc) if status == 429 else None,
    )


def _never_sent(exc: BaseException) -> bool:
    """Whether a network error happened before the request left (nothing can be in Slack)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def find_digest(
    client: WebClient,
    conversation: str,
    day: dt.date,
    since: dt.datetime,
    now: dt.datetime,
    *,
    token: str | None = None,
    prefer: str | None = None,
) -> str | None:
    """The ts of ``day``'s digest if it is in the conversation, looked for between ``since``
    (the first post attempt) and ``now``, give or take :data:`CLOCK_SKEW`, in pages of
    :data:`HISTORY_LIMIT`, :data:`HISTORY_PAGES` at most. With ``token``: only the post
    carrying that mark. Else the first of the date, though the one marked ``prefer`` (ours)
    comes before another's (a late post of a process that lost the run).

    The pages come from iterating slack_sdk's ``SlackResponse``, which follows
    ``response_metadata.next_cursor``: each further page is sent through the client's own
    request path (its retry handlers, none on the digest client, its timeout) and checked as
    the first is, so a failed page raises ``SlackApiError`` (or a network error) here, as the
    first page would."""
    oldest = (min(since, now) - CLOCK_SKEW).timestamp()
    latest = (now + CLOCK_SKEW).timestamp()
    pages = client.conversations_history(
        channel=conversation,
        oldest=f"{oldest:.6f}",
        latest=f"{latest:.6f}",
        inclusive=True,
        include_all_metadata=True,
        limit=HISTORY_LIMIT,
    )
    first_found: str | None = None
    for number, page in enumerate(pages, start=1):
        mine, other = _match(page.get("messages") or [], day, token, prefer)
        if mine is not None:
            return mine
        first_found = first_found or other
        if number >= HISTORY_PAGES:
            if page.get("has_more"):
                log.warning(
                    "history of %s: more than %d messages since the post; looked "
                    "at the newest only",
                    conversation,
                    HISTORY_PAGES * HISTORY_LIMIT,
                )
            break
    return first_found


def _match(
    messages: Iterable[dict[str, Any]], day: dt.date, token: str | None, prefer: str | None
) -> tuple[str | None, str | None]:
    """In one page: the ts of the digest sought (by ``token``; else of ``day``, marked
    ``prefer`` if given), and the first other digest of ``day`` (when ``prefer`` is given)."""
    other: str | None = None
    for message in messages:
        meta = message.get("metadata") or {}
        payload = _payload(meta)
        if meta.get("event_type") != EVENT_TYPE:
            continue
        if token:
            if payload.get("post") == token:
                return str(message.get("ts")), other
        elif payload.get("date") == day.isoformat():
            if not prefer or payload.get("post") == prefer:
                return str(message.get("ts")), other
            other = other or str(message.get("ts"))
    return None, other


def _payload(meta: dict[str, Any]) -> Any:
    """A message metadata's ``event_payload``: an object, or JSON text of one."""
    payload = meta.get("event_payload") or {}
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = {}
    return payload
