"""The digest as Block Kit: escaped, within Slack's limits, cut cleanly."""

from __future__ import annotations

import datetime as dt

from bot.core.digest import Digest, DigestEntry, TopicSection
from bot.render.digest_blocks import META_CHARS, digest_message
from bot.render.text import digest_text
from tests.fakeslack import block_errors

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 7, 0, tzinfo=UTC)
# An entry's time (three hours before the digest) as Slack's date token, written out
THREE_HOURS_BEFORE = int(DUE.timestamp()) - 3 * 3600
TOKEN = f"<!date^{THREE_HOURS_BEFORE}^{{date_short_pretty}} {{time}}|May 2, 2024 04:00 UTC>"


def entry(
    n: int,
    title: str = "Headline",
    url: str | None = None,
    provider: str = "Reuters",
    also: tuple[str, ...] = (),
    published_ts: int | None = THREE_HOURS_BEFORE,
) -> DigestEntry:
    article = {
        "id": n,
        "title": title,
        "web_url": url or f"https://news.example/{n}",
        "url": f"https://news.example/{n}",
        "provider": provider,
        "published_ts": published_ts,
        "story_id": n,
    }
    return DigestEntry(
        n, 1.0, article, [{"id": 10_000 + i, "provider": p} for i, p in enumerate(also)]
    )


def digest(*sections: TopicSection) -> Digest:
    return Digest("T1", "C1", dt.date(2024, 5, 2), DUE, "Europe/London", list(sections))


def test_header_sections_and_entries() -> None:
    d = digest(
        TopicSection(
            "Solar power", "solar power", [entry(1, "Sun shines", also=("Forbes", "NYT", "Forbes"))]
        ),
        TopicSection("Wind", "wind", []),
    )
    msg = digest_message(d)
    assert block_errors(msg.blocks) == []
    assert msg.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "News digest · Thursday 2 May 2024"},
    }
    body = msg.blocks[1]["text"]["text"]
    assert body.startswith("*Solar power*\n• <https://news.example/1|Sun shines>")
    # The time is Slack's date token: each reader sees it in their zone, at its true age.
    assert body.endswith(f"Reuters · {TOKEN} · also: Forbes, NYT")
    assert any("No other news on: Wind" in str(b) for b in msg.blocks)
    assert "Sun shines" in msg.text and msg.text.startswith("News digest for Thursday 2 May 2024")
    assert msg.shown.plan() == [(1, 1, "solar power")]


def test_article_text_cannot_ping_or_forge_links() -> None:
    evil = "<!channel> <@U123> <https://evil.example|click> & more"
    d = digest(
        TopicSection(
            "<!here> topic",
            "x",
            [entry(1, evil, provider="<!everyone>", url="https://a.example/x|y>z")],
        )
    )
    msg = digest_message(d)
    flat = str(msg.blocks) + msg.text
    for raw in ("<!channel>", "<@U123>", "<https://evil", "<!here>", "<!everyone>"):
        assert raw not in flat
    assert "&lt;!channel&gt;" in flat
    assert block_errors(msg.blocks) == []


def test_huge_digest_fits_and_says_what_was_left_out() -> None:
    long_title = "Very " * 400
    long_url = "https://news.example/" + "p" * 2500
    sections = [
        TopicSection(
            f"topic {t} " + "word " * 100,
            f"t{t}",
            [
                entry(
                    t * 100 + i,
                    long_title,
                    long_url if i % 2 else None,
                    provider="Outlet " * 50,
                    also=tuple(f"O{k}" for k in range(80)),
                )
                for i in range(12)
            ],
        )
        for t in range(30)
    ]
    msg = digest_message(digest(*sections))
    assert block_errors(msg.blocks) == []
    assert len(msg.blocks) <= 50
    shown = len(msg.shown.entries)
    assert 0 < shown < 360 and msg.left_out == 360 - shown
    assert "more stories that did not fit" in str(msg.blocks[-1])
    # Only what is shown counts as delivered.
    assert len(msg.shown.plan()) == shown
    assert len(msg.text) <= 3000


def test_empty_digest_when_posting_anyway() -> None:
    msg = digest_message(digest(TopicSection("Wind", "wind", [])))
    assert block_errors(msg.blocks) == []
    assert "Nothing new" in str(msg.blocks)


def test_preview_header_and_terminal_text() -> None:
    d = digest(TopicSection("Solar", "solar", [entry(1, "Sun <b>shines</b>", also=("AP",))]))
    assert digest_message(d, preview=True).blocks[0]["text"]["text"].startswith("Preview:")
    text = digest_text(d)
    assert "08:00 Europe/London" in text and "Sun <b>shines</b>" in text and "also: AP" in text


def test_terminal_text_escapes_what_came_from_outside() -> None:
    # a headline, outlet, address or topic from a file or a person must not drive the
    # terminal (colours, a cleared screen) nor forge a line of its own
    d = digest(
        TopicSection(
            "So\x1b[2Jlar",
            "solar",
            [entry(1, "Sun\x1b[31m red\nforged line", provider="Re\u202euters", also=("A\x07P",))],
        )
    )
    text = digest_text(d)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "forged line" in text and "\nforged line" not in text
    assert "Sun\\x1b[31m red" in text and "So\\x1b[2Jlar" in text


def test_an_entry_without_a_time_and_a_huge_outlet_keep_the_line_whole() -> None:
    d = digest(
        TopicSection(
            "Wind",
            "wind",
            [
                entry(1, "Undated", published_ts=None),
                entry(2, "Loud", provider="Big & Loud " * 100, also=("Other & Co",)),
                entry(3, "Many", also=tuple(f"Outlet {k} & Sons" for k in range(80))),
            ],
        )
    )
    msg = digest_message(d)
    assert block_errors(msg.blocks) == []
    # one section per story: its last line is "outlet · time · also: ..."
    lines = [b["text"]["text"].split("\n")[-1].strip() for b in msg.blocks[1:4]]
    assert lines[0] == "Reuters · date unknown"
    assert lines[1].startswith("Big &amp; Loud")
    assert lines[1].endswith(f"… · {TOKEN} · also: Other &amp; Co")
    assert lines[2].startswith(f"Reuters · {TOKEN} · also: Outlet 0 &amp; Sons, ")
    assert lines[2].endswith("…") and len(lines[2]) <= META_CHARS
    assert " ago" not in str(msg.blocks)
