"""A conversation's subscriptions: subscribe, unsubscribe, resume (admins_only and a failed
admin look-up included), list in a channel and in a DM, and preview."""

from __future__ import annotations

from bot.core.answers import ListAnswer, MessageAnswer, PreviewAnswer
from tests.conftest import NOW
from tests.core.service.conftest import channel, dm

NOT_ADMIN = "Only workspace admins and owners can change this channel's subscriptions"


def topics(store, channel_id: str = "C1") -> list[str]:
    return [s["topic"] for s in store.subscriptions("T1", channel_id)]


def test_subscribe_takes_the_subscribers_slack_zone_at_the_default_time(service, changes):
    answer = service.handle_text("subscribe facial recognition", channel(user_tz="Asia/Tokyo"))
    assert answer == MessageAnswer(
        "Subscribed this channel to *facial recognition*: a digest every day at 08:00 "
        "(Asia/Tokyo). `/news unsubscribe facial recognition` stops it."
    )
    (sub,) = service.store.subscriptions("T1", "C1")
    assert (sub["hour"], sub["minute"], sub["tz"], sub["kind"], sub["subscribed_by"]) == (
        8,
        0,
        "Asia/Tokyo",
        "channel",
        "U1",
    )
    assert changes == [("T1", "C1")]


def test_a_second_topic_keeps_the_channels_time_and_a_new_time_moves_them_all(service):
    service.handle_text("subscribe ai at 7pm tz Europe/Paris", channel())
    second = service.handle_text("subscribe robots", channel(user_tz="Asia/Tokyo"))
    assert "every day at 19:00 (Europe/Paris)" in second.text
    assert "applies to all" not in second.text
    moved = service.handle_text("subscribe drones at 6:30", channel())
    assert "every day at 06:30 (Europe/Paris)" in moved.text
    assert "The digest time applies to all of its topics." in moved.text
    assert {(s["hour"], s["minute"]) for s in service.store.subscriptions("T1", "C1")} == {(6, 30)}


def test_subscribing_again_says_so_and_stores_one(service, changes):
    service.handle_text("subscribe AI", channel())
    again = service.handle_text("subscribe  ai ", channel())
    assert again.ok and again.text.startswith("This channel was already subscribed to *ai*")
    assert topics(service.store) == ["AI"]


def test_in_a_dm_subscribe_is_the_users_dm_digest_and_takes_no_zone(service, changes):
    refused = service.handle_text("subscribe ai tz Europe/Paris", dm())
    assert not refused.ok and "leave out `tz`" in refused.text
    assert service.store.all_subscriptions() == [] and changes == []
    answer = service.handle_text("subscribe ai at 9am", dm(user_tz="Europe/Paris"))
    assert answer.text.startswith(
        "Subscribed your DM to *ai*: a digest every day at 09:00 (Europe/Paris)"
    )
    (sub,) = service.store.all_subscriptions()
    assert (sub["channel_id"], sub["kind"]) == ("U1", "dm")
    assert changes == [("T1", "U1")]


def test_unsubscribe(service, changes):
    service.handle_text("subscribe ai", channel())
    service.handle_text("subscribe robots", channel())
    missing = service.handle_text("unsubscribe drones", channel())
    assert missing == MessageAnswer(
        "This channel is not subscribed to *drones*. `/news list` shows its subscriptions.",
        ok=False,
    )
    assert changes == [("T1", "C1")] * 2
    done = service.handle_text("unsubscribe  AI", channel())
    assert done == MessageAnswer("Unsubscribed this channel from *AI*.")  # as typed
    assert topics(service.store) == ["robots"] and len(changes) == 3


def test_resume_a_paused_subscription(service, changes):
    service.handle_text("subscribe ai", channel())
    service.store.pause_channel("T1", "C1", "not_in_channel", NOW)
    assert service.handle_text("resume ai", channel()) == MessageAnswer(
        "Resumed *ai* in this channel."
    )
    assert service.store.subscriptions("T1", "C1")[0]["paused_reason"] is None
    again = service.handle_text("resume ai", channel())
    assert not again.ok and "No paused subscription to *ai* in this channel" in again.text
    assert changes == [("T1", "C1")] * 2


def test_admins_only_subscriptions_for_admins_and_a_failed_look_up_says_so(make_service, changes):
    service = make_service(admins_only=True)
    service.store.subscribe("T1", "C1", "ai", user_id="U9", hour=8, minute=0, tz="UTC", now=NOW)
    service.store.pause_channel("T1", "C1", "not_in_channel", NOW)
    for text in ("subscribe robots", "unsubscribe ai", "resume ai"):
        refused = service.handle_text(text, channel(is_admin=False))
        assert refused == MessageAnswer(NOT_ADMIN + " and settings here.", ok=False)
        unknown = service.handle_text(text, channel(is_admin=None))
        assert not unknown.ok and "I could not check with Slack whether you are one" in unknown.text
    assert topics(service.store) == ["ai"] and changes == []
    assert service.store.subscriptions("T1", "C1")[0]["paused_reason"] == "not_in_channel"

    assert service.handle_text("resume ai", channel(is_admin=True)).ok
    assert service.handle_text("subscribe robots", channel(is_admin=True)).ok
    assert service.handle_text("unsubscribe ai", channel(is_admin=True)).ok
    assert topics(service.store) == ["robots"]
    # a DM's subscriptions are the user's own: no admin needed
    assert service.handle_text("subscribe ai", dm(is_admin=False)).ok


def test_list_in_a_channel_is_the_channels_and_in_a_dm_the_users_follows(service):
    service.handle_text("subscribe ai", channel())
    service.handle_text("subscribe robots", channel(channel_id="C2"))
    service.handle_text("follow drones", dm(user_tz="Europe/Paris"))
    in_channel = service.handle_text("list", channel())
    assert isinstance(in_channel, ListAnswer) and in_channel.where == "this channel"
    assert [s["topic"] for s in in_channel.subscriptions] == ["ai"]
    in_dm = service.handle_text("list", dm())
    assert in_dm.where == "your DM" and [s["topic"] for s in in_dm.subscriptions] == ["drones"]
    assert service.handle_text("list", dm(user="U2")).subscriptions == []
    assert service.handle_text("list anything after it", channel()) == in_channel


def test_preview_is_nothing_until_something_is_subscribed(seeded, service, changes):
    assert service.handle_text("preview", channel()) == PreviewAnswer(None, "this channel")
    service.handle_text("subscribe facial recognition", channel())
    preview = service.handle_text("preview", channel())
    assert preview.digest is not None and preview.where == "this channel"
    assert len(changes) == 1  # a preview changes nothing
