"""Assembling a running newsbot from configuration: store, core service, Slack client."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from http.client import HTTPException

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot import logsafe
from bot.app import build_app
from bot.config import Config
from bot.core.digest import DigestSettings
from bot.core.loader import Clock
from bot.core.service import NewsService, Settings
from bot.digests.housekeeping import add_housekeeping_job
from bot.digests.scheduler import DigestScheduler, start_digests
from bot.feeds.job import add_poll_job
from bot.feeds.poller import Poller
from bot.render.common import one_line
from bot.render.text import digest_text
from bot.slack.client import make_client
from bot.slack.zones import JOB_ID, refresh_follower_zones
from storage.store import Store

log = logging.getLogger("newsbot")


class StartupError(Exception):
    """Why newsbot cannot start, in one line (never including a secret)."""


SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
INSTALL = "see README, 'Install in Slack'"


@dataclass(frozen=True)
class Mode:
    """What ``newsbot run`` starts, and the line that says so and why."""

    name: str  # "socket", "http" or "shell"
    why: str


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def choose_mode(config: Config) -> Mode:
    """Socket Mode with a bot token and an app token, HTTP with a bot token and a signing
    secret, the local shell with no Slack variable at all; any other combination cannot
    connect and is a :class:`StartupError` naming what is set and what is missing. Only the
    variables' names are ever said, never their values."""
    found = [
        name
        for name, value in zip(
            SLACK_VARIABLES,
            (config.slack_bot_token, config.slack_app_token, config.slack_signing_secret),
            strict=True,
        )
        if value
    ]
    verb = "is" if len(found) == 1 else "are"
    if not found:
        return Mode(
            "shell",
            f"none of {', '.join(SLACK_VARIABLES)} is set: starting the local shell, which "
            f"never talks to Slack (to connect Slack, {INSTALL})",
        )
    if not config.slack_bot_token:
        raise StartupError(
            f"{_names(found)} {verb} set but SLACK_BOT_TOKEN is not: the bot needs its bot "
            f"token (xoxb-...) to answer in Slack; {INSTALL}"
        )
    check_token_shapes(config)
    if config.slack_app_token:
        extra = (
            " (SLACK_SIGNING_SECRET is set too: Socket Mode does not use it)"
            if config.slack_signing_secret
            else ""
        )
        return Mode(
            "socket", f"{_names(found[:2])} are set: connecting to Slack in Socket Mode{extra}"
        )
    if config.slack_signing_secret:
        return Mode("http", f"{_names(found)} are set: serving Slack over HTTP")
    raise StartupError(
        "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
        "SLACK_SIGNING_SECRET (HTTP): set one of them to connect to Slack, or unset "
        f"SLACK_BOT_TOKEN for the local shell; {INSTALL}"
    )


def check_token_shapes(config: Config) -> None:
    """A token in the wrong variable, said before Slack is asked (its prefix only)."""
    bot, app = config.slack_bot_token, config.slack_app_token
    if bot and not bot.startswith(("xoxb-", "xoxe.xoxb-")):
        raise StartupError(
            f"SLACK_BOT_TOKEN does not look like a bot token: {_kind(bot)}, where a bot token "
            f"starts with xoxb-; {INSTALL}"
        )
    if app and not app.startswith("xapp-"):
        raise StartupError(
            f"SLACK_APP_TOKEN does not look like an app-level token: {_kind(app)}, where an "
            f"app-level token starts with xapp- (Basic Information, App-Level Tokens); {INSTALL}"
        )


def _kind(token: str) -> str:
    """What a token is, by its prefix alone (the rest is the secret)."""
    for prefix, kind in (
        ("xapp-", "it is an app-level token (xapp-)"),
        ("xoxp-", "it is a user token (xoxp-)"),
        ("xoxb-", "it is a bot token (xoxb-)"),
        ("xoxe", "it is a refresh or rotating token (xoxe)"),
    ):
        if token.startswith(prefix):
            return kind
    return "it has none of Slack's token prefixes"


@dataclass
class Runtime:
    config: Config
    store: Store
    clock: Clock
    poller: Poller | None = None  # the feed poller, once the scheduler runs

    @property
    def service(self) -> NewsService:
        if not hasattr(self, "_service"):
            self._service = NewsService(
                self.store,
                self.clock,
                Settings.from_config(self.config),
                digest_settings=DigestSettings.from_config(self.config),
            )
        return self._service

    def require(self, *names: str) -> None:
        values = {
            "SLACK_BOT_TOKEN": self.config.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.config.slack_signing_secret,
            "SLACK_APP_TOKEN": self.config.slack_app_token,
        }
        missing = [n for n in names if not values[n]]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise StartupError(
                f"{' and '.join(missing)} {verb} not set: see README, 'Install in Slack'"
            )

    def build_app(self, *, http: bool) -> App:

        self.require("SLACK_BOT_TOKEN", *(["SLACK_SIGNING_SECRET"] if http else []))
        check_token_shapes(self.config)
        client = make_client(self.config.slack_bot_token, self.config.slack_api_url)
        try:
            with logsafe.silenced("slack_sdk"):  # its retries' ERROR lines: said below, once
                client.auth_test()
        except SlackApiError as exc:
            reason = exc.response.get("error", "error")
            raise StartupError(f"Slack did not accept SLACK_BOT_TOKEN: {reason}") from None
        except (OSError, ValueError, HTTPException) as exc:
            raise StartupError(f"cannot reach Slack's Web API: {one_line(exc)}") from None
        try:
            return build_app(
                self.service,
                client,
                self.config.slack_signing_secret if http else None,
                workers=self.config.server.workers,
            )
        except BoltError as exc:
            raise StartupError(f"cannot start the Slack app: {str(exc).splitlines()[0]}") from None

    def start_digests(self, *, local: bool = False) -> DigestScheduler:
        """The digest scheduler, rebuilt from the database and started; it follows every
        subscription change made through the service. ``local``: print digests (the shell)."""

        sink = (lambda digest: print(digest_text(digest), flush=True)) if local else None
        # The shell never posts to Slack, whatever tokens are set (issue 14).
        digests = start_digests(
            self.store, self.config, clock=self.clock, local_sink=sink, slack=not local
        )
        self.service.on_change.append(digests.sync_channel)
        client = (
            make_client(self.config.slack_bot_token, self.config.slack_api_url)
            if self.config.slack_bot_token and not local
            else None
        )
        self.poller = add_poll_job(digests.scheduler, self.store, self.clock, self.config, client)
        add_housekeeping_job(digests.scheduler, self.store, self.config, self.clock)
        if client is not None:
            digests.scheduler.add_job(
                refresh_follower_zones,
                "cron",
                hour=3,
                minute=17,
                args=(self.service, client),
                id=JOB_ID,
                replace_existing=True,
            )
        return digests

    def stop(self, digests: DigestScheduler) -> None:
        """The end of a graceful stop, once the server has answered what was in flight: let a
        digest run finish, stop the scheduler, close the database."""
        digests.shutdown(wait=True)
        if self.poller is not None:
            self.poller.close()
        self.store.close()


def say(message: str) -> None:
    print(f"newsbot: {message}", file=sys.stderr, flush=True)
