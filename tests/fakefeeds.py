"""A small feed server of our own, served over real HTTP on 127.0.0.1 (like ``tests/fakeslack.py``),
scripted per path, for the feed fetcher's tests, the poller's and ``bench/poll.py``.

Each path answers as its :class:`Answer` says: a status, headers, a body (bytes), optionally
gzip-, deflate- or brotli-encoded; a generated body of any size (``size``: streamed in 64 KiB
chunks, never built in memory: the 50 MB case); a drip (one byte of the body, or of the status
line and headers, every ``drip`` seconds: tests pass a short one with a short deadline); a
redirect (``redirect=``, :meth:`FakeFeeds.loop` for loops); a 304 when the request's
``If-None-Match`` matches the answer's ``etag`` (or ``If-Modified-Since`` its
``last_modified``); and ``drop`` (the connection closed without a word). A path with no answer
is a 404. :meth:`FakeFeeds.then` queues one-off answers before a path's standing one.

Every request is logged (:attr:`FakeFeeds.requests`: method, path, headers), so tests can check
the conditional headers and the User-Agent.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli

CHUNK = 64 * 1024
FILLER = (b"<!-- newsbot fake feed padding -->\n" * (CHUNK // 35 + 1))[:CHUNK]


@dataclass(frozen=True)
class Answer:
    """How a path answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None  # "gzip", "deflate" or "br": the body is sent encoded so
    size: int | None = None  # a generated body of this many bytes instead of ``body``
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    drip: float | None = None  # seconds between bytes of the body
    drip_headers: float | None = None  # seconds between bytes of the status line and headers
    etag: str | None = None  # sent as ETag; a matching If-None-Match gets a 304
    last_modified: str | None = None  # sent as Last-Modified; an equal If-Modified-Since: 304
    redirect: str | None = None  # Location (a path on this server, or an address); status 302
    drop: bool = False  # close the connection without answering


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def encode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        return bytes(brotli.compress(body))
    return body


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a drip still running never holds close() up

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client hung up (a cut drip, a capped body): nothing to say
        super().handle_error(request, client_address)


class FakeFeeds:
    def __init__(self, host: str = "127.0.0.1") -> None:
        """Serve on ``host`` (another loopback address, 127.0.0.2, makes a second server that
        redirects can reach by an address of its own)."""
        self.host = host
        self.requests: list[Request] = []
        self._answers: dict[str, Answer] = {}
        self._queued: dict[str, deque[Answer]] = defaultdict(deque)
        # (path, "headers" or "body"): where a client hung up while we were still sending
        self.hangups: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._hung_up = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self, head=False)

            def do_HEAD(self) -> None:
                fake._serve(self, head=True)

        self.server = _QuietServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        # a short poll: shutdown() waits for it (the default 0.5 s, in every test's teardown)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # -- set-up ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, answer: Answer | None = None, **fields: Any) -> str:
        """``path`` answers so from now on (an :class:`Answer`, or its fields); its address."""
        with self._lock:
            self._answers[path] = replace(answer or Answer(), **fields)
        return self.url(path)

    def then(self, path: str, *answers: Answer) -> None:
        """The next requests for ``path`` get these, in order, then its standing answer."""
        with self._lock:
            self._queued[path].extend(answers)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        """``path`` redirects to ``to`` (a path here, or an address)."""
        return self.serve(path, status=status, redirect=to)

    def loop(self, a: str, b: str, status: int = 302) -> str:
        """``a`` and ``b`` redirect to each other."""
        self.redirect(b, a, status)
        return self.redirect(a, b, status)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for_hangup(self, path: str, timeout: float = 5.0) -> str | None:
        """Where the client hung up on ``path`` ("headers" or "body"), waiting for the server
        to notice (its next write fails); None if it never did within ``timeout``."""
        with self._hung_up:
            self._hung_up.wait_for(lambda: any(p == path for p, _ in self.hangups), timeout)
            return next((where for p, where in self.hangups if p == path), None)

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- serving -----------------------------------------------------------------------------

    def _answer_for(self, path: str) -> Answer:
        with self._lock:
            queued = self._queued.get(path)
            if queued:
                return queued.popleft()
            return self._answers.get(path) or Answer(status=404, body=b"not found")

    def _serve(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Request(handler.command, handler.path, headers))
        answer = self._answer_for(handler.path)
        if answer.drop:
            handler.close_connection = True
            return
        if _not_modified(answer, headers):
            answer = replace(answer, status=304, body=b"", size=None, encoding=None)
        status, out = _head_lines(answer)
        body = encode(answer.body, answer.encoding) if answer.size is None else b""
        length = answer.size if answer.size is not None else len(body)
        if answer.status == 304 or status == 304:
            length = 0
        if answer.length:
            out.append(("Content-Length", str(length)))
        else:
            out.append(("Connection", "close"))
            handler.close_connection = True
        raw = f"HTTP/1.1 {status} {_reason(status)}\r\n".encode()
        raw += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in out) + b"\r\n"
        where = "headers"
        try:
            _write(handler, raw, answer.drip_headers)
            if head or status == 304:
                return
            where = "body"
            if answer.size is not None:
                _stream_filler(handler, answer.size)
            else:
                _write(handler, body, answer.drip)
        except (ConnectionError, TimeoutError):
            handler.close_connection = True
            with self._hung_up:
                self.hangups.append((handler.path, where))
                self._hung_up.notify_all()


def _not_modified(answer: Answer, headers: dict[str, str]) -> bool:
    if answer.status != 200:
        return False
    if answer.etag is not None and "if-none-match" in headers:
        tags = [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
        return answer.etag.removeprefix("W/") in tags or "*" in tags
    if answer.last_modified is not None and "if-modified-since" in headers:
        return headers["if-modified-since"] == answer.last_modified
    return False


def _head_lines(answer: Answer) -> tuple[int, list[tuple[str, str]]]:
    out: list[tuple[str, str]] = []
    status = answer.status
    if answer.redirect is not None:
        status = status if 300 <= status < 400 else 302
        out.append(("Location", answer.redirect))
    if answer.etag is not None:
        out.append(("ETag", answer.etag))
    if answer.last_modified is not None:
        out.append(("Last-Modified", answer.last_modified))
    if answer.encoding and status != 304:
        out.append(("Content-Encoding", answer.encoding))
    out.extend(answer.headers.items())
    return status, out


def _reason(status: int) -> str:
    return BaseHTTPRequestHandler.responses.get(status, ("Whatever",))[0]


def _write(handler: BaseHTTPRequestHandler, data: bytes, drip: float | None) -> None:
    if drip is None:
        handler.wfile.write(data)
        handler.wfile.flush()
        return
    for i in range(len(data)):
        handler.wfile.write(data[i : i + 1])
        handler.wfile.flush()
        time.sleep(drip)


def _stream_filler(handler: BaseHTTPRequestHandler, size: int) -> None:
    left = size
    while left > 0:
        piece = FILLER[: min(CHUNK, left)]
        handler.wfile.write(piece)
        left -= len(piece)
    handler.wfile.flush()
