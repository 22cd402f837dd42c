"""The Bolt app: build it, register the listeners, start it. Nothing else lives here."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot import listeners
from bot.core.service import NewsService
from bot.listeners.deps import Deps

log = logging.getLogger("newsbot.app")


class _OneClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client wins: it is meant to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def build_app(service: NewsService, client: WebClient, signing_secret: str | None) -> App:
    """A Bolt app whose every HTTP request must carry Slack's signature (``signing_secret``);
    Socket Mode passes ``None`` (Slack's socket is authenticated by the app token instead).
    The caller has checked the token (``auth.test``)."""
    bolt_log = logging.getLogger("newsbot.bolt")
    bolt_log.addFilter(_OneClient())
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,
        logger=bolt_log,
    )
    listeners.register(app, Deps(service=service, client=client))

    @app.error
    def on_error(error: Exception) -> None:
        log.exception("listener failed: %s", type(error).__name__, exc_info=error)

    return app
