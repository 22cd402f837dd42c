"""Wording slips, each message a person reads checked with 0, 1 and 2 of what it counts: no
"1 stories", a headline's ``|`` shown as written (the link intact), counts in words."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bot.core.answers import ListAnswer, SearchAnswer
from bot.core.digest import Digest, DigestEntry, TopicSection
from bot.core.search import SearchResult, StoryHit
from bot.render import blocks as block_render
from bot.render import text as text_render
from bot.render.digest_blocks import digest_message, fallback_text
from bot.render.kit import MAX_BLOCKS, link
from bot.render.words import ago, plural
from tests.fakeslack import block_errors

UTC = dt.UTC
NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
TS = int(NOW.timestamp()) - 3600
WRONG = re.compile(r"\b1 (stories|subscriptions|articles|news sources)\b|\b[02-9] story\b")


def article(n: int, title: str = "Headline", provider: str = "Reuters") -> dict[str, Any]:
    return {
        "id": n,
        "title": title,
        "web_url": f"https://news.example/{n}",
        "url": f"https://news.example/{n}",
        "provider": provider,
        "domain": "news.example",
        "published_ts": TS,
        "excerpt": "",
        "story_id": n,
    }


def result(count: int, total: int | None = None) -> SearchResult:
    hits = [StoryHit(n, 1.0, article(n)) for n in range(1, count + 1)]
    return SearchResult("solar", hits, count if total is None else total, moment=NOW.timestamp())


def digest(count: int) -> Digest:
    entries = [DigestEntry(n, 1.0, article(n)) for n in range(1, count + 1)]
    return Digest("T1", "C1", NOW.date(), NOW, "UTC", [TopicSection("solar", "solar", entries)])


def everything(value: Any) -> str:
    return str(value)


def test_plural():
    assert [plural(n, "story", "stories") for n in (0, 1, 2)] == [
        "0 stories",
        "1 story",
        "2 stories",
    ]
    assert plural(1, "subscription") == "1 subscription"
    assert plural(3, "subscription") == "3 subscriptions"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (30, "just now"),
        (60, "1 minute ago"),
        (7200, "2 hours ago"),
        (86400, "1 day ago"),
        (40 * 86400, "40 days ago"),
        (90 * 86400, "2 months ago"),
        (6 * 365.25 * 86400, "6 years ago"),
        (-5, "in the future"),
    ],
)
def test_ago(seconds, said):
    assert ago(seconds) == said


@pytest.mark.parametrize("count", [1, 2])
def test_search_answer_counts_in_slack(count):
    text, blocks = block_render.search_blocks(result(count), NOW)
    said = everything((text, blocks))
    assert not WRONG.search(said), said
    assert text.startswith(plural(count, "story", "stories") + " for")
    assert block_errors(blocks) == []


def test_search_answer_ranges_in_slack():
    assert "1 story" in everything(block_render.search_blocks(result(1), NOW)[1])
    assert "Stories 1–2 of 2" in everything(block_render.search_blocks(result(2), NOW)[1])
    last = SearchResult("solar", [StoryHit(6, 1.0, article(6))], 6, offset=5)
    assert "Story 6 of 6" in everything(block_render.search_blocks(last, NOW)[1])


def test_search_answer_with_nothing_in_slack():
    text, blocks = block_render.search_blocks(SearchResult("solar", [], 0, message="None."), NOW)
    assert text == "None."


@pytest.mark.parametrize(("count", "said"), [(1, "(1 of 1 story)"), (2, "(2 of 2 stories)")])
def test_search_answer_counts_on_a_terminal(count, said):
    out = text_render.render(SearchAnswer(result(count)), NOW)
    assert out.endswith(said)
    assert not WRONG.search(out)


@pytest.mark.parametrize("count", [0, 1, 2])
def test_digest_counts(count):
    message = digest_message(digest(count))
    said = everything((message.text, message.blocks, fallback_text(digest(count), True)))
    assert not WRONG.search(said), said
    assert plural(count, "new story", "new stories") in message.text
    assert block_errors(message.blocks) == []


@pytest.mark.parametrize("count", [1, 2])
def test_stories_left_out_are_counted_in_words(count):
    fits = MAX_BLOCKS - 3  # a header and two closing context lines around the stories
    entries = [DigestEntry(n, 1.0, article(n)) for n in range(1, fits + count + 1)]
    big = Digest("T1", "C1", NOW.date(), NOW, "UTC", [TopicSection("solar", "solar", entries)])
    message = digest_message(big)
    assert message.left_out == count
    closing = message.blocks[-1]["elements"][0]["text"]
    assert closing.startswith(f"…and {plural(count, 'more story', 'more stories')} that did")


@pytest.mark.parametrize("count", [0, 1, 2])
def test_subscription_counts(count):
    subs = [
        {"topic": f"t{n}", "hour": 8, "minute": 0, "tz": "UTC", "paused_reason": None}
        for n in range(count)
    ]
    text, _ = block_render.list_blocks(ListAnswer(subs, "this channel"))
    assert not WRONG.search(text)
    if count:
        assert text.startswith(plural(count, "subscription"))


# A headline's "|": shown as written, the link intact


def test_a_pipe_in_a_label_is_kept_and_the_link_still_whole():
    out = link("https://news.example/a|b c", "Markets | Live: stocks <up> & away", 500)
    assert out == "<https://news.example/a%7Cb%20c|Markets | Live: stocks &lt;up&gt; &amp; away>"
    address, _, label = out[1:-1].partition("|")  # Slack: the address ends at the first "|"
    assert address == "https://news.example/a%7Cb%20c"
    assert label == "Markets | Live: stocks &lt;up&gt; &amp; away"
    assert "¦" not in out


def test_a_headline_pipe_in_every_slack_place():
    title = "Markets | Live"
    digest_one = Digest(
        "T1",
        "C1",
        NOW.date(),
        NOW,
        "UTC",
        [TopicSection("solar", "solar", [DigestEntry(1, 1.0, article(1, title))])],
    )
    search_one = SearchResult("solar", [StoryHit(1, 1.0, article(1, title))], 1)
    shown = [
        everything(digest_message(digest_one).blocks),
        digest_message(digest_one).text,
        everything(block_render.search_blocks(search_one, NOW)),
        everything(block_render.shared_story_blocks(article(1, title), "U1", NOW)),
        text_render.digest_text(digest_one),
        text_render.render(SearchAnswer(search_one), NOW),
    ]
    for said in shown:
        assert "Markets | Live" in said and "¦" not in said, said
    assert "<https://news.example/1|Markets | Live>" in shown[0]


def test_an_other_article_without_an_outlet_name_is_never_an_empty_name():
    """ "also: , Forbes" (an empty provider), and a crash on a None one (seen by H2)."""
    lead = article(1)
    nameless = {**article(2, provider=""), "domain": ""}
    unnamed = {**article(3), "provider": None, "domain": "apnews.com"}
    forbes = article(4, provider="Forbes")
    hit = StoryHit(1, 1.0, lead, also=[nameless, unnamed, forbes])
    res = SearchResult("solar", [hit], 1, moment=NOW.timestamp())
    shown = text_render.render(SearchAnswer(res), NOW)
    assert "also: apnews.com, Forbes" in shown
    in_slack = block_render.story_text(hit)
    assert "_also: apnews.com, Forbes_" in in_slack
