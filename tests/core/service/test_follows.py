"""Personal digests: follow and unfollow, in the user's own Slack zone (kept current), and what
happens when Slack gives a zone this system's zoneinfo does not know."""

from __future__ import annotations

import logging

from bot.core.answers import MessageAnswer
from tests.core.service.conftest import channel, dm


def follows(store, user: str = "U1") -> list[tuple[str, int, int, str]]:
    return [
        (s["topic"], s["hour"], s["minute"], s["tz"])
        for s in store.subscriptions_by("T1", user, kind="dm")
    ]


def test_a_follow_is_a_dm_digest_in_the_users_slack_zone_wherever_it_is_asked(service, changes):
    answer = service.handle_text("follow ai", channel(user_tz="Europe/Paris"))
    assert answer == MessageAnswer(
        "Following *ai*: a DM digest every day at 08:00 (Europe/Paris, your Slack time zone). "
        "`/news unfollow ai` stops it."
    )
    assert follows(service.store) == [("ai", 8, 0, "Europe/Paris")]
    assert service.store.subscriptions("T1", "C1") == []  # not the channel's
    assert service.store.user_settings("T1", "U1")["tz"] == "Europe/Paris"
    assert changes == [("T1", "U1")]


def test_a_follows_time_is_the_users_and_applies_to_all_their_follows(service):
    service.handle_text("follow ai at 6:30", dm(user_tz="Europe/Paris"))
    kept = service.handle_text("follow robots", dm(user_tz="Europe/Paris"))
    assert "every day at 06:30" in kept.text and "applies to all" not in kept.text
    moved = service.handle_text("follow drones at 7pm", dm(user_tz="Europe/Paris"))
    assert "The time applies to all your follows." in moved.text
    assert {(h, m) for _, h, m, _ in follows(service.store)} == {(19, 0)}
    prefs = service.store.user_settings("T1", "U1")
    assert (prefs["hour"], prefs["minute"]) == (19, 0)
    again = service.handle_text("follow AI", dm(user_tz="Europe/Paris"))
    assert again.text.startswith("Already following *AI*")
    assert len(follows(service.store)) == 3


def test_a_follow_without_a_readable_zone_says_it_uses_the_default(make_service):
    service = make_service(default_tz="America/Chicago")
    answer = service.handle_text("follow ai", dm())
    assert (
        "(America/Chicago: I could not read your Slack time zone, so this is the default "
        "until I can)" in answer.text
    )
    assert follows(service.store) == [("ai", 8, 0, "America/Chicago")]


def test_unfollow(service, changes):
    service.handle_text("follow ai", dm(user_tz="UTC"))
    missing = service.handle_text("unfollow robots", dm())
    assert missing == MessageAnswer(
        "You do not follow *robots*. `/news list` in your DM with me shows your follows.", ok=False
    )
    done = service.handle_text("unfollow AI", channel())
    assert done == MessageAnswer("No longer following *AI*. `/news follow AI` undoes it.")
    assert follows(service.store) == [] and changes == [("T1", "U1")] * 2


def test_a_move_to_a_new_slack_zone_moves_the_follows_once(service, changes):
    service.handle_text("follow ai at 7am", dm(user_tz="Europe/London"))
    assert service.refresh_user_zone(dm(user_tz="Europe/London")) is False
    assert service.refresh_user_zone(dm(user_tz="Asia/Tokyo")) is True
    assert follows(service.store) == [("ai", 7, 0, "Asia/Tokyo")]
    assert service.refresh_user_zone(dm(user_tz="Asia/Tokyo")) is False
    assert changes == [("T1", "U1")] * 2
    assert service.refresh_user_zone(dm(user="U2", user_tz="Asia/Tokyo")) is False  # no follows


def test_an_unknown_slack_zone_moves_nothing_and_is_logged(service, changes, caplog):
    service.handle_text("follow ai", dm(user_tz="Europe/London"))
    with caplog.at_level(logging.WARNING, logger="newsbot"):
        assert service.refresh_user_zone(dm(user_tz="Mars/Olympus_Mons")) is False
    assert "Mars/Olympus_Mons" in caplog.text and "zoneinfo does not know" in caplog.text
    answer = service.handle_text("follow robots", dm(user_tz="Mars/Olympus_Mons"))
    assert (
        "Slack gave your time zone as Mars/Olympus_Mons, which I do not know, so your "
        "digest is at 08:00 in Europe/London, the zone you had." in answer.text
    )
    assert {tz for *_, tz in follows(service.store)} == {"Europe/London"}
    assert service.store.user_settings("T1", "U1")["tz"] == "Europe/London"


def test_a_slack_zone_shown_back_is_stripped_of_markup(service):
    answer = service.handle_text("follow ai", dm(user_tz="*bold*_<!here>"))
    assert "Slack gave your time zone as ?bold?_??here?, which I do not know" in answer.text


def test_a_follow_in_the_shell_never_speaks_of_a_slack_time_zone(make_service):
    """The shell has no Slack profile: "I could not read your Slack time zone" was untrue."""
    from bot.core.service import Context

    service = make_service(default_tz="America/Chicago")
    answer = service.handle_text("follow ai at 21:10", Context())
    assert "a DM digest every day at 21:10 (America/Chicago)." in answer.text
    assert "Slack" not in answer.text
