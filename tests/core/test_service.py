"""NewsService: text in, an answer (plain data) out."""

from __future__ import annotations

from bot.core.answers import HelpAnswer, MessageAnswer, SearchAnswer
from bot.core.loader import Loader
from bot.core.service import Context, NewsService
from tests.conftest import SEED


def test_search_help_and_errors(fresh_db, clock):
    Loader(fresh_db, clock).load([SEED])
    service = NewsService(fresh_db, clock)
    ctx = Context()

    answer = service.handle_text("/news facial recognition", ctx)
    assert isinstance(answer, SearchAnswer)
    assert 0 < len(answer.result.hits) <= 5 and answer.result.total == 21

    assert isinstance(service.handle_text("", ctx), HelpAnswer)
    hint = service.handle_text("subscirbe ai", ctx)
    assert isinstance(hint, HelpAnswer) and "subscribe" in hint.hint

    error = service.handle_text("subscribe ai at 25:00", ctx)
    assert isinstance(error, MessageAnswer) and not error.ok and "25:00" in error.text
    long = service.handle_text("x" * 3000, ctx)
    assert isinstance(long, MessageAnswer) and not long.ok


def test_search_pages(fresh_db, clock):
    Loader(fresh_db, clock).load([SEED])
    service = NewsService(fresh_db, clock)
    first = service.search("facial recognition", Context())
    second = service.search("facial recognition", Context(), offset=5)
    assert second.result.offset == 5
    assert not {h.story_id for h in first.result.hits} & {h.story_id for h in second.result.hits}
