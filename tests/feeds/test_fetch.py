"""bot.feeds.fetch over real HTTP to our own feed server (tests/fakefeeds.py): every outcome, the
byte cap and the deadline, redirects and the address check, conditional GET, decoding, and a
fuzz of random server answers that fetch never raises on. No test asserts a duration."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import random
import socket
import string
import tracemalloc
from collections.abc import Iterator

import brotli
import httpx
import pytest

from bot.feeds import fetch as fetch_module
from bot.feeds.fetch import (
    USER_AGENT,
    FetchResult,
    FetchSettings,
    MiB,
    Validators,
    fetch,
    make_client,
    max_age,
    redact,
    retry_after,
)
from tests.fakefeeds import Answer, FakeFeeds

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Fake</title>
<item><title>One</title><link>https://example.org/1</link></item></channel></rss>"""

OPEN = FetchSettings(allow_private=True, deadline=5.0)
NONE = Validators()


@pytest.fixture
def feeds() -> Iterator[FakeFeeds]:
    server = FakeFeeds()
    yield server
    server.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(OPEN) as c:
        yield c


def get(feeds: FakeFeeds, client: httpx.Client, path: str, **kw: object) -> FetchResult:
    validators = kw.pop("validators", NONE)
    settings = kw.pop("settings", OPEN)
    assert isinstance(validators, Validators) and isinstance(settings, FetchSettings)
    return fetch(feeds.url(path), validators, settings, client)


# -- outcomes ----------------------------------------------------------------------------------


