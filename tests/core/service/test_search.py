"""Search: ``/news <words>``, its pages, the user's mutes left out, and "More like this"."""

from __future__ import annotations

from bot.core.answers import HelpAnswer, MessageAnswer, SearchAnswer, SimilarAnswer
from bot.core.loader import Loader
from bot.core.service import Context, NewsService
from tests.conftest import SEED
from tests.core.service.conftest import channel, dm


def test_search_help_and_errors(fresh_db, clock):
    Loader(fresh_db, clock).load([SEED])
    service = NewsService(fresh_db, clock)
    ctx = Context()

    answer = service.handle_text("/news facial recognition", ctx)
    assert isinstance(answer, SearchAnswer)
    # 20 stories: the NY bill pair is one (issue 11's grouping), as the $550M and Reuters pairs
    assert 0 < len(answer.result.hits) <= 5 and answer.result.total == 20

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


def domains(answer: SearchAnswer | SimilarAnswer) -> set[str]:
    return {h.article["domain"] for h in answer.result.hits}


def test_a_users_muted_outlet_is_left_out_of_their_search_only(seeded, make_service):
    service = make_service(page_size=23)
    assert "reuters.com" in domains(service.search("facial recognition", dm()))
    service.handle_text("mute reuters.com", dm())
    assert "reuters.com" not in domains(service.search("facial recognition", dm()))
    assert "reuters.com" not in domains(service.handle_text("facial recognition", channel()))
    assert "reuters.com" in domains(service.search("facial recognition", dm(user="U2")))


def test_a_channels_mute_does_not_touch_a_search(seeded, make_service):
    service = make_service(page_size=23)
    service.handle_text("mute reuters.com here", channel())
    assert "reuters.com" in domains(service.handle_text("facial recognition", channel()))


def test_search_says_where_its_subscribe_button_subscribes(seeded, service):
    assert service.handle_text("facial recognition", channel()).where == "this channel"
    assert service.handle_text("facial recognition", dm()).where == "your DM"


def test_more_like_this_leaves_out_the_article_and_the_users_mutes(seeded, make_service):
    service = make_service(page_size=23)
    first = service.search("facial recognition", dm()).result.hits[0].article
    like = service.similar(first["id"], dm())
    assert isinstance(like, SimilarAnswer) and like.result.hits
    assert first["id"] not in {h.article["id"] for h in like.result.hits}
    muted = sorted(domains(like))[0]
    service.handle_text(f"mute {muted}", dm())
    assert muted not in domains(service.similar(first["id"], dm()))
