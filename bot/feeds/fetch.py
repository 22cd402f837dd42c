"""Fetching a feed politely: one GET (and the redirects it leads to), sorted into an outcome.

:func:`fetch` never raises for anything the network or the server does: every way a fetch can
go wrong comes back as a :class:`FetchResult` with ``outcome="failed"`` and an ``error`` in plain
words ("timed out", "blocked (403)", "too large (over 10 MiB)", ...), which the sources' health
shows as it is. What it does, and why:

- **Conditional GET.** The validators stored after the last good parse go out as
  ``If-None-Match`` / ``If-Modified-Since``; a 304 is ``not_modified``, and a 200 whose body
  hashes (sha256) to the stored hash is ``unchanged`` (many servers send neither validator).
- **Bounded in time.** Connect and read timeouts per socket operation, and an overall deadline
  per fetch, redirects included. The deadline bounds every socket operation's timeout (given
  to httpx per request) and is checked after each chunk of the body, so a server dripping a
  byte a second is cut at the deadline. With a client from :func:`make_client`, every single
  socket read and write is bounded by it too (a drip in the headers is cut as well).
- **Bounded in memory.** ``max_bytes`` (10 MiB) is enforced while streaming, on the bytes as
  sent and as decoded; a body over it is dropped, never held whole. We decode gzip, deflate and
  brotli ourselves, in pieces of at most 64 KiB, so a small compressed bomb cannot blow up in
  one call (httpx's decoders inflate a whole network chunk at once).
- **Redirects followed one by one** (httpx's ``follow_redirects`` stays off), at most
  ``max_redirects``, each hop's address checked before it is asked: a host that resolves to a
  private, loopback, link-local or otherwise non-global address (:mod:`ipaddress`'s
  ``is_global``) is refused unless ``allow_private``. A permanent redirect (301/308) that leads,
  through permanent redirects only, to an address that answers is reported as ``moved_to``.
- **Honest about being a bot.** A User-Agent naming newsbot; ``Retry-After`` (seconds or an HTTP
  date) on 429 and 503 comes back as ``throttled`` with ``retry_after``; ``Cache-Control:
  max-age`` comes back as ``max_age`` for the policy (:mod:`bot.feeds.policy`) to lengthen the
  interval with.

No URL's userinfo (``user:password@``) appears in any error: errors never quote a URL, and
:func:`redact` strips it from one before logging.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

import brotli  # type: ignore[import-untyped]  # no stubs published
import httpcore
import httpx

from bot import __version__

MiB = 1024 * 1024

Outcome = Literal["ok", "not_modified", "unchanged", "failed", "gone", "throttled"]

# No real host needed: the address names the project, for a feed's owner reading their logs.
USER_AGENT = f"newsbot/{__version__} (+https://github.com/newsbot/newsbot; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"  # what _Decoder decodes, no more

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
# A validator longer than this is not worth storing or sending back (real ETags are short).
MAX_VALIDATOR = 1024
# Decoded output per decompression call: the most a compressed body can inflate to at once.
PIECE = 64 * 1024


@dataclass(frozen=True)
class Validators:
    """What the last good fetch left to ask "has it changed?" with."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 hex of the (decoded) body


@dataclass(frozen=True)
class FetchSettings:
    """Limits of one fetch. The defaults are the issue's politeness defaults."""

    connect_timeout: float = 10.0  # seconds per connection attempt
    read_timeout: float = 20.0  # seconds any single socket read or write may wait
    deadline: float = 30.0  # seconds for the whole fetch, redirects and body included
    max_bytes: int = 10 * MiB  # the largest body kept, as sent and as decoded
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    allow_private: bool = False  # tests and local setups turn this on (sources.allow_private)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch came to.

    ``outcome``: "ok" (a new body in ``body``), "not_modified" (304), "unchanged" (a 200 with the
    stored body hash; ``body`` is None), "failed" (``error`` says why), "gone" (410), "throttled"
    (429, or 503 with a Retry-After; ``retry_after`` in seconds when the server said).
    ``validators`` are the new ones (to store only after a successful parse; the given ones when
    there is nothing new). ``moved_to``: where the leading run of permanent redirects (301/308)
    led, reported only when the fetch then got an answer (ok, not_modified, unchanged), so the
    poller never moves a source to a dead end."""

    outcome: Outcome
    final_url: str
    validators: Validators
    body: bytes | None = None
    moved_to: str | None = None
    retry_after: float | None = None
    max_age: float | None = None
    status: int | None = None
    error: str | None = None


class _Stop(Exception):
    """A fetch ends as failed, with these plain words."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Refused(httpcore.ConnectError):
    """Raised by the guarded network backend: the address is not one we may connect to."""


