"""Notices to people ("your subscription was paused"): kept in the database until Slack takes
them, so a Slack outage at the moment of the pause cannot lose one.

``Store.pause_channel_for`` queues them in the same transaction as the pause;
:func:`send_notices` sends those whose time has come. The digest runner calls it right after a
pause, the scheduler every minute (and at start), ``newsbot digest`` at its end. A notice that
fails for a passing reason (5xx, 429, a dropped connection) is tried again with backoff; one
Slack refuses for good (the user is gone) is marked ``never`` and logged. A notice whose answer
was lost may be sent twice: unlike digests, notices carry no metadata to look for, and a second
"paused" DM costs less than none.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from storage.store import Store

log = logging.getLogger("newsbot.digests")

# Slack's answers after which a notice cannot be delivered however often it is tried
NOTICE_FINAL = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "missing_scope",
    }
)


class Backoff(Protocol):
    def delay(self, failures: int) -> float: ...


def retry_after(exc: SlackApiError) -> float | None:
    """A 429's ``Retry-After``, in seconds (None when absent or unreadable)."""
    headers = getattr(exc.response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def send_notices(
    store: Store,
    client: WebClient,
    now: dt.datetime,
    backoff: Backoff,
    clock: Callable[[], dt.datetime],
) -> list[dict[str, Any]]:
    """Send the notices whose time has come; returns those sent. Never raises."""
    sent = []
    try:
        pending = store.pending_notices(now)
    except sqlite3.OperationalError as exc:
        log.warning("cannot read the pending notices now: %s", exc)
        return []
    for notice in pending:
        try:  # a user id as the channel: Slack posts in the app's DM with them
            client.chat_postMessage(
                channel=notice["user_id"],
                text=notice["text"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = str(exc.response.get("error") or exc.response.status_code)
            final = code in NOTICE_FINAL
            again = (
                None
                if final
                else now
                + dt.timedelta(seconds=retry_after(exc) or backoff.delay(notice["attempts"] + 1))
            )
            _failed(store, notice, now, code, again)
            continue
        except (OSError, http.client.HTTPException, SlackClientError, ValueError) as exc:
            again = now + dt.timedelta(seconds=backoff.delay(notice["attempts"] + 1))
            _failed(store, notice, now, f"{type(exc).__name__}: {exc}", again)
            continue
        try:
            store.notice_sent(notice["id"], clock())
        except sqlite3.OperationalError as exc:
            log.warning("notice %s sent, but not recorded (%s)", notice["id"], exc)
        sent.append(notice)
    return sent


def _failed(
    store: Store, notice: dict[str, Any], now: dt.datetime, error: str, again: dt.datetime | None
) -> None:
    if again is None:
        log.error(
            "cannot tell %s that %s was paused: Slack says %s; not trying again",
            notice["user_id"],
            notice["channel_id"],
            error,
        )
    else:
        log.warning(
            "could not tell %s that %s was paused (%s); trying again at %s",
            notice["user_id"],
            notice["channel_id"],
            error,
            again.isoformat(timespec="seconds"),
        )
    try:
        store.notice_failed(notice["id"], now, error, again)
    except sqlite3.OperationalError as exc:
        log.warning("cannot record the notice's failure (%s)", exc)
