"""The runner's Slack side (bot/digests/posting.py) against the fake Slack Web API over HTTP:
each answer to a post sorted into its outcome, and the history search's pages."""

from __future__ import annotations

import datetime as dt
import logging
import socket

import pytest
from slack_sdk.errors import SlackApiError

from bot.core.digest import Digest
from bot.digests.posting import (
    HISTORY_LIMIT,
    HISTORY_PAGES,
    Outcome,
    call_failed,
    find_digest,
    post_digest,
)
from bot.digests.runner import digest_client
from bot.render.digest_blocks import digest_message
from tests.fakeslack import Fail, FakeSlack

UTC = dt.UTC
DAY = dt.date(2024, 5, 2)
MESSAGE = digest_message(Digest("T1", "C1", DAY, dt.datetime(2024, 5, 2, 8, tzinfo=UTC), "UTC", []))
PAYLOAD = {"date": DAY.isoformat(), "run_id": 1, "post": "mark"}


def post(fake: FakeSlack) -> Outcome:
    return post_digest(
        digest_client(fake.bot_token, fake.base_url, timeout=5), "C1", MESSAGE, PAYLOAD
    )


@pytest.mark.parametrize(
    ("answer", "kind", "error", "answered", "stored"),
    [
        (
            Fail(status=429, headers={"Retry-After": "7"}),
            "transient",
            "HTTP 429 scripted",
            False,
            0,
        ),
        (Fail(error="ratelimited"), "transient", "HTTP 429 ratelimited", False, 0),
        (Fail(status=503), "unknown", "HTTP 503 scripted", True, 0),
        (Fail(error="internal_error"), "unknown", "HTTP 200 internal_error", True, 0),
        (Fail(drop_after_store=True), "unknown", "RemoteDisconnected", False, 1),
        (Fail(drop_before_store=True), "unknown", "RemoteDisconnected", False, 0),
        (Fail(error="is_archived"), "gone", "is_archived", False, 0),
        (Fail(error="msg_blocked"), "refused", "Slack refused: msg_blocked", False, 0),
    ],
    ids=[
        "429",
        "ratelimited",
        "5xx",
        "internal_error",
        "drop-after",
        "drop-before",
        "gone",
        "refused",
    ],
)
def test_each_answer_to_a_post_has_its_outcome(
    fake: FakeSlack, answer: Fail, kind: str, error: str, answered: bool, stored: int
) -> None:
    fake.script("chat.postMessage", answer)
    outcome = post(fake)
    assert (outcome.kind, outcome.answered, outcome.ts) == (kind, answered, None)
    assert outcome.error.startswith(error)
    assert outcome.retry_after == (7.0 if answer.status == 429 else None)
    assert len(fake.posts("C1")) == stored


def test_a_post_slack_stored_carries_its_metadata(fake: FakeSlack) -> None:
    outcome = post(fake)
    (message,) = fake.posts("C1")
    assert outcome == Outcome("posted", ts=message["ts"])
    assert message["metadata"] == {"event_type": "news_digest", "event_payload": PAYLOAD}
    assert message["unfurl_links"] is False and message["unfurl_media"] is False


def test_a_post_that_never_left_is_transient() -> None:
    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = digest_client("xoxb-test-token", f"http://127.0.0.1:{port}/api/", timeout=5)
    outcome = post_digest(client, "C1", MESSAGE, PAYLOAD)
    assert outcome.kind == "transient" and outcome.error.startswith("URLError")


def test_other_calls_fail_gone_or_transient(fake: FakeSlack) -> None:
    client = digest_client(fake.bot_token, fake.base_url, timeout=5)
    fake.script(
        "conversations.open",
        Fail(error="account_inactive"),
        Fail(status=429, headers={"Retry-After": "3"}),
        Fail(status=502),
    )
    outcomes = []
    for _ in range(3):
        with pytest.raises(SlackApiError) as raised:
            client.conversations_open(users="U1")
        outcomes.append(call_failed(raised.value))
    assert outcomes == [
        Outcome("gone", "account_inactive"),
        Outcome("transient", "HTTP 429 scripted", retry_after=3.0),
        Outcome("transient", "HTTP 502 scripted"),
    ]
    assert call_failed(TimeoutError("timed out")) == Outcome("transient", "TimeoutError: timed out")


