"""The core's two marks (``bot.core.markup``) as both renderers show them: as written."""

from __future__ import annotations

from bot.core.answers import MessageAnswer
from bot.core.markup import code, strong
from bot.render import blocks, text
from tests.conftest import NOW


def test_marks():
    assert strong("ai") == "*ai*" and code("/news list") == "`/news list`"
    # A word holding a markup character is left alone rather than garbled.
    assert strong("*a* b_c") == "*a* b_c" and strong("x~y") == "x~y" and code("a`b") == "a`b"


def test_both_renderers_show_the_marks_as_written():
    words = f"Subscribed to {strong('ai & <ml>')}: {code('/news unsubscribe ai')} stops it."
    fallback, [section] = blocks.render(MessageAnswer(words), NOW)
    shown = "Subscribed to *ai &amp; &lt;ml&gt;*: `/news unsubscribe ai` stops it."
    assert fallback == shown and section["text"]["text"] == shown
    assert text.render(MessageAnswer(words), NOW) == words
