"""A small fake of Slack's Web API and ``response_url``, served over real HTTP on 127.0.0.1.

newsbot talks to it through ``SLACK_API_URL`` (slack_sdk's ``WebClient(base_url=...)``), so no
slack_sdk or Bolt code is patched. It records every call, keeps posted messages per channel
(with their metadata, for ``conversations.history``), rejects messages that break Block Kit's
limits the way Slack does (``invalid_blocks``), and can be scripted to fail: an HTTP status
(429 with Retry-After, 500), a Slack error (``not_in_channel``), or a dropped connection after
the message was stored (Slack accepted the post, the answer never came back).

Used by the tests and by the bench scripts.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

# Block Kit limits (https://api.slack.com/reference/block-kit)
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_TEXT = 40000
LIMITS = {
    "section_text": 3000,
    "section_field": 2000,
    "header_text": 150,
    "button_text": 75,
    "action_id": 255,
    "block_id": 255,
    "button_value": 2000,
    "url": 3000,
    "context_elements": 10,
    "actions_elements": 25,
    "option_text": 75,
    "option_value": 150,
    "overflow_options": 5,
    "static_select_options": 100,
    "context_text": 3000,
}


def block_errors(blocks: Any, max_blocks: int = MAX_BLOCKS_MESSAGE) -> list[str]:
    """What breaks Slack's limits in a list of blocks (empty when valid)."""
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{len(blocks)} blocks > {max_blocks}")

    def text_of(obj: Any, limit: int, where: str, plain: bool = False) -> None:
        if not isinstance(obj, dict) or "text" not in obj or "type" not in obj:
            errors.append(f"{where}: not a text object")
            return
        if plain and obj["type"] != "plain_text":
            errors.append(f"{where}: must be plain_text")
        if not isinstance(obj["text"], str) or not obj["text"]:
            errors.append(f"{where}: empty text")
        elif len(obj["text"]) > limit:
            errors.append(f"{where}: {len(obj['text'])} chars > {limit}")

    def element(el: dict[str, Any], where: str) -> None:
        if len(el.get("action_id", "")) > LIMITS["action_id"]:
            errors.append(f"{where}: action_id too long")
        kind = el.get("type")
        if kind == "button":
            text_of(el.get("text"), LIMITS["button_text"], f"{where}.text", plain=True)
            if len(el.get("value", "")) > LIMITS["button_value"]:
                errors.append(f"{where}: value too long")
            if len(el.get("url", "")) > LIMITS["url"]:
                errors.append(f"{where}: url too long")
        elif kind in ("overflow", "static_select"):
            options = el.get("options", [])
            cap = LIMITS["overflow_options"] if kind == "overflow" else LIMITS["static_select_options"]
            if not options or len(options) > cap:
                errors.append(f"{where}: {len(options)} options")
            for j, opt in enumerate(options):
                text_of(opt.get("text"), LIMITS["option_text"], f"{where}.options[{j}]", plain=True)
                if len(opt.get("value", "")) > LIMITS["option_value"]:
                    errors.append(f"{where}.options[{j}]: value too long")

    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            errors.append(f"{where}: not an object")
            continue
        if len(block.get("block_id", "")) > LIMITS["block_id"]:
            errors.append(f"{where}: block_id too long")
        kind = block.get("type")
        if kind == "section":
            if "text" in block:
                text_of(block["text"], LIMITS["section_text"], f"{where}.text")
            elif "fields" not in block:
                errors.append(f"{where}: section without text or fields")
            for j, f in enumerate(block.get("fields", [])):
                text_of(f, LIMITS["section_field"], f"{where}.fields[{j}]")
            if "accessory" in block:
                element(block["accessory"], f"{where}.accessory")
        elif kind == "header":
            text_of(block.get("text"), LIMITS["header_text"], f"{where}.text", plain=True)
        elif kind == "context":
            els = block.get("elements", [])
            if not els or len(els) > LIMITS["context_elements"]:
                errors.append(f"{where}: {len(els)} context elements")
            for j, el in enumerate(els):
                if el.get("type") in ("mrkdwn", "plain_text"):
                    text_of(el, LIMITS["context_text"], f"{where}.elements[{j}]")
        elif kind == "actions":
            els = block.get("elements", [])
            if not els or len(els) > LIMITS["actions_elements"]:
                errors.append(f"{where}: {len(els)} actions elements")
            for j, el in enumerate(els):
                element(el, f"{where}.elements[{j}]")
        elif kind in ("divider", "input", "image", "rich_text"):
            pass
        else:
            errors.append(f"{where}: unknown block type {kind!r}")
    return errors


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Fail:
    """A scripted failure for the next call to a method."""

    status: int = 200
    error: str | None = None  # a Slack error code, answered with ok: false
    headers: dict[str, str] = field(default_factory=dict)
    drop_after_store: bool = False  # store the message, then close the connection unanswered
    drop_before_store: bool = False  # close the connection unanswered, storing nothing


