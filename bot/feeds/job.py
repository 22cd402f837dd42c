"""The poller on the bot's scheduler: job ``sources-poll`` runs a round every minute (a round
takes only the sources that are due, so a minute's tick costs one query when none is), one at
a time, beside the digests and never in their way (its fetches run on its own threads, its
writes in short transactions). Job ``stories-regroup`` groups what the rounds wrote into
stories every ``REGROUP_EVERY`` (a round does not wait for it). Health notices go to whoever
added the source, as a Slack DM.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.regroup import regroup, rule_version
from bot.feeds.poller import Notify, Poller, PollSettings
from bot.render.common import escape
from storage.sources import Source
from storage.store import Store

log = logging.getLogger("newsbot.feeds")

JOB_ID = "sources-poll"
EVERY = dt.timedelta(minutes=1)
REGROUP_JOB_ID = "stories-regroup"
REGROUP_EVERY = dt.timedelta(minutes=5)  # how long a polled article may stand alone at most


def slack_notify(client: WebClient | None) -> Notify:
    """Tell a source's adder in a DM. A source added from the command line (or without Slack)
    is told in the log. True when said (or nobody can be told): the poller then marks it."""

    def notify(source: Source, text: str) -> bool:
        user = source.added_by.split(":", 1)[1] if ":" in source.added_by else None
        if client is None or not user:
            log.warning("source #%d: %s", source.id, text)
            return True
        try:
            # A feed's address and error are not ours: escaped (no mention, no link) and sent
            # with mrkdwn off (no bold or code from a stray mark).
            client.chat_postMessage(
                channel=user,
                text=escape(f"newsbot: {text}."),
                mrkdwn=False,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            log.warning(
                "source #%d: could not tell %s: %s",
                source.id,
                user,
                exc.response.get("error", "error"),
            )
            return False
        return True

    return notify


def add_poll_job(
    scheduler: BaseScheduler,
    store: Store,
    clock: Callable[[], dt.datetime],
    config: Any,
    client: WebClient | None,
) -> Poller:
    """The poller, and its job on ``scheduler``."""
    poller = Poller(store, clock, PollSettings.from_config(config), notify=slack_notify(client))
    scheduler.add_job(
        run_round,
        "interval",
        seconds=EVERY.total_seconds(),
        args=(poller,),
        id=JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        regroup_pending,
        "interval",
        seconds=REGROUP_EVERY.total_seconds(),
        args=(store,),
        id=REGROUP_JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    return poller


def regroup_pending(store: Store) -> int:
    """The regroup job: the stories of what the rounds wrote (nothing to do costs a query).
    Another process regrouping (a load) is left to finish; the next tick looks again. After
    an upgrade that changed the grouping rule it waits for ``newsbot regroup`` (a full
    regroup is an operator's decision: see README, Stories and search)."""
    try:
        state = store.grouping_state()
        if state["rule"] != rule_version() and state["dated"] > state["pending"]:
            return 0  # stories of another rule: newsbot regroup (said at start)
        return regroup(store).changed
    except Exception:
        log.exception("sources: the regroup failed; the next one will try again")
        return 0


def run_round(poller: Poller) -> int:
    """The job: one round; whatever goes wrong is logged and the next tick tries again (a
    source's own failures are recorded on it: this catches the database being busy)."""
    try:
        return len(poller.run_round().polled)
    except Exception:
        log.exception("sources: the poll round failed; the next one will try again")
        return 0
