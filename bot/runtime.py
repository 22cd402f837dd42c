"""Assembling a running newsbot from configuration: store, core service, Slack client."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.config import Config
from bot.core.digest import DigestSettings
from bot.core.loader import Clock
from bot.core.service import NewsService, Settings
from bot.digests.scheduler import DigestScheduler, start_digests
from bot.feeds.job import add_poll_job
from bot.feeds.poller import Poller
from bot.render.text import digest_text
from bot.slack.client import make_client
from bot.slack.zones import JOB_ID, refresh_follower_zones
from storage.store import Store

log = logging.getLogger("newsbot")


class StartupError(Exception):
    """Why newsbot cannot start, in one line (never including a secret)."""


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
        client = make_client(self.config.slack_bot_token, self.config.slack_api_url)
        try:
            client.auth_test()
        except SlackApiError as exc:
            reason = exc.response.get("error", "error")
            raise StartupError(f"Slack did not accept SLACK_BOT_TOKEN: {reason}") from None
        except OSError as exc:
            raise StartupError(f"cannot reach Slack's Web API: {exc}") from None
        try:
            return build_app(
                self.service, client, self.config.slack_signing_secret if http else None
            )
        except BoltError as exc:
            raise StartupError(f"cannot start the Slack app: {str(exc).splitlines()[0]}") from None

    def start_digests(self, *, local: bool = False) -> DigestScheduler:
        """The digest scheduler, rebuilt from the database and started; it follows every
        subscription change made through the service. ``local``: print digests (the shell)."""

        sink = (lambda digest: print(digest_text(digest), flush=True)) if local else None
        digests = start_digests(self.store, self.config, clock=self.clock, local_sink=sink)
        self.service.on_change.append(digests.sync_channel)
        client = (
            make_client(self.config.slack_bot_token, self.config.slack_api_url)
            if self.config.slack_bot_token and not local
            else None
        )
        self.poller = add_poll_job(digests.scheduler, self.store, self.clock, self.config, client)
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