# -- the public helpers ------------------------------------------------------------------------


def redact(url: str) -> str:
    """``url`` without its userinfo (``user:password@``), for logs."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@]*@", r"\1", url)


def make_client(settings: FetchSettings, **kwargs: Any) -> httpx.Client:
    """An httpx client for :func:`fetch` that also enforces ``settings`` at the socket: every
    connection's address is checked when it is made (no window between our look-up and
    httpx's: a name that changes its answer in between, "DNS rebinding", still gets refused),
    and every socket read and write is bounded by the running fetch's deadline (a server that
    drips its headers is cut too). Environment proxies are ignored (``trust_env=False``): a
    proxy would connect for us, out of reach of the address check.

    The pool is swapped into httpx's own transport (``HTTPTransport._pool``, private: httpx is
    pinned below 0.29, and ``tests/feeds/test_fetch.py`` fails if this stops working) rather
    than rewriting the transport's request mapping here."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(settings.allow_private),
    )
    return httpx.Client(transport=transport, trust_env=False, follow_redirects=False, **kwargs)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One context for every client: loading the CA bundle costs about 0.3 s of CPU, and a
    context is safe to share between threads once made."""
    return httpx.create_ssl_context(trust_env=False)


# -- the deadline ------------------------------------------------------------------------------


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def bound(self, timeout: float | None) -> float:
        """``timeout`` cut to what is left; past the deadline, the fetch has timed out."""
        left = self.left()
        if left <= 0:
            raise _Stop("timed out")
        return left if timeout is None else min(timeout, left)

    def timeouts(self, settings: FetchSettings) -> dict[str, float]:
        """httpx's per-request timeouts (its ``timeout`` extension), each within the deadline."""
        read = self.bound(settings.read_timeout)
        return {
            "connect": self.bound(settings.connect_timeout),
            "read": read,
            "write": read,
            "pool": self.bound(settings.connect_timeout),
        }


# The running fetch's deadline, for the guarded backend's streams: a sync httpx client does
# all its socket work on the thread that called fetch.
_current = threading.local()


def _running_deadline() -> _Deadline | None:
    return getattr(_current, "deadline", None)


# -- addresses ---------------------------------------------------------------------------------


