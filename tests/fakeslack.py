"""A small fake of Slack's Web API and ``response_url``, served over real HTTP on 127.0.0.1.

newsbot talks to it through ``SLACK_API_URL`` (slack_sdk's ``WebClient(base_url=...)``), so no
slack_sdk or Bolt code is patched. It records every call, keeps posted messages per channel
(with their metadata, for ``conversations.history``), rejects messages that break Block Kit's
limits the way Slack does (``invalid_blocks``), and can be scripted to fail: an HTTP status
(429 with Retry-After, 500), a Slack error (``not_in_channel``), or a dropped connection after
the message was stored (Slack accepted the post, the answer never came back).

Faults by chance (:class:`Faults`, for the fault-injection campaign in ``tests/faults.py``):
each call to a method draws, from a seeded generator, whether it gets a 429 with Retry-After,
a 5xx, a connection dropped before or after the message is stored, or a hang (held a while,
then answered, or then dropped after storing). What was injected is counted by kind and logged
per call (``injected``, ``fault_log``). Scripted outcomes (:meth:`FakeSlack.script`) come first.

Conversations (:meth:`FakeSlack.set_channel`): the bot is a member of every public channel
unless a test says otherwise; ``conversations.info`` and ``conversations.join`` answer as Slack
does for a channel the bot is not in (a private one is invisible: ``channel_not_found``), an
archived one, a DM; ``chat.postMessage`` to a channel the bot is not in is ``not_in_channel``.

Message timestamps are Slack-like: ``seconds.micro`` read from ``clock`` (default: the real
time; a test of a moment long ago passes its own), unique and increasing.

Used by the tests and by the bench scripts.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
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
            cap = (
                LIMITS["overflow_options"]
                if kind == "overflow"
                else LIMITS["static_select_options"]
            )
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
class Channel:
    """A conversation's state as Slack keeps it (``FakeSlack.set_channel``)."""

    member: bool = True  # the bot is in it
    private: bool = False
    archived: bool = False
    name: str = "general"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    peer: tuple[str, int] | None = None  # the client's address (which process called)
    at: float = 0.0  # when it arrived, by the fake's clock


@dataclass
class Fail:
    """A scripted failure for the next call to a method."""

    status: int = 200
    error: str | None = None  # a Slack error code, answered with ok: false
    headers: dict[str, str] = field(default_factory=dict)
    drop_after_store: bool = False  # store the message, then close the connection unanswered
    drop_before_store: bool = False  # close the connection unanswered, storing nothing


FAULT_KINDS = ("429", "5xx", "drop_before", "drop_after", "hang", "hang_drop", "outage")


