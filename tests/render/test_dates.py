"""Article times in Slack are Slack's date token, which each reader sees in their own zone and
at its true age; the terminal keeps relative ages (it is read as it is printed)."""

from __future__ import annotations

import datetime as dt
import re

from bot.core.answers import SearchAnswer
from bot.core.search import SearchResult, StoryHit
from bot.render import blocks, kit, text
from tests.conftest import NOW
from tests.fakeslack import block_errors

# 2026-11-26 08:15:00 UTC
TS = int(dt.datetime(2026, 11, 26, 8, 15, tzinfo=dt.UTC).timestamp())
# TS's token, written out
TS_TOKEN = "<!date^1795680900^{date_short_pretty} {time}|Nov 26, 2026 08:15 UTC>"
TOKEN = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|([^<>|&]*)>")


def article(n: int = 1, published_ts: int | None = TS, provider: str = "Reuters") -> dict:
    return {
        "id": n,
        "story_id": n,
        "title": f"Headline {n}",
        "web_url": f"https://news.example/{n}",
        "provider": provider,
        "domain": "reuters.com",
        "published_ts": published_ts,
        "excerpt": "An excerpt.",
    }


def test_the_token_has_slacks_exact_form_and_a_plain_utc_fallback() -> None:
    assert TS == 1795680900
    assert kit.slack_date(TS) == TS_TOKEN
    # one-digit days and hours: no padding on the day, two digits for the time
    early = int(NOW.timestamp()) - 12 * 3600 + 5 * 60
    assert kit.slack_date(early) == (
        f"<!date^{early}^{{date_short_pretty}} {{time}}|Feb 6, 2020 00:05 UTC>"
    )


def test_an_article_without_a_time_says_so() -> None:
    assert kit.slack_date(None) == "date unknown"
    assert kit.slack_date(10**13) == "date unknown"  # past year 9999: no date to show
    # Slack's token counts from 1970: an older time is its fallback text alone
    assert kit.slack_date(-86400) == "Dec 31, 1969 00:00 UTC"


def test_a_search_answer_and_a_shared_story_show_the_token() -> None:
    hits = [StoryHit(1, 1.0, article(1)), StoryHit(2, 0.5, article(2, published_ts=None))]
    _, answer = blocks.render(SearchAnswer(SearchResult("headline", hits, 2)), NOW)
    assert block_errors(answer) == []
    stories = [b["text"]["text"] for b in answer if b["type"] == "section" and "accessory" in b]
    assert stories[0].split("\n")[1] == f"Reuters · {TS_TOKEN}"
    assert stories[1].split("\n")[1] == "Reuters · date unknown"
    assert " ago" not in str(answer)
    _, shared = blocks.shared_story_blocks(article(3), "U1", NOW)
    assert shared[0]["text"]["text"].split("\n")[1] == f"Reuters · {TS_TOKEN}"
    # The terminal is read as it is printed: a relative age there.
    hits[0].article["published_ts"] = int(NOW.timestamp()) - 3 * 3600
    printed = text.render(SearchAnswer(SearchResult("headline", hits, 2)), NOW)
    assert "Reuters · 3 hours ago ·" in printed and "<!date" not in printed


def test_a_huge_outlet_name_never_cuts_the_token() -> None:
    hit = StoryHit(1, 1.0, article(1, provider="Big & Loud Outlet " * 200))
    _, answer = blocks.render(SearchAnswer(SearchResult("headline", [hit], 1)), NOW)
    meta = answer[1]["text"]["text"].split("\n")[1]
    assert meta.startswith("Big &amp; Loud Outlet") and meta.endswith(f"… · {TS_TOKEN}")
    assert len(TOKEN.findall(meta)) == 1