def _is_public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])  # an IPv6 scope ("fe80::1%eth0")
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return addr.is_global and not addr.is_multicast


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses ``host`` resolves to, within ``timeout`` seconds. ``getaddrinfo`` takes
    no timeout, so it runs on a daemon thread we stop waiting for (it ends when the system's
    resolver gives up; a daemon thread never holds the process at exit)."""
    box: dict[str, Any] = {}

    def look_up() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the waiting thread, which sorts it
            box["error"] = exc

    thread = threading.Thread(target=look_up, name="newsbot-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _Stop("timed out")
    if "error" in box:
        raise _Stop("could not connect (unknown host)")
    return list(dict.fromkeys(str(info[4][0]) for info in box["infos"]))


def _literal(host: str) -> str | None:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


def _checked_addresses(host: str, port: int, timeout: float) -> list[str]:
    """The addresses of ``host``, all public, or :class:`_Stop` saying why not. Any private
    one refuses the host: which address a connection picks is not ours to say."""
    addresses = [ip] if (ip := _literal(host)) else _resolve(host, port, timeout)
    if not addresses or not all(_is_public(a) for a in addresses):
        raise _Stop("refused: private address")
    return addresses


def _check_url(url: httpx.URL, settings: FetchSettings, deadline: _Deadline) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        raise _Stop("refused: not an http(s) address")
    if not settings.allow_private:
        port = url.port or (443 if url.scheme == "https" else 80)
        _checked_addresses(url.host, port, deadline.bound(settings.connect_timeout))


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    @staticmethod
    def _bound(timeout: float | None, fail: type[Exception]) -> float | None:
        deadline = _running_deadline()
        if deadline is None:
            return timeout
        left = deadline.left()
        if left <= 0:
            raise fail("the fetch's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = self._bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting only to checked addresses, with bounded streams."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _DeadlineStream._bound(timeout, httpcore.ConnectTimeout)
        addresses = [host]
        if not self._allow_private:
            try:
                addresses = _checked_addresses(host, port, timeout or 30.0)
            except _Stop as stop:
                raise _Refused(stop.error) from None
        last: Exception | None = None
        for address in addresses:  # the checked ones, in the resolver's order
            try:
                stream = self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError("no address")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- decoding ----------------------------------------------------------------------------------


class _Decoder:
    """Content-Encoding undone in pieces of at most :data:`PIECE` bytes. Encodings apply in the
    order listed, so they are undone from the last. An unknown one is passed through as it is
    (as httpx and browsers do: some servers name a charset there); the parser judges the rest."""

    def __init__(self, header: str) -> None:
        names = [n.strip().lower() for n in header.split(",") if n.strip()]
        self.steps = [step for n in reversed(names) if (step := _step(n)) is not None]

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces: Iterable[bytes] = [data] if data else []
        for step in self.steps:
            pieces = _chain(step, pieces)
        yield from pieces

    def flush(self) -> Iterator[bytes]:
        pieces: Iterable[bytes] = []
        for step in self.steps:
            pieces = _chain_flush(step, pieces)
        yield from pieces


def _chain(step: _Step, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from step.feed(piece)


def _chain_flush(step: _Step, pieces: Iterable[bytes]) -> Iterator[bytes]:
    yield from _chain(step, pieces)
    yield from step.flush()


class _Step:
    name = ""

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib(_Step):
    def __init__(self, name: str, wbits: int) -> None:
        self.name = name
        self._d = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and self.name == "deflate" and data and (data[0] & 0x0F) != 8:
            # "deflate" is meant to be zlib-wrapped and is sometimes raw: the first byte says
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        self._started = self._started or bool(data)
        while data and not self._d.eof:
            out = self._d.decompress(data, PIECE)
            data = self._d.unconsumed_tail
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        out = self._d.flush()
        if out:
            yield out


class _Brotli(_Step):
    name = "br"

    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._d.process(data, output_buffer_limit=PIECE)
        except TypeError:  # brotli before 1.2 cannot limit its output: one piece, unbounded
            yield self._d.process(data)
            return
        yield out
        while not self._d.can_accept_more_data():
            yield self._d.process(b"", output_buffer_limit=PIECE)


def _step(name: str) -> _Step | None:
    if name in ("gzip", "x-gzip"):
        return _Zlib(name, 16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(name, zlib.MAX_WBITS)
    if name == "br":
        return _Brotli()
    return None  # identity, and names we never asked for


# -- reading the answer ------------------------------------------------------------------------


def _size(n: int) -> str:
    if n % MiB == 0:
        return f"{n // MiB} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def _read_body(response: httpx.Response, settings: FetchSettings, deadline: _Deadline) -> bytes:
    """The decoded body, or :class:`_Stop`: too large (as sent or decoded), past the deadline,
    or not decodable. Never more than ``max_bytes`` plus one piece is held."""
    too_large = f"too large (over {_size(settings.max_bytes)})"
    length = response.headers.get("content-length", "")
    if length.strip().isdigit() and int(length) > settings.max_bytes:
        raise _Stop(too_large)
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    sent = kept = 0
    try:
        for chunk in response.iter_raw():
            sent += len(chunk)
            if sent > settings.max_bytes:
                raise _Stop(too_large)
            for piece in decoder.feed(chunk):
                kept += len(piece)
                if kept > settings.max_bytes:
                    raise _Stop(too_large)
                parts.append(piece)
            deadline.bound(None)  # a drip: each chunk on time, the whole too slow
        for piece in decoder.flush():
            kept += len(piece)
            if kept > settings.max_bytes:
                raise _Stop(too_large)
            parts.append(piece)
    except (zlib.error, brotli.error):
        names = ", ".join(step.name for step in decoder.steps)
        raise _Stop(f"could not decode the body ({names})") from None
    return b"".join(parts)


def _header(response: httpx.Response, name: str) -> str | None:
    value = response.headers.get(name)
    if value is None or not value.strip() or len(value) > MAX_VALIDATOR:
        return None
    return value.strip()


def _sendable(value: str | None) -> str | None:
    """A stored validator fit to send back: printable ASCII, not absurdly long."""
    if value is None or len(value) > MAX_VALIDATOR:
        return None
    if not value.isascii() or not value.isprintable():
        return None
    return value


def max_age(cache_control: str | None) -> float | None:
    """Seconds of ``max-age`` in a Cache-Control value (None when absent, garbage or negative).
    ``no-cache``/``no-store`` say nothing about how often to ask, so they are ignored."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():
                return float(min(int(value), 10**9))
            return None
    return None


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP date (taken from
    ``now``, the server's Date when it sent one: its clock, not ours). None when garbage."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 10**9))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _server_now(response: httpx.Response) -> dt.datetime:
    value = response.headers.get("date")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            if when is not None and when.tzinfo is not None:
                return when
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return dt.datetime.now(dt.UTC)


def status_words(status: int) -> str:
    """A status other than success, redirect, 304, 410 or 429, in plain words."""
    if status in (401, 403):
        return f"blocked ({status})"
    if status == 404:
        return "not found (404)"
    if status >= 500:
        return f"server error ({status})"
    if 400 <= status < 500:
        return f"refused by the server ({status})"
    return f"unexpected answer ({status})"


# -- the fetch ---------------------------------------------------------------------------------


@dataclass
class _Trail:
    """Where a fetch has got to: what a failure still reports."""

    url: str
    status: int | None = None
    moved_to: str | None = None


def fetch(
    url: str, validators: Validators, settings: FetchSettings, client: httpx.Client
) -> FetchResult:
    """GET ``url`` politely and sort the answer into a :class:`FetchResult` (see the module's
    docstring). Never raises for anything the network or the server does."""
    trail = _Trail(url)
    deadline = _Deadline(settings.deadline)
    _current.deadline = deadline
    try:
        return _fetch(trail, validators, settings, client, deadline)
    except _Stop as stop:
        error = stop.error
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.ConnectError as exc:
        refused = isinstance(exc.__cause__, _Refused)
        error = str(exc.__cause__) if refused else "could not connect"
    except httpx.RemoteProtocolError:
        error = "bad answer from the server"
    except httpx.NetworkError:
        error = "connection dropped"
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        error = "refused: not an http(s) address"
    except (httpx.HTTPError, httpx.StreamError, OSError, ValueError):
        error = "request failed"
    finally:
        _current.deadline = None
    return FetchResult("failed", trail.url, validators, status=trail.status, error=error)


def _fetch(
    trail: _Trail,
    validators: Validators,
    settings: FetchSettings,
    client: httpx.Client,
    deadline: _Deadline,
) -> FetchResult:
    current = httpx.URL(trail.url)
    seen = {str(current)}
    headers = _request_headers(validators, settings)
    only_permanent = True
    for _hop in range(settings.max_redirects + 1):
        trail.url = str(current)
        _check_url(current, settings, deadline)
        with client.stream(
            "GET",
            current,
            headers=headers,
            follow_redirects=False,
            extensions={"timeout": deadline.timeouts(settings)},
        ) as response:
            trail.status = response.status_code
            if response.status_code not in REDIRECTS:
                return _answer(response, trail, validators, settings, deadline)
            location = response.headers.get("location", "").strip()
            if not location:
                raise _Stop(f"redirect without an address ({response.status_code})")
            target = current.join(location).copy_with(fragment=None)
            # the address moved for good as far as the leading run of permanent redirects goes
            # (A -301-> B -302-> C: the source's address is B now)
            only_permanent = only_permanent and response.status_code in PERMANENT
            if only_permanent:
                trail.moved_to = str(target)
            if str(target) in seen:
                raise _Stop("too many redirects (a loop)")
            seen.add(str(target))
            current = target
    raise _Stop("too many redirects")


def _request_headers(validators: Validators, settings: FetchSettings) -> dict[str, str]:
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if etag := _sendable(validators.etag):
        headers["If-None-Match"] = etag
    if last_modified := _sendable(validators.last_modified):
        headers["If-Modified-Since"] = last_modified
    return headers


def _answer(
    response: httpx.Response,
    trail: _Trail,
    validators: Validators,
    settings: FetchSettings,
    deadline: _Deadline,
) -> FetchResult:
    status = response.status_code
    result = FetchResult(
        "failed",
        trail.url,
        validators,
        status=status,
        max_age=max_age(response.headers.get("cache-control")),
    )
    if status == 304:
        fresh = replace(
            validators,
            etag=_header(response, "etag") or validators.etag,
            last_modified=_header(response, "last-modified") or validators.last_modified,
        )
        return replace(result, outcome="not_modified", validators=fresh, moved_to=trail.moved_to)
    if 200 <= status < 300:
        body = _read_body(response, settings, deadline)
        fresh = Validators(
            etag=_header(response, "etag"),
            last_modified=_header(response, "last-modified"),
            body_hash=hashlib.sha256(body).hexdigest(),
        )
        if fresh.body_hash == validators.body_hash:
            return replace(result, outcome="unchanged", validators=fresh, moved_to=trail.moved_to)
        return replace(result, outcome="ok", body=body, validators=fresh, moved_to=trail.moved_to)
    if status == 410:
        return replace(result, outcome="gone", error="gone (410)")
    wait = retry_after(response.headers.get("retry-after"), _server_now(response))
    if status == 429:
        return replace(result, outcome="throttled", retry_after=wait, error="throttled (429)")
    if status == 503 and wait is not None:
        return replace(result, outcome="throttled", retry_after=wait, error="throttled (503)")
    return replace(result, error=status_words(status))
