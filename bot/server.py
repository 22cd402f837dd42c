"""Serving the Bolt app over HTTP (``POST /slack/events``, ``GET /healthz``) or Socket Mode."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.guard import answer, guarded
from storage.store import Store

log = logging.getLogger("newsbot.http")

EVENTS_PATH = "/slack/events"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def wsgi_app(app: App, store: Store) -> Callable[..., Iterable[bytes]]:
    bolt = guarded(SlackRequestHandler(app, path=EVENTS_PATH))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            body = json.dumps({"ok": True, "articles": store.count_articles()}).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if path != EVENTS_PATH:
            return answer(start_response, "404 Not Found", "Not Found")
        return bolt(environ, start_response)

    return application


def make_http_server(app: App, store: Store, host: str, port: int) -> WSGIServer:
    return make_server(host, port, wsgi_app(app, store), server_class=_ThreadingWSGIServer,
                       handler_class=_QuietHandler)


def serve_http(app: App, store: Store, host: str, port: int,
               started: Callable[[int], None] | None = None) -> None:
    server = make_http_server(app, store, host, port)
    if started:
        started(server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def serve_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