def test_a_new_body_is_ok_with_its_validators(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve(
        "/feed",
        body=RSS,
        etag='"v1"',
        last_modified="Wed, 05 Feb 2020 10:00:00 GMT",
        headers={"Cache-Control": "public, max-age=3600"},
    )
    result = get(feeds, client, "/feed")
    assert result.outcome == "ok" and result.error is None
    assert result.body == RSS and result.status == 200
    assert result.final_url == feeds.url("/feed") and result.moved_to is None
    assert result.validators == Validators(
        '"v1"', "Wed, 05 Feb 2020 10:00:00 GMT", hashlib.sha256(RSS).hexdigest()
    )
    assert result.max_age == 3600


def test_the_request_names_newsbot_and_what_it_decodes(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/feed", body=RSS)
    get(feeds, client, "/feed")
    (request,) = feeds.requests_to("/feed")
    assert request.header("user-agent") == USER_AGENT
    assert USER_AGENT.startswith("newsbot/") and "feed reader" in USER_AGENT
    assert request.header("accept-encoding") == "gzip, deflate, br"
    assert request.header("if-none-match") is None and request.header("if-modified-since") is None


def test_conditional_get_sends_the_validators_and_a_304_is_not_modified(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/feed", body=RSS, etag='"v1"', headers={"Cache-Control": "max-age=900"})
    first = get(feeds, client, "/feed")
    second = get(feeds, client, "/feed", validators=first.validators)
    assert second.outcome == "not_modified" and second.status == 304 and second.body is None
    assert second.validators == first.validators and second.max_age == 900
    assert feeds.requests_to("/feed")[1].header("if-none-match") == '"v1"'


def test_if_modified_since_is_sent_from_last_modified(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    stamp = "Wed, 05 Feb 2020 10:00:00 GMT"
    feeds.serve("/feed", body=RSS, last_modified=stamp)
    result = get(feeds, client, "/feed", validators=Validators(last_modified=stamp))
    assert result.outcome == "not_modified"
    assert feeds.requests_to("/feed")[0].header("if-modified-since") == stamp


def test_a_validator_unfit_for_a_header_is_not_sent(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", body=RSS)
    result = get(feeds, client, "/feed", validators=Validators(etag='"a\r\nX-Evil: 1"'))
    assert result.outcome == "ok"
    assert feeds.requests_to("/feed")[0].header("if-none-match") is None


def test_the_same_body_again_is_unchanged(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", body=RSS)
    first = get(feeds, client, "/feed")
    second = get(feeds, client, "/feed", validators=first.validators)
    assert second.outcome == "unchanged" and second.body is None
    assert second.validators.body_hash == first.validators.body_hash
    feeds.serve("/feed", body=RSS + b" ")
    assert get(feeds, client, "/feed", validators=first.validators).outcome == "ok"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, "blocked (403)"),
        (401, "blocked (401)"),
        (404, "not found (404)"),
        (400, "refused by the server (400)"),
        (500, "server error (500)"),
        (502, "server error (502)"),
        (503, "server error (503)"),  # no Retry-After: a failure like any 5xx
    ],
)
def test_errors_in_plain_words(
    feeds: FakeFeeds, client: httpx.Client, status: int, error: str
) -> None:
    feeds.serve("/feed", status=status, body=b"nope")
    result = get(feeds, client, "/feed", validators=Validators(etag='"old"'))
    assert (result.outcome, result.error, result.status) == ("failed", error, status)
    assert result.validators == Validators(etag='"old"') and result.body is None


def test_410_is_gone(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", status=410)
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.error, result.status) == ("gone", "gone (410)", 410)


def test_429_with_retry_after_in_seconds_is_throttled(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/feed", status=429, headers={"Retry-After": "120"})
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.retry_after, result.status) == ("throttled", 120.0, 429)


def test_retry_after_as_a_date_counts_from_the_servers_clock(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    # the server's clock is years off ours: the wait is still the 90 s it means
    date = dt.datetime(2001, 1, 1, 12, 0, tzinfo=dt.UTC)
    feeds.serve(
        "/feed",
        status=503,
        headers={
            "Date": email.utils.format_datetime(date, usegmt=True),
            "Retry-After": email.utils.format_datetime(
                date + dt.timedelta(seconds=90), usegmt=True
            ),
        },
    )
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.retry_after, result.status) == ("throttled", 90.0, 503)


def test_429_without_a_usable_retry_after_is_throttled_without_a_wait(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/feed", status=429, headers={"Retry-After": "soon-ish"})
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.retry_after) == ("throttled", None)


def test_retry_after_and_max_age_parsing() -> None:
    now = dt.datetime(2020, 2, 6, 12, 0, tzinfo=dt.UTC)
    assert retry_after("0", now) == 0.0
    assert retry_after(" 30 ", now) == 30.0
    assert retry_after("Thu, 06 Feb 2020 12:01:00 GMT", now) == 60.0
    assert retry_after("Thu, 06 Feb 2020 11:00:00 GMT", now) == 0.0  # in the past: now
    for garbage in ("", "-5", "1.5e3", "tomorrow", "Thu, 99 Feb 2020 99:00:00 GMT", None):
        assert retry_after(garbage, now) is None
    assert max_age("max-age=60") == 60.0
    assert max_age('private, MAX-AGE="120", must-revalidate') == 120.0
    for garbage in ("no-cache", "max-age=-1", "max-age=", "max-age=abc", "", None):
        assert max_age(garbage) is None


# -- decoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_encoded_bodies_are_decoded(feeds: FakeFeeds, client: httpx.Client, encoding: str) -> None:
    body = RSS * 500
    feeds.serve("/feed", body=body, encoding=encoding)
    result = get(feeds, client, "/feed")
    assert result.outcome == "ok" and result.body == body
    assert result.validators.body_hash == hashlib.sha256(body).hexdigest()


def test_raw_deflate_and_stacked_encodings_are_decoded(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    import zlib

    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    feeds.serve(
        "/raw", body=raw.compress(RSS) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    assert get(feeds, client, "/raw").body == RSS
    stacked = brotli.compress(gzip.compress(RSS))  # gzip applied first, then br
    feeds.serve("/both", body=stacked, headers={"Content-Encoding": "gzip, br"})
    assert get(feeds, client, "/both").body == RSS


def test_a_body_that_does_not_decode_fails_in_plain_words(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/feed", body=b"this is not gzip at all", headers={"Content-Encoding": "gzip"})
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.error) == ("failed", "could not decode the body (gzip)")


def test_an_unknown_encoding_is_passed_through(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", body=RSS, headers={"Content-Encoding": "utf-8"})
    assert get(feeds, client, "/feed").body == RSS


# -- the byte cap ------------------------------------------------------------------------------


def test_a_50_mb_body_is_cut_at_the_cap_while_streaming(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    # no Content-Length: the cap is found by counting, and the body is never held whole
    feeds.serve("/big", size=50_000_000, length=False)
    tracemalloc.start()
    try:
        result = get(feeds, client, "/big")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.outcome, result.error) == ("failed", "too large (over 10 MiB)")
    assert result.body is None and result.status == 200
    assert peak < 3 * 10 * MiB  # the kept pieces and one join at most, never 50 MB


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/big", size=50_000_000)
    result = get(feeds, client, "/big")
    assert (result.outcome, result.error) == ("failed", "too large (over 10 MiB)")


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_compression_bomb_is_cut_at_the_cap_on_what_it_decodes_to(
    feeds: FakeFeeds, client: httpx.Client, encoding: str
) -> None:
    # about 30 KB of gzip, a few dozen bytes of brotli, for 30 MiB of zeros
    bomb = (
        gzip.compress(bytes(30 * MiB))
        if encoding == "gzip"
        else brotli.compress(bytes(30 * MiB), quality=1)
    )
    feeds.serve("/bomb", body=bomb, headers={"Content-Encoding": encoding})
    settings = FetchSettings(allow_private=True, max_bytes=MiB)
    tracemalloc.start()
    try:
        result = get(feeds, client, "/bomb", settings=settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.outcome, result.error) == ("failed", "too large (over 1 MiB)")
    assert peak < 4 * MiB


def test_a_body_at_the_cap_is_kept(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/edge", size=MiB, length=False)
    settings = FetchSettings(allow_private=True, max_bytes=MiB)
    result = get(feeds, client, "/edge", settings=settings)
    assert result.outcome == "ok" and result.body is not None and len(result.body) == MiB


# -- the deadline ------------------------------------------------------------------------------


DRIP = FetchSettings(allow_private=True, deadline=1.0, read_timeout=5.0)


def test_a_dripping_body_is_cut_at_the_deadline(feeds: FakeFeeds, client: httpx.Client) -> None:
    # each byte comes well within the read timeout; the whole fetch does not
    feeds.serve("/drip", body=RSS, drip=0.2)
    result = get(feeds, client, "/drip", settings=DRIP)
    assert (result.outcome, result.error) == ("failed", "timed out")
    assert feeds.wait_for_hangup("/drip") == "body"


def test_a_dripping_body_is_cut_with_any_httpx_client(feeds: FakeFeeds) -> None:
    feeds.serve("/drip", body=RSS, drip=0.2)
    with httpx.Client() as plain:
        result = fetch(feeds.url("/drip"), NONE, DRIP, plain)
    assert (result.outcome, result.error) == ("failed", "timed out")


def test_dripping_headers_are_cut_at_the_deadline(feeds: FakeFeeds, client: httpx.Client) -> None:
    # cut inside httpx's header reading: only make_client's bounded sockets can do this (with a
    # plain client, the fetch times out too, but only once all the headers have come)
    feeds.serve("/drip", body=RSS, drip_headers=0.2)
    result = get(feeds, client, "/drip", settings=DRIP)
    assert (result.outcome, result.error) == ("failed", "timed out")
    assert feeds.wait_for_hangup("/drip") == "headers"


def test_a_silent_server_times_out_on_the_read_timeout(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.serve("/slow", body=b"x", drip_headers=3.0)
    settings = FetchSettings(allow_private=True, deadline=10.0, read_timeout=0.5)
    with httpx.Client() as plain:
        result = fetch(feeds.url("/slow"), NONE, settings, plain)
    assert (result.outcome, result.error) == ("failed", "timed out")


# -- redirects ---------------------------------------------------------------------------------


def chain(feeds: FakeFeeds, n: int, status: int = 302) -> str:
    """/r0 -> /r1 -> ... -> /rN, which serves the feed."""
    for i in range(n):
        feeds.redirect(f"/r{i}", f"/r{i + 1}", status)
    feeds.serve(f"/r{n}", body=RSS)
    return "/r0"


def test_redirects_are_followed_up_to_the_limit(feeds: FakeFeeds, client: httpx.Client) -> None:
    result = get(feeds, client, chain(feeds, 5))
    assert result.outcome == "ok" and result.body == RSS
    assert result.final_url == feeds.url("/r5") and result.moved_to is None


def test_one_redirect_too_many_fails(feeds: FakeFeeds, client: httpx.Client) -> None:
    result = get(feeds, client, chain(feeds, 6))
    assert (result.outcome, result.error) == ("failed", "too many redirects")
    assert feeds.requests_to("/r6") == []  # never asked


def test_a_redirect_loop_fails(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.loop("/a", "/b")
    result = get(feeds, client, "/a")
    assert (result.outcome, result.error) == ("failed", "too many redirects (a loop)")
    assert len(feeds.requests) == 2


def test_a_redirect_to_itself_is_a_loop(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.redirect("/self", "/self", 301)
    assert get(feeds, client, "/self").error == "too many redirects (a loop)"


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_is_reported(
    feeds: FakeFeeds, client: httpx.Client, status: int
) -> None:
    result = get(feeds, client, chain(feeds, 1, status))
    assert result.outcome == "ok" and result.moved_to == feeds.url("/r1")


def test_moved_to_stops_at_the_first_temporary_redirect(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.redirect("/old", "/new", 301)
    feeds.redirect("/new", "/today", 302)
    feeds.serve("/today", body=RSS)
    result = get(feeds, client, "/old")
    assert result.moved_to == feeds.url("/new") and result.final_url == feeds.url("/today")
    feeds.redirect("/t", "/old", 307)
    assert get(feeds, client, "/t").moved_to is None  # temporary first: the address stays


def test_moved_to_is_not_reported_when_the_new_address_fails(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    feeds.redirect("/old", "/dead", 301)
    result = get(feeds, client, "/old")
    assert result.outcome == "failed" and result.moved_to is None
    assert result.final_url == feeds.url("/dead") and result.error == "not found (404)"


def test_a_redirect_without_location_fails(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", status=302)
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.error) == ("failed", "redirect without an address (302)")


def test_a_redirect_to_another_scheme_is_refused(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.redirect("/feed", "file:///etc/passwd")
    assert get(feeds, client, "/feed").error == "refused: not an http(s) address"


# -- the address check -------------------------------------------------------------------------

CLOSED = FetchSettings(deadline=5.0)  # allow_private off


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_addresses_are_refused_unless_allowed(feeds: FakeFeeds, host: str) -> None:
    feeds.serve("/feed", body=RSS)
    with make_client(CLOSED) as closed:
        result = fetch(f"http://{host}:{feeds.port}/feed", NONE, CLOSED, closed)
    assert (result.outcome, result.error) == ("failed", "refused: private address")
    assert feeds.requests == []  # never asked


@pytest.fixture
def our_server_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real check, except that the fake's own address (only 127.0.0.1) counts as public:
    so a first hop reaches it and a redirect from it can be refused."""
    real = fetch_module._is_public
    monkeypatch.setattr(fetch_module, "_is_public", lambda ip: ip == "127.0.0.1" or real(ip))


@pytest.fixture
def other() -> Iterator[FakeFeeds]:
    """A second feed server, on a loopback address of its own (127.0.0.2)."""
    server = FakeFeeds(host="127.0.0.2")
    yield server
    server.close()


@pytest.mark.usefixtures("our_server_is_public")
def test_a_redirect_to_a_private_address_is_refused_unless_allowed(
    feeds: FakeFeeds, other: FakeFeeds
) -> None:
    other.serve("/feed", body=RSS)
    feeds.redirect("/start", other.url("/feed"))
    with make_client(CLOSED) as closed:
        result = fetch(feeds.url("/start"), NONE, CLOSED, closed)
    assert (result.outcome, result.error) == ("failed", "refused: private address")
    assert result.final_url == other.url("/feed")
    assert [r.path for r in feeds.requests] == ["/start"] and other.requests == []
    with make_client(OPEN) as opened:
        assert fetch(feeds.url("/start"), NONE, OPEN, opened).body == RSS
    assert [r.path for r in other.requests] == ["/feed"]


@pytest.mark.usefixtures("our_server_is_public")
def test_a_redirect_to_a_name_that_resolves_privately_is_refused(
    feeds: FakeFeeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = fetch_module._resolve
    names = {"intranet.example": ["10.0.0.5"], "mixed.example": ["93.184.215.14", "10.0.0.5"]}
    monkeypatch.setattr(
        fetch_module, "_resolve", lambda host, port, t: names.get(host) or real(host, port, t)
    )
    feeds.serve("/feed", body=RSS)
    feeds.redirect("/name", f"http://intranet.example:{feeds.port}/feed")
    feeds.redirect("/mixed", f"http://mixed.example:{feeds.port}/feed")  # any private one
    feeds.redirect("/v6", f"http://[::1]:{feeds.port}/feed")
    with make_client(CLOSED) as closed:
        for start in ("/name", "/mixed", "/v6"):
            result = fetch(feeds.url(start), NONE, CLOSED, closed)
            assert (result.outcome, result.error) == ("failed", "refused: private address")
    assert feeds.requests_to("/feed") == []


def test_the_client_checks_the_address_again_when_it_connects(
    feeds: FakeFeeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if the name had resolved to a public address for our check and to 127.0.0.1 for the
    # connection (DNS rebinding): make_client's backend refuses at connect time
    feeds.serve("/feed", body=RSS)
    monkeypatch.setattr(fetch_module, "_check_url", lambda url, settings, deadline: None)
    with make_client(CLOSED) as closed:
        result = fetch(feeds.url("/feed"), NONE, CLOSED, closed)
    assert (result.outcome, result.error) == ("failed", "refused: private address")
    assert feeds.requests == []


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_which_addresses_are_public(ip: str, public: bool) -> None:
    assert fetch_module._is_public(ip) is public


def test_a_closed_port_is_could_not_connect(client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/feed", NONE, OPEN, client)
    assert (result.outcome, result.error, result.status) == ("failed", "could not connect", None)


def test_a_dropped_connection_is_a_bad_answer(feeds: FakeFeeds, client: httpx.Client) -> None:
    feeds.serve("/feed", drop=True)
    result = get(feeds, client, "/feed")
    assert (result.outcome, result.error) == ("failed", "bad answer from the server")


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "not an address", "http://", ""])
def test_what_is_not_a_web_address_is_refused(client: httpx.Client, url: str) -> None:
    result = fetch(url, NONE, OPEN, client)
    assert (result.outcome, result.error) == ("failed", "refused: not an http(s) address")


def test_credentials_in_an_address_never_reach_an_error(
    feeds: FakeFeeds, client: httpx.Client
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for url in (
        f"http://reader:s3cret@127.0.0.1:{feeds.port}/missing",
        f"http://reader:s3cret@127.0.0.1:{closed}/x",
        "ftp://reader:s3cret@example.org/",
    ):
        result = fetch(url, NONE, OPEN, client)
        assert result.outcome == "failed" and "s3cret" not in (result.error or "")
    assert redact("https://reader:s3cret@example.org/feed?x=1") == "https://example.org/feed?x=1"
    assert redact("https://example.org/a@b") == "https://example.org/a@b"


# -- never raises ------------------------------------------------------------------------------

STATUSES = [200, 200, 200, 201, 204, 206, 299, 301, 302, 304, 308, 400, 404, 410, 418, 429, 500]
STATUSES += [503, 599]  # no 1xx: httpx waits past one for the real answer (a read timeout)
PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


def garbage(rng: random.Random, n: int = 20) -> str:
    return "".join(rng.choice(PRINTABLE) for _ in range(rng.randrange(n)))


def random_answer(rng: random.Random, port: int) -> Answer:
    headers: dict[str, str] = {}
    for name, values in {
        "Retry-After": ["5", "-1", "1e9", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 99", ""],
        "Cache-Control": ["max-age=60", "max-age=-5", "max-age=" + "9" * 40, "no-store", ""],
        "Content-Encoding": ["gzip", "br", "deflate", "gzip, br", "zstd", "x-gzip", "identity"],
        "ETag": ['"abc"', 'W/"w"', "", "x" * 2000],
        "Last-Modified": ["Wed, 05 Feb 2020 10:00:00 GMT", "yesterday"],
        "Location": ["/elsewhere", "http://[::1", "//", "mailto:x@y", f"http://127.0.0.1:{port}/f"],
        "Date": ["Wed, 05 Feb 2020 10:00:00 GMT", "never"],
        "Content-Length": ["0", "-1", "abc", "99999999999"],
    }.items():
        if rng.random() < 0.3:
            headers[name] = rng.choice(values) if rng.random() < 0.7 else garbage(rng)
    body = rng.randbytes(rng.randrange(0, 3000))
    if rng.random() < 0.3:
        body = rng.choice([gzip.compress, brotli.compress])(body)
    return Answer(status=rng.choice(STATUSES), body=body, headers=headers, drop=rng.random() < 0.03)


def test_fetch_never_raises_on_200_random_answers(feeds: FakeFeeds) -> None:
    rng = random.Random(13)
    settings = FetchSettings(allow_private=True, deadline=2.0, read_timeout=1.0, max_bytes=2048)
    outcomes: set[str] = set()
    with make_client(settings) as c:
        for i in range(200):
            feeds.serve("/f", random_answer(rng, feeds.port))
            validators = Validators(etag=rng.choice([None, '"abc"', garbage(rng)]))
            result = fetch(feeds.url("/f"), validators, settings, c)
            outcomes.add(result.outcome)
            assert isinstance(result, FetchResult), i
            assert (result.error is None) == (result.outcome in ("ok", "not_modified", "unchanged"))
            assert (result.body is not None) == (result.outcome == "ok"), i
    assert {"ok", "failed", "gone", "throttled"} <= outcomes
