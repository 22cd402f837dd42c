"""A thin WSGI layer in front of Bolt for what Bolt itself would raise on (issue 9, defect 6).

Bolt parses a request's body before it checks the signature, and raises (a 500, with a
traceback) on a body that is not UTF-8, a JSON body that is not an object, a ``payload=`` that
is not one, a non-integer ``X-Slack-Request-Timestamp`` or ``Content-Length``, ``actions: null``,
an integer ``action_id``… Here such requests are answered 400 (401 when the signature headers
cannot be valid; 413 for a body over :data:`MAX_BODY_BYTES`) before Bolt sees them. The
signature itself is still checked by Bolt, and only by Bolt.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_body

log = logging.getLogger("newsbot.http")

MAX_BODY_BYTES = 1 << 20  # Slack's largest payloads (a Home view sent back) are far smaller
MAX_DEPTH = 40  # Slack's payloads nest about 12 deep (view.state.values...)
MAX_NODES = 50_000

StartResponse = Callable[..., Any]


class Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def bad(reason: str) -> Refused:
    return Refused("400 Bad Request", reason)


# Keys Bolt or newsbot reads, with the types Slack sends them as. Anything else is not looked at.
_OBJECT = (dict,)
_ID = (str, dict, type(None))  # "team": "T1" (some payloads) or {"id": "T1"}
_TOP: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "team": _ID,
    "user": _ID,
    "channel": _ID,
    "enterprise": _ID,
    "event": _OBJECT,
    "view": (dict, type(None)),
    "container": (dict, type(None)),
    "message": (dict, type(None)),
    "previous_message": (dict, type(None)),
    "authorizations": (list, type(None)),
    "actions": (list,),
    "state": (dict, type(None)),
    "callback_id": (str, type(None)),
    "response_url": (str,),
    "trigger_id": (str,),
    "team_id": (str, type(None)),
    "user_id": (str, type(None)),
    "channel_id": (str, type(None)),
    "enterprise_id": (str, type(None)),
    "command": (str,),
    "text": (str, type(None)),
    "channel_name": (str, type(None)),
    "api_app_id": (str, type(None)),
    "is_enterprise_install": (bool, str, type(None)),
    "is_ext_shared_channel": (bool, type(None)),
    "workflow_step": (dict, type(None)),
    "function_data": (dict, type(None)),
    "bot_access_token": (str, type(None)),
    "action_id": (str,),
    "challenge": (str,),
}
_EVENT: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "user": _ID,
    "channel": _ID,
    "tab": (str, type(None)),
    "channel_type": (str, type(None)),
    "subtype": (str, type(None)),
    "team": (str, type(None)),
    "user_team": (str, type(None)),
    "message": (dict, type(None)),
    "previous_message": (dict, type(None)),
    "thread_ts": (str, type(None)),
    "bot_id": (str, type(None)),
    "workflow_step": (dict, type(None)),
    "function_execution_id": (str, type(None)),
    "assistant_thread": (dict, type(None)),
}
_ACTION: dict[str, tuple[type, ...]] = {
    "action_id": (str,),
    "block_id": (str, type(None)),
    "value": (str, type(None)),
    "type": (str, type(None)),
    "selected_option": (dict, type(None)),
    "selected_time": (str, type(None)),
    "action_ts": (str, type(None)),
}
_INNER: dict[str, tuple[type, ...]] = {  # the id-bearing objects: team, user, channel, view
    "id": (str, type(None)),
    "team_id": (str, type(None)),
    "enterprise_id": (str, type(None)),
    "app_installed_team_id": (str, type(None)),
    "private_metadata": (str, type(None)),
    "callback_id": (str, type(None)),
    "type": (str, type(None)),
    "user_id": (str, type(None)),
    "is_enterprise_install": (bool, str, type(None)),
    "channel_id": (str, type(None)),
}


def _check(obj: dict[str, Any], schema: dict[str, tuple[type, ...]], where: str) -> None:
    for key, types in schema.items():
        if key in obj and not isinstance(obj[key], types):
            raise bad(f"{where}{key} is a {type(obj[key]).__name__}")


def _size(body: Any) -> None:
    """Depth and node count, iteratively (a deep value must not cost a RecursionError)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            raise bad("nested too deep" if depth > MAX_DEPTH else "too many values")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def check_shape(body: Any) -> None:
    """Raise :class:`Refused` unless ``body`` has the shape Slack gives what Bolt reads."""
    if not isinstance(body, dict):
        raise bad(f"the body is a JSON {type(body).__name__}, not an object")
    _size(body)
    _check(body, _TOP, "")
    for key in ("team", "user", "channel", "enterprise", "view", "container"):
        if isinstance(body.get(key), dict):
            _check(body[key], _INNER, f"{key}.")
    for auth in body.get("authorizations") or []:
        if not isinstance(auth, dict):
            raise bad("authorizations holds a non-object")
        _check(auth, _INNER, "authorizations[].")
    if "event" in body:
        _check(body["event"], _EVENT, "event.")
        for key in ("message", "previous_message"):
            if isinstance(body["event"].get(key), dict):
                _check(body["event"][key], _EVENT, f"event.{key}.")
    if body.get("type") == "block_actions" or "actions" in body:
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            raise bad("block_actions without actions")
        for action in actions:
            if not isinstance(action, dict) or "action_id" not in action:
                raise bad("an action that is not an object with an action_id")
            _check(action, _ACTION, "actions[].")
            if isinstance(action.get("selected_option"), dict):
                _check(
                    action["selected_option"],
                    {"value": (str, type(None))},
                    "actions[].selected_option.",
                )