@dataclass
class Faults:
    """Faults by chance, per method: ``rates[method][kind]`` is the probability that a call
    gets that fault (the kinds of one method should add up to at most 1).

    Kinds: ``429`` (``ratelimited`` with ``Retry-After: retry_after``, nothing stored), ``5xx``
    (500 with a JSON error, or 502/503 with an HTML page, as a load balancer answers; nothing
    stored), ``drop_before`` (the connection is closed unanswered, nothing stored),
    ``drop_after`` (stored, then closed unanswered), ``hang`` (held ``hang_seconds``, then
    served normally), ``hang_drop`` (held, stored, then closed unanswered: the client's
    timeout, with the post in Slack), ``outage`` (503, nothing stored: what a test returns from
    ``FakeSlack.on_request`` for every call of an outage window). Keep hangs under the client's
    timeout (10 s).
    """

    rates: Mapping[str, Mapping[str, float]]
    seed: int = 0
    retry_after: int = 1
    hang_seconds: tuple[float, float] = (0.5, 2.0)
    statuses: tuple[int, ...] = (500, 502, 503)

    def __post_init__(self) -> None:
        for method, kinds in self.rates.items():
            unknown = set(kinds) - set(FAULT_KINDS)
            if unknown or sum(kinds.values()) > 1.0 + 1e-9:
                raise ValueError(f"bad fault rates for {method}: {dict(kinds)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self, method: str) -> tuple[str, float, int] | None:
        """The fault for one call (kind, hang seconds, 5xx status), or None: thread-safe."""
        kinds = self.rates.get(method)
        if not kinds:
            return None
        with self._lock:
            roll = self._rng.random()
            hang = self._rng.uniform(*self.hang_seconds)
            status = self._rng.choice(self.statuses)
        for kind, p in kinds.items():
            if roll < p:
                return kind, hang, status
            roll -= p
        return None


@dataclass
class Injected:
    """One fault the fake injected (``FakeSlack.fault_log``)."""

    at: float  # the fake's clock (epoch seconds)
    method: str
    channel: str
    kind: str  # a FAULT_KINDS entry
    detail: str = ""  # the status, the hang's length


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client is gone (killed, or it timed out): nothing to say
        super().handle_error(request, client_address)


class FakeSlack:
    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        clock: Callable[[], float] = time.time,
        *,
        faults: Faults | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.clock = clock  # message ts: Slack's clock (a test of a moved clock moves it too)
        self.faults = faults  # set or clear at any time (None: normal service)
        # Called on the request's thread before each Web API call is answered, with the call
        # and the fault kind drawn for it (or None); it returns the kind to inject (or None):
        # a test can act while the request is in flight (kill or freeze the process that sent
        # it) or choose the fault itself.
        self.on_request: Callable[[Call, str | None], str | None] | None = None
        self.in_flight = 0  # Web API requests being served now (a hang holds one)
        self.injected: Counter[tuple[str, str]] = Counter()  # (method, kind) -> count
        self.fault_log: list[Injected] = []
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_url
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deleted: list[dict[str, Any]] = []  # messages removed by chat.delete (+ channel)
        self.views: dict[str, dict[str, Any]] = {}  # user -> last published Home view
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}  # set_channel; any other: public, bot a member
        self.bot_user = "newsbot"  # auth.test's "user": the bot's name, for /invite @...
        self._scripts: dict[str, list[Fail | dict[str, Any]]] = defaultdict(list)
        self._last_ts = 0  # microseconds
        self._lock = threading.RLock()  # wait_for's predicates read posts() under it
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

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # a short poll: shutdown() waits for it (the default 0.5 s, in every test's teardown)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- set-up ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def add_user(self, user_id: str, tz: str = "UTC", **profile: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "tz": tz,
            "is_admin": False,
            "is_owner": False,
            "deleted": False,
            **profile,
        }

    def set_channel(self, channel_id: str, **state: Any) -> Channel:
        """Set a channel's state (``member``, ``private``, ``archived``, ``name``); a channel
        never set is public with the bot in it."""
        with self._lock:
            channel = self.channels.setdefault(channel_id, Channel())
            for key, value in state.items():
                if not hasattr(channel, key):
                    raise TypeError(f"no channel state {key!r}")
                setattr(channel, key, value)
            return channel

    def channel(self, channel_id: str) -> Channel:
        with self._lock:
            return self.channels.get(channel_id) or Channel()

    def script(self, method: str, *outcomes: Fail | dict[str, Any]) -> None:
        """The next calls to ``method`` get these outcomes, in order, then normal service."""
        with self._lock:
            self._scripts[method].extend(outcomes)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds after some call arrives (or ``timeout``): the bot
        answers through response_url from a worker thread after its ack."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no request is being served (a held one has been stored and answered, or
        dropped): what Slack had in flight when a client died has landed."""
        return self.wait_for(lambda: self.in_flight == 0, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what happened -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages stored by chat.postMessage (in a channel, or anywhere)."""
        with self._lock:
            if channel is not None:
                return list(self.messages.get(channel, []))
            return [m for msgs in list(self.messages.values()) for m in msgs]

    def faults_by_kind(self) -> Counter[str]:
        """How many faults were injected, by kind (all methods)."""
        with self._lock:
            out: Counter[str] = Counter()
            for (_, kind), n in self.injected.items():
                out[kind] += n
            return out

    def next_ts(self) -> str:
        """A message timestamp as Slack writes it (``seconds.micro``) from ``clock``: unique
        and increasing, whatever the clock does."""
        with self._lock:
            return self._next_ts()

    def _next_ts(self) -> str:  # holding self._lock
        micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- serving -----------------------------------------------------------------------------

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        body: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
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
                self.responses.append(
                    {"url_name": path.rsplit("/", 1)[1], "received_at": time.monotonic(), **params}
                )
            errors = block_errors(params.get("blocks", []))
            self._reply(handler, {"ok": not errors, "errors": errors}, 200 if not errors else 400)
            with self._changed:
                self._changed.notify_all()
            return
        method = path.removeprefix("/api/")
        call = Call(
            method,
            params,
            headers,
            tuple(handler.client_address[:2]),  # type: ignore[arg-type]
            self.clock(),
        )
        with self._lock:
            self.in_flight += 1
            self.calls.append(call)
            outcome = self._scripts[method].pop(0) if self._scripts.get(method) else None
        try:
            drawn = None
            faults = self.faults
            if (
                outcome is None
                and faults is not None
                and headers.get("authorization") == f"Bearer {self.bot_token}"
            ):
                drawn = faults.draw(method)
            hook = self.on_request
            if hook is not None:
                kind = hook(call, drawn[0] if drawn else None)
                if kind is None:
                    drawn = None
                elif drawn is None or kind != drawn[0]:
                    hang = faults.hang_seconds[0] if faults is not None else 0.5
                    drawn = (kind, hang, 503)
            if drawn is not None:
                self._inject(handler, method, params, *drawn)
                return
            self._answer(handler, method, params, headers, outcome)
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def _inject(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        params: dict[str, Any],
        kind: str,
        hang: float,
        status: int,
    ) -> None:
        faults = self.faults
        retry_after = faults.retry_after if faults is not None else 1
        channel = str(params.get("channel") or params.get("users") or "")
        detail = {
            "5xx": str(status),
            "429": f"Retry-After {retry_after}",
            "hang": f"{hang:.2f} s",
            "hang_drop": f"{hang:.2f} s",
        }.get(kind, "")
        with self._lock:
            self.injected[(method, kind)] += 1
            self.fault_log.append(Injected(self.clock(), method, channel, kind, detail))
        if kind == "429":
            self._reply(
                handler,
                {"ok": False, "error": "ratelimited"},
                429,
                {"Retry-After": str(retry_after)},
            )
        elif kind in ("5xx", "outage"):
            status = 503 if kind == "outage" else status
            if status == 500:
                self._reply(handler, {"ok": False, "error": "internal_error"}, 500)
            else:
                page = f"<html><body><h1>{status}</h1>Service unavailable</body></html>"
                data = page.encode()
                handler.send_response(status)
                handler.send_header("Content-Type", "text/html")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
        elif kind == "drop_before":
            self._drop(handler)
        elif kind == "drop_after":
            self._serve(method, params)
            self._drop(handler)
        elif kind == "hang":
            time.sleep(hang)
            self._reply(handler, self._serve(method, params))
        elif kind == "hang_drop":
            time.sleep(hang)
            self._serve(method, params)
            self._drop(handler)
        else:  # pragma: no cover - Faults checks its kinds
            raise ValueError(kind)

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        handler.connection.close()

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        params: dict[str, Any],
        headers: dict[str, str],
        outcome: Fail | dict[str, Any] | None,
    ) -> None:
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
                self._reply(
                    handler, {"ok": False, "error": "scripted"}, outcome.status, outcome.headers
                )
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
            return {
                "ok": True,
                "team_id": "T1",
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "user": self.bot_user,
            }
        if method in ("conversations.info", "conversations.join"):
            return self._conversation(method, str(p.get("channel") or ""))
        if method in ("chat.postMessage", "chat.postEphemeral"):
            blocks = p.get("blocks")
            if blocks is not None:
                errors = block_errors(blocks)
                if errors:
                    return {"ok": False, "error": "invalid_blocks", "errors": errors}
            if not p.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if method == "chat.postMessage" and p["channel"] in self.channels:
                state = self.channel(p["channel"])
                if not state.member:
                    gone = "channel_not_found" if state.private else "not_in_channel"
                    return {"ok": False, "error": gone}
                if state.archived:
                    return {"ok": False, "error": "is_archived"}
            if len(p.get("text") or "") > MAX_TEXT:
                return {"ok": False, "error": "msg_too_long"}
            message = {
                "text": p.get("text", ""),
                "blocks": blocks or [],
                "metadata": p.get("metadata"),
                "user": p.get("user"),
                "unfurl_links": p.get("unfurl_links"),
                "unfurl_media": p.get("unfurl_media"),
            }
            with self._lock:  # stored in ts order
                ts = message["ts"] = self._next_ts()
                if method == "chat.postMessage":
                    self.messages[p["channel"]].append(message)
            if method == "chat.postMessage":
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
            return {
                "ok": True,
                "messages": page,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        if method == "chat.delete":
            with self._lock:
                msgs = self.messages.get(p.get("channel", ""), [])
                for n, m in enumerate(msgs):
                    if m["ts"] == p.get("ts"):
                        self.deleted.append({"channel": p["channel"], **msgs.pop(n)})
                        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}
            return {"ok": False, "error": "message_not_found"}
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

    def _conversation(self, method: str, channel_id: str) -> dict[str, Any]:
        """``conversations.info`` and ``conversations.join`` as Slack answers a bot."""
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        if channel_id.startswith("D"):  # the bot's DM with someone
            if method == "conversations.join":
                return {"ok": False, "error": "method_not_allowed_for_channel_type"}
            return {"ok": True, "channel": {"id": channel_id, "is_im": True, "user": "U1"}}
        with self._lock:
            state = self.channel(channel_id)
            if state.private and not state.member:  # a bot cannot see a private channel
                return {"ok": False, "error": "channel_not_found"}
            if method == "conversations.join":
                if state.private:
                    return {"ok": False, "error": "method_not_allowed_for_channel_type"}
                if state.archived:
                    return {"ok": False, "error": "is_archived"}
                self.set_channel(channel_id, member=True)
            info = {
                "id": channel_id,
                "name": state.name,
                "is_channel": not state.private,
                "is_group": state.private,
                "is_im": False,
                "is_mpim": False,
                "is_private": state.private,
                "is_archived": state.archived,
                "is_member": state.member,
            }
        return {"ok": True, "channel": info}
