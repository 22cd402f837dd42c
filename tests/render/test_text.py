"""The terminal renderer."""

from __future__ import annotations

import pytest

from bot.core.answers import HelpAnswer, MessageAnswer, SearchAnswer
from bot.core.commands import SUBCOMMANDS
from bot.core.loader import Loader
from bot.core.search import search
from bot.render.text import age, render, trim
from tests.conftest import NOW, SEED

TS = int(NOW.timestamp())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (125, "2 minutes ago"),
        (3600, "1 hour ago"),
        (5 * 3600, "5 hours ago"),
        (86400, "1 day ago"),
        (30 * 86400, "30 days ago"),
        (31 * 86400, "6 Jan 2020"),
        (-3600, "just now"),
    ],
)
def test_age(seconds, text):
    assert age(TS - seconds, NOW) == text


def test_age_unknown():
    assert age(None, NOW) == "date unknown"


def test_trim():
    assert trim("short", 10) == "short"
    assert trim("  many   spaces  ", 20) == "many spaces"
    text = "The quick brown fox jumps over the lazy dog"
    cut = trim(text, 20)
    assert len(cut) <= 20 and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "  # at a word boundary
    assert len(trim("x" * 500, 200)) == 200
    assert trim("", 5) == "" and trim(None, 5) == ""


def test_help_lists_every_subcommand():
    text = render(HelpAnswer(), NOW)
    assert all(s.usage in text for s in SUBCOMMANDS)
    assert render(HelpAnswer("Did you mean `list`?"), NOW).startswith("Did you mean `list`?\n\n")


def test_message():
    assert render(MessageAnswer("Nope.", ok=False), NOW) == "Nope."


def test_search_results(fresh_db, clock):
    Loader(fresh_db, clock).load([SEED])
    result = search(fresh_db, "facebook settle", now=NOW)
    text = render(SearchAnswer(result), NOW)
    lines = text.splitlines()
    # Fewer than a page of stories have both words: a note says stories with one follow.
    assert lines[0].startswith("Few stories have all of facebook, settle;")
    assert lines[1].startswith("1. ")
    assert "$550 Million" in text
    assert any(line.strip().startswith("also: ") for line in lines)
    assert lines[-1] == f"({len(result.hits)} of {result.total} stories)"
    assert "days ago" in text


def test_no_results():
    from bot.core.search import SearchResult

    assert render(SearchAnswer(SearchResult("x", [], 0, 0, "No stories match “x”.")), NOW) == (
        "No stories match “x”."
    )