class FakeSlack:
    def __init__(self, bot_token: str = "xoxb-test-token",
                 clock: Callable[[], float] = time.time) -> None:
        self.bot_token = bot_token
        self.clock = clock  # message ts: Slack's clock (a test of a moved clock moves it too)
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_url
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.views: dict[str, dict[str, Any]] = {}  # user -> last published Home view
        self.users: dict[str, dict[str, Any]] = {}
        self._scripts: dict[str, list[Fail | dict[str, Any]]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                fake._handle(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # a short poll: shutdown() waits for it (the default 0.5 s, in every test's teardown)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    # -- set-up ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def add_user(self, user_id: str, tz: str = "UTC", **profile: Any) -> None:
        self.users[user_id] = {"id": user_id, "tz": tz, "is_admin": False, "is_owner": False,
                               "deleted": False, **profile}

    def script(self, method: str, *outcomes: Fail | dict[str, Any]) -> None:
        """The next calls to ``method`` get these outcomes, in order, then normal service."""
        with self._lock:
            self._scripts[method].extend(outcomes)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds after some call arrives (or ``timeout``): the bot
        answers through response_url from a worker thread after its ack."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what happened -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages stored by chat.postMessage (in a channel, or anywhere)."""
        if channel is not None:
            return list(self.messages.get(channel, []))
        return [m for msgs in self.messages.values() for m in msgs]

    # -- serving -----------------------------------------------------------------------------

    def _reply(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], status: int = 200,
               headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _params(handler: BaseHTTPRequestHandler, raw: str) -> dict[str, Any]:
        if "json" in (handler.headers.get("Content-Type") or ""):
            return json.loads(raw or "{}")
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw).items()}
        for key in ("blocks", "metadata", "view", "attachments"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    def _handle(self, handler: BaseHTTPRequestHandler, raw: str) -> None:
        path = handler.path.split("?")[0]
        params = self._params(handler, raw)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if path.startswith("/response/"):
            with self._lock:
                self.calls.append(Call("response_url", params, headers))
                self.responses.append({"url_name": path.rsplit("/", 1)[1],
                                       "received_at": time.monotonic(), **params})
            errors = block_errors(params.get("blocks", []))
            self._reply(handler, {"ok": not errors, "errors": errors}, 200 if not errors else 400)
            with self._changed:
                self._changed.notify_all()
            return
        method = path.removeprefix("/api/")
        with self._lock:
            self.calls.append(Call(method, params, headers))
            outcome = self._scripts[method].pop(0) if self._scripts.get(method) else None
        try:
            self._answer(handler, method, params, headers, outcome)
        finally:
            with self._changed:
                self._changed.notify_all()

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, params: dict[str, Any],
                headers: dict[str, str], outcome: Fail | dict[str, Any] | None) -> None:
        if headers.get("authorization") != f"Bearer {self.bot_token}":
            self._reply(handler, {"ok": False, "error": "invalid_auth"})
            return
        if isinstance(outcome, dict):
            self._reply(handler, outcome)
            return
        if isinstance(outcome, Fail) and outcome.drop_before_store:
            handler.close_connection = True
            handler.connection.close()
            return
        if isinstance(outcome, Fail) and not outcome.drop_after_store:
            if outcome.status != 200:
                self._reply(handler, {"ok": False, "error": "scripted"}, outcome.status, outcome.headers)
            else:
                self._reply(handler, {"ok": False, "error": outcome.error or "scripted"})
            return
        body = self._serve(method, params)
        if isinstance(outcome, Fail) and outcome.drop_after_store:
            handler.close_connection = True
            handler.connection.close()  # the work is done; the answer never comes back
            return
        self._reply(handler, body)

    def _serve(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            blocks = p.get("blocks")
            if blocks is not None:
                errors = block_errors(blocks)
                if errors:
                    return {"ok": False, "error": "invalid_blocks", "errors": errors}
            if not p.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if len(p.get("text") or "") > MAX_TEXT:
                return {"ok": False, "error": "msg_too_long"}
            ts = f"{int(self.clock())}.{next(self._ts):06d}"
            message = {"ts": ts, "text": p.get("text", ""), "blocks": blocks or [],
                       "metadata": p.get("metadata"), "user": p.get("user"),
                       "unfurl_links": p.get("unfurl_links"), "unfurl_media": p.get("unfurl_media")}
            if method == "chat.postMessage":
                with self._lock:
                    self.messages[p["channel"]].append(message)
                return {"ok": True, "channel": p["channel"], "ts": ts, "message": message}
            return {"ok": True, "message_ts": ts}
        if method == "conversations.history":
            with self._lock:
                msgs = list(reversed(self.messages.get(p.get("channel", ""), [])))
            oldest = float(p.get("oldest") or 0)
            latest = float(p.get("latest") or "inf")
            msgs = [m for m in msgs if oldest < float(m["ts"]) < latest]
            if str(p.get("include_all_metadata")).lower() not in ("true", "1"):
                msgs = [{k: v for k, v in m.items() if k != "metadata"} for m in msgs]
            limit = max(1, min(int(p.get("limit") or 100), 999))
            start = int(p.get("cursor") or 0)  # Slack's cursors are opaque: an offset here
            page = msgs[start : start + limit]
            more = len(msgs) > start + limit
            return {"ok": True, "messages": page, "has_more": more,
                    "response_metadata": {"next_cursor": str(start + limit) if more else ""}}
        if method == "users.info":
            user = self.users.get(p.get("user", ""))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "conversations.open":
            users = p.get("users", "")
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method == "views.publish":
            view = p.get("view") or {}
            errors = block_errors(view.get("blocks", []), MAX_BLOCKS_VIEW)
            if errors:
                return {"ok": False, "error": "invalid_blocks", "errors": errors}
            self.views[p.get("user_id", "")] = view
            return {"ok": True, "view": {"id": "V1", **view}}
        return {"ok": False, "error": "unknown_method"}