def digest(fake: FakeSlack, ts: float, mark: str, day: dt.date = DAY) -> None:
    fake.messages["C1"].append(
        {
            "ts": f"{ts:.6f}",
            "text": "",
            "blocks": [],
            "metadata": {
                "event_type": "news_digest",
                "event_payload": {"date": day.isoformat(), "run_id": 1, "post": mark},
            },
        }
    )


def chatter(fake: FakeSlack, start: float, count: int) -> None:
    for n in range(count):
        fake.messages["C1"].append(
            {"ts": f"{start + n / 1000:.6f}", "text": "hi", "blocks": [], "metadata": None}
        )


def search(fake: FakeSlack, **kw: str) -> str | None:
    client = digest_client(fake.bot_token, fake.base_url, timeout=5)
    now = dt.datetime.fromtimestamp(fake.clock(), UTC)
    return find_digest(client, "C1", DAY, now - dt.timedelta(minutes=5), now, **kw)


def test_the_search_pages_through_the_history_newest_first(fake: FakeSlack) -> None:
    t = fake.clock()
    digest(fake, t - 60, "old-one")
    chatter(fake, t - 50, 2 * HISTORY_LIMIT + 10)  # the digest is on the third page
    assert search(fake) == f"{t - 60:.6f}"
    pages = fake.calls_to("conversations.history")
    assert len(pages) == 3 and all(int(c.params["limit"]) == HISTORY_LIMIT for c in pages)
    assert [c.params.get("cursor") for c in pages] == [None, "50", "100"]


def test_the_search_reads_a_few_pages_at_most(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    t = fake.clock()
    digest(fake, t - 100, "old-one")
    chatter(fake, t - 50, HISTORY_PAGES * HISTORY_LIMIT + 1)
    with caplog.at_level(logging.WARNING, "newsbot.digests"):
        assert search(fake) is None
    assert len(fake.calls_to("conversations.history")) == HISTORY_PAGES
    assert "looked at the newest only" in caplog.text


def test_the_search_prefers_ours_and_finds_by_mark_across_pages(fake: FakeSlack) -> None:
    t = fake.clock()
    digest(fake, t - 60, "mine")
    chatter(fake, t - 59, HISTORY_LIMIT)
    digest(fake, t - 1, "late-one")  # newest: on the first page
    assert search(fake, prefer="mine") == f"{t - 60:.6f}"
    assert search(fake, prefer="gone") == f"{t - 1:.6f}"
    assert search(fake, token="mine") == f"{t - 60:.6f}"
    assert search(fake, token="gone") is None
    digest(fake, t - 30, "other-day", DAY - dt.timedelta(days=1))
    assert search(fake) == f"{t - 1:.6f}"


def test_a_failed_further_page_raises_as_the_first_would(fake: FakeSlack) -> None:
    """slack_sdk's page iteration sends the next page through the client's request path: no
    retry handler on the digest client, so a 429 on page 2 reaches the caller."""
    t = fake.clock()
    chatter(fake, t - 50, HISTORY_LIMIT + 5)
    fake.script(
        "conversations.history",
        {
            "ok": True,
            "messages": [],
            "has_more": True,
            "response_metadata": {"next_cursor": str(HISTORY_LIMIT)},
        },
        Fail(status=429, headers={"Retry-After": "2"}),
    )
    with pytest.raises(SlackApiError) as raised:
        search(fake)
    assert raised.value.response.status_code == 429
    assert len(fake.calls_to("conversations.history")) == 2
