"""Live sources as both renderers show them: health words, every value from outside inert in
Slack's mrkdwn (a title with ``<!channel>`` and ``*`` mentions and formats nothing), Block
Kit's limits kept with 300 sources, in a message and on the Home tab."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest

from bot.core.answers import HomeAnswer, SettingsAnswer, SourceHealth, SourcesAnswer
from bot.render import blocks, text
from bot.render.common import source_adder, source_error, source_state
from bot.render.home import home_view
from bot.render.kit import MAX_BLOCKS, MAX_VIEW_BLOCKS
from bot.render.sources import SOURCES_PER_MESSAGE, home_sources, inert, source_text
from storage.sources import Source
from tests.conftest import NOW
from tests.fakeslack import block_errors

HOSTILE = "<!channel> *bold* _it_ ~gone~ `code` <@U1> <https://evil.example|click> &amp;"


def source(n: int = 1, **fields) -> Source:
    values = {
        "id": n,
        "kind": "feed",
        "address": f"https://example.com/{n}.xml",
        "title": f"Feed {n}",
        "topics": ("ai",),
        "added_by": "T1:U1",
        "added_at": NOW,
        "state": "active",
        "etag": None,
        "last_modified": None,
        "body_hash": None,
        "interval_seconds": 1800,
        "next_poll_at": None,
        "consecutive_failures": 0,
        "last_success_at": NOW,
        "last_error": None,
        "last_error_at": None,
        "failing_since": None,
        "last_new_item_at": NOW,
        "moved_to": None,
        "moved_count": 0,
        "notified_failing_at": None,
        "notified_quiet_at": None,
    }
    return Source(**{**values, **fields})


def health(recent: int = 4, **fields) -> SourceHealth:
    return SourceHealth(source(**fields), recent)


FAILING = {
    "consecutive_failures": 3,
    "last_error": "timed out",
    "last_error_at": NOW,
    "failing_since": NOW - dt.timedelta(hours=5),
}


@pytest.mark.parametrize(
    ("made", "state", "error"),
    [
        (health(), "ok", None),
        (health(0, last_success_at=None, last_new_item_at=None), "new", None),
        (health(0), "quiet", None),
        (health(0, last_new_item_at=None), "ok", None),  # never had items: not "quiet"
        (health(**FAILING), "failing", "timed out, 3 times in a row"),
        (health(**{**FAILING, "consecutive_failures": 1}), "failing", "timed out"),
        (health(state="gone", last_error="gone (410)"), "gone", "gone (410)"),
        (health(state="paused"), "paused", None),
        # an error a success has made history is not shown
        (health(last_error="timed out", last_error_at=NOW), "ok", None),
    ],
)
def test_health_in_plain_words(made, state, error):
    assert source_state(made) == state and source_error(made) == error


def test_who_added_it():
    assert source_adder("T1:U123") == ("U123", "U123")
    assert source_adder("cli") == ("the command line", None)
    assert source_adder("T1:<!channel>") == ("T1:<!channel>", None)


def test_a_source_in_slack_shows_its_health():
    shown = source_text(health(7, **FAILING))
    first, second, third, fourth = shown.split("\n")
    assert first == ":warning: *#1* Feed 1 · `https://example.com/1.xml`"
    assert re.fullmatch(
        r"failing · last success <!date\^\d+\^\{date_short_pretty\} \{time\}\|Feb 6, 2020 "
        r"12:00 UTC> · 7 new in 7 days · feed",
        second,
    )
    assert third.startswith("last error: timed out, 3 times in a row (since <!date^")
    assert fourth == "topics: ai · added by <@U1>"
    never = source_text(health(0, last_success_at=None, last_new_item_at=None, added_by="cli"))
    assert "last success never" in never and "added by the command line" in never


def test_everything_from_outside_is_inert_in_mrkdwn():
    made = health(
        title=HOSTILE,
        address="https://example.com/a`b*c_d<!here>",
        topics=(HOSTILE, "x*y*"),
        added_by="T1:<!everyone>",
        **{**FAILING, "last_error": HOSTILE},
    )
    for shown in (source_text(made), *_texts(home_sources([made], 0))[1:]):
        # no mention, link or date from the data: every < in it is escaped
        assert "<!channel>" not in shown and "<!everyone>" not in shown and "<@U1>" not in shown
        assert "<https://evil" not in shown and "&lt;!channel&gt;" in shown
        assert [m for m in re.findall(r"<[^>]*>", shown) if not m.startswith("<!date^")] == []
        # no formatting mark but ours (the id in bold, the address's code span, date tokens)
        ours = re.sub(r"`[^`]*`|<!date\^[^>]*>|\*#1\*|:\w+:", "", shown)
        assert not re.search(r"[*_~`]", ours), ours
        assert "∗bold∗" in shown
    assert "&amp;amp;" in source_text(made)  # the data's "&amp;", as written
    assert "`https://example.com/a%60b*c_d&lt;!here&gt;`" in source_text(made)


def test_inert_escapes_first_then_swaps_the_marks():
    assert inert("*a* _b_ ~c~ `d` <!here> & x", 100) == "∗a∗ ˍbˍ ∼c∼ ˋdˋ &lt;!here&gt; &amp; x"
    assert len(inert("a " * 500, 50)) <= 50


def test_300_sources_never_break_a_message():
    many = SourcesAnswer(
        [health(4, n=n, title=f"{HOSTILE} {n}" * 3, **FAILING) for n in range(300)]
    )
    fallback, made = blocks.render(many, NOW)
    assert fallback == "300 news sources"
    assert block_errors(made) == [] and len(made) <= MAX_BLOCKS
    assert made[0]["text"]["text"] == "*News sources* (300, 300 failing or gone)"
    assert len([b for b in made if b["type"] == "section"]) == SOURCES_PER_MESSAGE + 1
    more = made[-2]["elements"][0]["text"]
    assert more == f"… and {300 - SOURCES_PER_MESSAGE} more: `newsbot sources list`"
    assert len(json.dumps(made)) < 40_000


def test_no_sources_says_how_to_add_one():
    fallback, made = blocks.render(SourcesAnswer([]), NOW)
    assert fallback == "No news sources yet."
    assert "`/news source add &lt;url&gt; [topic ...]`" in made[0]["text"]["text"]
    assert "`newsbot sources add PATH`" in made[0]["text"]["text"]
    assert "No news sources yet" in text.render(SourcesAnswer([]), NOW)


def home(sources: list[SourceHealth], more: int = 0) -> HomeAnswer:
    settings = SettingsAnswer("your DM", True, 5, False, None, [])
    return HomeAnswer([], 0, 0, 1, settings, [], [], sources, more)


def test_the_home_tab_shows_ten_sources_compactly_and_counts_the_rest():
    shown = [health(4, n=n, title=HOSTILE * 5, **FAILING) for n in range(10)]
    view = home_view(home(shown, 290))
    assert block_errors(view["blocks"], MAX_VIEW_BLOCKS) == []
    texts = _texts(view["blocks"])
    start = texts.index("*News sources* (300)")
    lines = "\n".join(texts[start + 1 : -1]).split("\n")
    assert len(lines) == 10 and all(line.startswith(":warning: ") for line in lines)
    assert texts[-1] == "… and 290 more: `/news sources` lists them all"
    empty = _texts(home_view(home([]))["blocks"])
    assert empty[-2:] == [
        "*News sources* (0)",
        "None yet. `/news source add &lt;url&gt; [topic ...]` adds a feed.",
    ]


def test_a_full_home_tab_with_sources_stays_within_slacks_limits():
    subs = [
        {"topic": f"t{n}", "hour": 8, "minute": 0, "tz": "UTC", "channel_id": f"C{n}"}
        for n in range(40)
    ]
    mutes = [{"label": f"Outlet {n}", "domain": f"o{n}.example"} for n in range(30)]
    settings = SettingsAnswer("your DM", True, 5, False, "08:00 (UTC)", mutes)
    full = HomeAnswer(subs[:20], 60, 0, 3, settings, subs[:20], subs[20:], [], 0)
    full = dataclasses.replace(full, sources=[health(4, n=n, **FAILING) for n in range(10)])
    view = home_view(full, notice="done")
    assert block_errors(view["blocks"], MAX_VIEW_BLOCKS) == []
    assert "*News sources* (10)" in _texts(view["blocks"])


def test_the_terminal_shows_the_same_health_with_control_characters_escaped():
    made = health(7, title="Evil\x1b[31m\nforged line", **FAILING)
    shown = text.render(SourcesAnswer([made, health(0, n=2, added_by="cli", topics=())]), NOW)
    assert shown.split("\n") == [
        "News sources (2):",
        "  #1 failing · feed https://example.com/1.xml “Evil\\x1b[31m\\x0aforged line”",
        "     last success 2020-02-06 12:00 UTC · 7 new in 7 days",
        "     last error: timed out, 3 times in a row (since 2020-02-06 07:00 UTC)",
        "     topics: ai · added by U1",
        "  #2 quiet · feed https://example.com/2.xml “Feed 2”",
        "     last success 2020-02-06 12:00 UTC · 0 new in 7 days",
        "     added by the command line",
    ]


def _texts(made: list[dict]) -> list[str]:
    out = []
    for block in made:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
        elif block["type"] == "header":
            out.append(block["text"]["text"])
    return out