def _digits(value: str, most: int) -> bool:
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


def read_request(environ: dict[str, Any]) -> bytes:
    """The request's body, checked as Bolt will read it; :class:`Refused` when it cannot be."""
    raw_length = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not _digits(raw_length, 12):
        raise bad("Content-Length is not a number")
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        raise Refused("413 Request Entity Too Large", f"a body of {length} bytes")
    stream = environ.get("wsgi.input")
    data = stream.read(length) if stream is not None and length else b""
    if len(data) != length:
        raise bad("the body is shorter than its Content-Length")
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    # slack_sdk's verifier calls int() on the timestamp and compare_digest() on the
    # signature, which raises on non-ASCII text: neither can be valid, so 401 as Bolt would.
    if timestamp is not None and not _digits(timestamp.strip(), 12):
        raise Refused("401 Unauthorized", "X-Slack-Request-Timestamp is not a number")
    if signature is not None and not (signature.isascii() and signature.isprintable()):
        raise Refused("401 Unauthorized", "X-Slack-Signature is not ASCII")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("the body is not UTF-8") from None
    headers: dict[str, Any] = {"content-type": environ.get("CONTENT_TYPE") or ""}
    try:
        body = parse_body(text, extract_content_type(build_normalized_headers(headers)))
    except (ValueError, RecursionError, TypeError, MemoryError):
        raise bad("the body is not JSON or a form Bolt can read") from None
    check_shape(body)
    return data


def answer(start_response: StartResponse, status: str, text: str) -> Iterable[bytes]:
    body = json.dumps({"ok": False, "error": text}).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class SignatureWatch:
    """Says on stderr, at WARNING, that requests are refused for their signature: the first
    at once, then at most once per ``every`` seconds with how many since.

    A wrong ``SLACK_SIGNING_SECRET`` (another app's, or a copy cut short) makes Bolt answer
    every request from Slack 401 and log it at INFO only (kept below WARNING here, as its
    record holds the body): the bot would look up and hear nothing. One line a while is
    enough to tell the operator, and a flood of forged requests cannot fill the log.
    Its own, as no library watches a status over time; ``clock`` is monotonic seconds.
    """

    def __init__(self, every: float = 600.0, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self.count = 0
        self.said_at: float | None = None
        self._lock = threading.Lock()

    def refused(self) -> None:
        with self._lock:
            self.count += 1
            now = self.clock()
            if self.said_at is not None and now - self.said_at < self.every:
                return
            count, self.count, first = self.count, 0, self.said_at is None
            self.said_at = now
        since = "" if first else f" in the last {self.every / 60:.0f} minutes"
        log.warning(
            "%d request(s) to %s refused for a bad signature%s: if Slack sent them, "
            "SLACK_SIGNING_SECRET is not this app's (its Basic Information page, App "
            "Credentials, Signing Secret)",
            count,
            "/slack/events",
            since,
        )


def guarded(
    bolt: Callable[..., Iterable[bytes]], watch: SignatureWatch | None = None
) -> Callable[..., Iterable[bytes]]:
    """``bolt`` (Bolt's WSGI adapter, for ``POST /slack/events``) behind the checks above, and a
    last resort: whatever Bolt still raises is answered 400, never 500, and logged in one line.
    Bolt's 401s (a signature that does not match) are told to ``watch``."""
    watch = watch or SignatureWatch()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(start_response, "405 Method Not Allowed", "POST only")
        try:
            data = read_request(environ)
        except Refused as refused:
            # DEBUG: the server never logs a line per request at INFO (a flood would fill it)
            log.debug("refused a request: %s (%s)", refused.status, refused.reason)
            return answer(start_response, refused.status, refused.status.split(" ", 1)[1])
        environ = {**environ, "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))}
        started: list[bool] = []

        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            started.append(True)
            if status.startswith("401"):
                watch.refused()
            return start_response(status, headers, *exc)

        try:
            return bolt(environ, start)
        except Exception as exc:
            log.error("Bolt failed on a request (answered 400): %s", type(exc).__name__)
            log.debug("Bolt's failure", exc_info=True)
            if started:
                raise
            return answer(start_response, "400 Bad Request", "Bad Request")

    return application
