"""The Bolt app: build it, register the listeners, start it. Nothing else lives here."""

from __future__ import annotations

import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot import listeners, logsafe
from bot.core.service import NewsService
from bot.listeners.deps import Deps

log = logging.getLogger("newsbot.app")

WORKERS = 4  # threads doing the work after acks (searches, Slack calls)
# Each app's executors, listener threads first: a graceful stop finishes what they hold.
_EXECUTORS: weakref.WeakKeyDictionary[App, list[ThreadPoolExecutor]] = weakref.WeakKeyDictionary()


class _OneClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client wins: it is meant to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


_ONE_CLIENT = _OneClient()


def build_app(
    service: NewsService,
    client: WebClient,
    signing_secret: str | None,
    *,
    workers: int = WORKERS,
) -> App:
    """A Bolt app whose every HTTP request must carry Slack's signature (``signing_secret``);
    Socket Mode passes ``None`` (Slack's socket is authenticated by the app token instead).
    The caller has checked the token (``auth.test``)."""
    # Before Bolt makes its loggers (they copy this one's level): no request body below DEBUG,
    # every record escaped, no token or secret in any of them.
    logsafe.protect(signing_secret, client.token)
    logsafe.install()
    bolt_log = logging.getLogger("newsbot.bolt")
    bolt_log.addFilter(_ONE_CLIENT)
    listener_threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="bolt")
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,
        logger=bolt_log,
        # Listener threads only ack and hand over; many of them keep acks from queueing.
        listener_executor=listener_threads,
        # An unhandled request comes to on_error, which answers 404 with a line of its own:
        # Bolt's own warning (slack-bolt 1.30) reads the body and raises on `"view": null`,
        # turning a forged request into a 500 (found by bench/fuzz_http.py, seed 26).
        raise_error_for_unhandled_request=True,
    )
    work = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsbot-work")
    _EXECUTORS[app] = [listener_threads, work]
    listeners.register(app, Deps(service=service, client=client, work=work))

    @app.error
    def on_error(error: Exception) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            log.warning("Unhandled request (body logged at DEBUG only)")
            return BoltResponse(status=404, body="")
        log.exception("listener failed: %s", type(error).__name__, exc_info=error)
        return None

    return app


def finish_work(app: App) -> None:
    """Let the listeners and the work they handed over finish (answers still owed through
    response_url, Home tabs to publish), then take no more: part of a graceful stop."""
    for executor in _EXECUTORS.pop(app, []):
        executor.shutdown(wait=True)
