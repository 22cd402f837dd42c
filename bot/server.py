"""Serving the Bolt app over HTTP (``POST /slack/events``, ``GET /healthz``) or Socket Mode."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from http.client import HTTPException
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

from bot import logsafe
from bot.app import finish_work
from bot.render.common import one_line
from bot.slack.guard import MAX_BODY_BYTES, answer, guarded
from storage.store import Store

log = logging.getLogger("newsbot.http")

EVENTS_PATH = "/slack/events"
THREADS = 8  # request threads: Bolt acks and hands the work to the app's executors
CHANNEL_TIMEOUT = 30  # seconds an idle connection is kept
CONNECTIONS = 200  # open connections at most; more wait in the listen backlog
DRAIN_SECONDS = 20.0  # how long a stop waits for in-flight requests


def wsgi_app(app: App, store: Store) -> Callable[..., Iterable[bytes]]:
    bolt = guarded(SlackRequestHandler(app, path=EVENTS_PATH))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            body = json.dumps({"ok": True, "articles": store.count_articles()}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path != EVENTS_PATH:
            return answer(start_response, "404 Not Found", "Not Found")
        return bolt(environ, start_response)

    return application


class HttpServer:
    """newsbot's HTTP server: waitress, in this process, with the bounds below.

    waitress rather than gunicorn (both on PyPI): the digest scheduler lives in the serving
    process, which gunicorn would fork into a worker (and Bolt's Heroku example runs one worker
    with threads anyway); waitress runs in-process, so the tests drive the very server
    production runs, and ``newsbot serve`` stays one command on any platform. It has no
    dependencies of its own.

    Bounds: :data:`THREADS` request threads (a bounded pool; Bolt acks at once and the work
    runs on the app's own executors), idle connections closed after :data:`CHANNEL_TIMEOUT`
    seconds, at most :data:`CONNECTIONS` connections, bodies over ``MAX_BODY_BYTES`` refused
    (413). :meth:`stop` is graceful: no new connections, in-flight requests answered, the
    work they started finished; the caller then stops the scheduler and closes the database.
    """

    def __init__(self, app: App, store: Store, host: str, port: int) -> None:
        self._app = app
        self._inner = wsgi_app(app, store)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self.server: Any = waitress.create_server(
            self._counted,
            host=host,
            port=port,
            threads=THREADS,
            channel_timeout=CHANNEL_TIMEOUT,
            connection_limit=CONNECTIONS,
            max_request_body_size=MAX_BODY_BYTES,
            max_request_header_size=64 * 1024,
            cleanup_interval=10,
            backlog=128,
            ident="newsbot",
            expose_tracebacks=False,
            clear_untrusted_proxy_headers=True,
        )
        self.port: int = self.server.effective_port

    def _counted(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self._lock:
            self._in_flight += 1
        try:
            return self._inner(environ, start_response)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _busy(self) -> bool:
        if self._in_flight:
            return True
        return any(
            getattr(ch, "requests", None) or getattr(ch, "total_outbufs_len", 0)
            for ch in list(self.server._map.values())
            if ch is not self.server
        )

    def serve_forever(self) -> None:
        loop = self.server.asyncore.loop
        try:
            while not self._stopping.is_set():
                loop(timeout=0.5, map=self.server._map, count=1)
            # Graceful stop: close the listening socket, answer what is in flight.
            self.server.del_channel()
            self.server.socket.close()
            deadline = time.monotonic() + DRAIN_SECONDS
            while self._busy() and time.monotonic() < deadline:
                loop(timeout=0.05, map=self.server._map, count=1)
            self.server.task_dispatcher.shutdown(timeout=DRAIN_SECONDS)
            wasyncore.close_all(self.server._map)
            finish_work(self._app)  # the answers those requests owe (response_url posts)
        finally:
            self._stopped.set()

    def stop_soon(self) -> None:
        """Ask :meth:`serve_forever` to stop (safe from a signal handler)."""
        self._stopping.set()
        # wake the loop from another thread: the trigger takes a lock a signal handler must not
        threading.Thread(target=self._wake, daemon=True).start()

    def _wake(self) -> None:
        with contextlib.suppress(Exception):
            self.server.pull_trigger()

    def stop(self, timeout: float = DRAIN_SECONDS + 5) -> None:
        self.stop_soon()
        self._stopped.wait(timeout)


def make_http_server(app: App, store: Store, host: str, port: int) -> HttpServer:
    return HttpServer(app, store, host, port)


def serve_http(
    app: App, store: Store, host: str, port: int, started: Callable[[int], None] | None = None
) -> None:
    """Serve until SIGTERM (or SIGINT): then stop gracefully and return, so the caller stops
    the digest scheduler and closes the database. ``started`` is called once the port is
    bound (the caller starts the digests then: a port in use is one line, nothing started)."""
    from bot.runtime import StartupError

    try:
        server = make_http_server(app, store, host, port)
    except OSError as exc:
        raise StartupError(
            f"cannot listen on {host}:{port}: {exc.strerror or one_line(exc)} "
            "(--port, $PORT or server.port)"
        ) from None
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: server.stop_soon())
    if started:
        started(server.port)
    server.serve_forever()
    log.info("HTTP server stopped")


def serve_socket_mode(
    app: App, app_token: str, started: Callable[[str], object] | None = None
) -> None:
    """Connect to Slack in Socket Mode and serve until SIGTERM or Ctrl-C. A token Slack
    refuses, or a Slack it cannot reach, is a :class:`~bot.runtime.StartupError` (one line:
    the SDK's own error would end in a traceback of forty lines)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.runtime import StartupError

    handler = SocketModeHandler(app, app_token, logger=logging.getLogger("newsbot.socket_mode"))
    try:
        # its errors on this first connect (and the Web API's retries) are said below, once
        with logsafe.silenced("newsbot.socket_mode", "slack_sdk"):
            handler.connect()
            connected = handler.client.is_connected()
            if not connected:  # the SDK logs a failed connect, and its monitor tries again
                handler.close()
        if not connected:
            raise StartupError("cannot reach Slack's Socket Mode: the WebSocket connection failed")
    except SlackApiError as exc:
        reason = exc.response.get("error", "error") if exc.response is not None else "error"
        raise StartupError(f"Slack did not accept SLACK_APP_TOKEN: {reason}") from None
    except (OSError, ValueError, HTTPException) as exc:
        raise StartupError(f"cannot reach Slack's Socket Mode: {one_line(exc)}") from None
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if started:
        started("connected to Slack in Socket Mode")
    try:
        stop.wait()
    finally:
        handler.close()
