"""The App Home: the user's follows a page at a time, their settings, and the channel
subscriptions they made (the first in full, the rest counted)."""

from __future__ import annotations

from bot.core.answers import HomeAnswer
from bot.core.service.home import HOME_CHANNEL_SUBS, HOME_PAGE
from tests.conftest import NOW
from tests.core.service.conftest import channel, dm


def follow(store, count: int, user: str = "U1", tz: str = "Europe/Paris") -> None:
    for i in range(count):
        store.subscribe(
            "T1", user, f"topic {i:03d}", user_id=user, hour=8, minute=0, tz=tz, now=NOW, kind="dm"
        )


def test_an_empty_home_is_one_page(service):
    home = service.home(channel())
    assert isinstance(home, HomeAnswer)
    assert (home.follows, home.follows_total, home.page, home.pages) == ([], 0, 0, 1)
    assert home.settings == service.settings_answer(dm())
    assert home.channel_subscriptions == home.more_channel_subscriptions == []


def test_follows_are_paged_and_a_page_out_of_range_is_the_nearest(service):
    assert HOME_PAGE == 20
    follow(service.store, 45)
    first, last = service.home(dm()), service.home(dm(), page=2)
    assert (first.follows_total, first.pages, len(first.follows), len(last.follows)) == (
        45,
        3,
        20,
        5,
    )
    assert [f["topic"] for f in first.follows][:2] == ["topic 000", "topic 001"]
    assert [f["topic"] for f in last.follows][-1] == "topic 044"
    assert service.home(dm(), page=99).page == 2 and service.home(dm(), page=99).follows == (
        last.follows
    )
    assert service.home(dm(), page=-1).page == 0
    seen = [f["topic"] for page in range(3) for f in service.home(dm(), page).follows]
    assert seen == [f"topic {i:03d}" for i in range(45)]
    follow(service.store, 40, user="U2")  # exactly two pages: no empty third
    assert service.home(dm(user="U2")).pages == 2


def test_the_channel_subscriptions_a_user_made_the_first_in_full(service):
    for i in range(HOME_CHANNEL_SUBS + 3):
        service.store.subscribe(
            "T1", f"C{i:02d}", "ai", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW
        )
    service.store.subscribe("T1", "C99", "ai", user_id="U2", hour=8, minute=0, tz="UTC", now=NOW)
    home = service.home(dm())
    assert len(home.channel_subscriptions) == HOME_CHANNEL_SUBS
    assert len(home.more_channel_subscriptions) == 3
    assert "C99" not in {
        s["channel_id"] for s in home.channel_subscriptions + home.more_channel_subscriptions
    }


def test_opening_the_home_moves_the_follows_to_the_users_zone(service, changes):
    follow(service.store, 2, tz="Europe/Paris")
    home = service.home(channel(user_tz="Asia/Tokyo"))
    assert home.settings.schedule == "08:00 (Asia/Tokyo)" and home.settings.is_dm
    assert {f["tz"] for f in home.follows} == {"Asia/Tokyo"}
    assert changes == [("T1", "U1")]
