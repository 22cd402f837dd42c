"""Preferences: muted outlets (a user's own, or with ``here`` a channel's digests') and
settings (a user's in a DM, a channel's in a channel), admins_only included."""

from __future__ import annotations

from bot.core.answers import MessageAnswer, SettingsAnswer
from tests.conftest import NOW
from tests.core.service.conftest import channel, dm


def muted(store, scope: str = "user", owner: str = "U1") -> set[str]:
    return store.muted_domains("T1", scope, owner)


# -- mutes -----------------------------------------------------------------------------------------


def test_mute_by_domain_or_name_is_the_users_own_and_says_how_to_undo(seeded, service):
    assert service.handle_text("mute https://www.Reuters.com/", channel()) == MessageAnswer(
        "Muted Reuters (reuters.com) in your search results and DM digests. "
        "`/news unmute reuters.com` undoes it."
    )
    assert muted(seeded) == {"reuters.com"} and muted(seeded, "channel", "C1") == set()
    again = service.handle_text("mute Reuters", dm())
    assert again.ok and again.text.startswith("Reuters (reuters.com) was already muted in your")


def test_a_domain_no_article_has_is_muted_under_its_own_name(service):
    answer = service.handle_text("mute example.org", dm())
    assert answer.text.startswith("Muted example.org (example.org)")


def test_an_outlet_that_is_neither_known_nor_a_domain_is_refused(seeded, service):
    answer = service.handle_text("mute The Daily Planet", dm())
    assert answer == MessageAnswer(
        "I don't know an outlet called “The Daily Planet”. Give its web address instead, "
        "e.g. `/news mute reuters.com`.",
        ok=False,
    )
    assert muted(seeded) == set()


def test_mute_here_is_the_channels_digests_and_only_in_a_channel(seeded, service, changes):
    answer = service.handle_text("mute reuters.com here", channel())
    assert answer == MessageAnswer(
        "Muted Reuters (reuters.com) in this channel's digests. "
        "`/news unmute reuters.com here` undoes it."
    )
    assert muted(seeded, "channel", "C1") == {"reuters.com"} and muted(seeded) == set()
    refused = service.handle_text("mute forbes.com here", dm())
    assert refused == MessageAnswer(
        "`here` is for channels; in your DM a mute is yours anyway.", ok=False
    )
    assert changes == []  # a mute is read at search and digest time: nothing to reschedule


def test_unmute_by_any_name_and_where_a_mute_is_when_it_is_not_here(seeded, service):
    service.handle_text("mute reuters.com", dm())
    service.handle_text("mute forbes.com here", channel())
    assert service.handle_text("unmute REUTERS", channel()) == MessageAnswer(
        "Unmuted Reuters (reuters.com) in your search results and DM digests. "
        "`/news mute reuters.com` mutes it again."
    )
    assert muted(seeded) == set()
    points = service.handle_text("unmute forbes.com", channel())
    assert points == MessageAnswer(
        "forbes.com is not muted in your search results and DM digests. This channel's digests "
        "mute it: `/news unmute forbes.com here`.",
        ok=False,
    )
    in_dm = service.handle_text("unmute forbes.com", dm())
    assert in_dm.text.endswith("`/news settings` in your DM with me lists your mutes.")
    not_here = service.handle_text("unmute reuters.com here", channel())
    assert not_here.text.endswith("`/news settings` here lists this channel's mutes.")
    assert service.handle_text("unmute forbes here", channel()).ok
    assert muted(seeded, "channel", "C1") == set()


def test_admins_only_guards_a_channels_mutes_not_a_users(seeded, make_service):
    service = make_service(admins_only=True)
    refused = service.handle_text("mute reuters.com here", channel(is_admin=False))
    assert not refused.ok and "Only workspace admins and owners" in refused.text
    unknown = service.handle_text("unmute reuters.com here", channel(is_admin=None))
    assert not unknown.ok and "could not check with Slack" in unknown.text
    assert muted(seeded, "channel", "C1") == set()
    assert service.handle_text("mute reuters.com", channel(is_admin=False)).ok
    assert service.handle_text("mute reuters.com here", channel(is_admin=True)).ok
    assert muted(seeded) == muted(seeded, "channel", "C1") == {"reuters.com"}


# -- settings --------------------------------------------------------------------------------------


def test_settings_in_a_dm_are_the_users_in_their_current_zone(make_service):
    service = make_service(default_tz="Europe/Oslo")
    shown = service.handle_text("settings", dm())
    assert shown == SettingsAnswer("your DM", True, 5, False, "08:00 (Europe/Oslo)", [])
    service.handle_text("mute example.org", dm())
    shown = service.handle_text("settings", dm(user_tz="Asia/Tokyo"))
    assert shown.schedule == "08:00 (Asia/Tokyo)"
    assert [m["domain"] for m in shown.mutes] == ["example.org"]
    assert service.settings_answer(dm()) == shown


def test_settings_in_a_channel_are_the_channels(make_service):
    service = make_service(items_per_topic=4)
    assert service.handle_text("settings", channel()) == SettingsAnswer(
        "this channel", False, 4, False, None, []
    )
    service.handle_text("subscribe ai at 7pm tz Europe/Paris", channel())
    assert service.handle_text("settings", channel()).schedule == "19:00 (Europe/Paris)"


def test_changing_a_users_settings(service, changes):
    assert service.handle_text("settings items 7", dm()) == MessageAnswer(
        "Done: 7 items per digest in your DM. `/news settings` shows all."
    )
    assert service.handle_text("settings weekends skip", dm()).ok
    service.handle_text("follow ai", dm(user_tz="Europe/Paris"))
    assert service.handle_text("settings time 6:45am", dm(user_tz="Europe/Paris")).ok
    prefs = service.store.user_settings("T1", "U1")
    assert (prefs["items"], prefs["skip_weekends"], prefs["hour"], prefs["minute"]) == (7, 1, 6, 45)
    (follow,) = service.store.subscriptions_by("T1", "U1", kind="dm")
    assert (follow["hour"], follow["minute"], follow["tz"]) == (6, 45, "Europe/Paris")
    assert changes == [("T1", "U1")] * 2  # the follow, then its new time


def test_changing_a_channels_settings(service, changes):
    assert service.handle_text("settings items 3", channel()).text.startswith(
        "Done: 3 items per topic in this channel."
    )
    assert service.store.channel_settings("T1", "C1")["items_per_topic"] == 3
    no_time = service.handle_text("settings time 7pm", channel())
    assert no_time == MessageAnswer(
        "This channel has no subscription yet: `/news subscribe <topic> at HH:MM` sets its time.",
        ok=False,
    )
    service.handle_text("subscribe ai tz Asia/Tokyo", channel())
    service.store.subscribe(
        "T1", "C1", "robots", user_id="U2", hour=8, minute=0, tz="Asia/Tokyo", now=NOW
    )
    assert service.handle_text("settings time 7pm", channel()).ok
    subs = service.store.subscriptions("T1", "C1")
    assert {(s["hour"], s["minute"], s["tz"]) for s in subs} == {(19, 0, "Asia/Tokyo")}
    assert {s["subscribed_by"] for s in subs} == {"U1", "U2"}  # each keeps its subscriber
    assert changes == [("T1", "C1")] * 2


def test_settings_refuse_what_is_unknown_or_out_of_range(service):
    for text, says in [
        ("settings colour blue", "There is no setting “colour”"),
        ("settings items", "Give a value"),
        ("settings items 11", "from 1 to 10"),
        ("settings items ²", "from 1 to 10"),
        ("settings time 25:00", "hours 00-23"),
        ("settings weekends maybe", "`skip`"),
    ]:
        answer = service.handle_text(text, dm())
        assert not answer.ok and says in answer.text, (text, answer)
    assert service.store.user_settings("T1", "U1")["items"] == 5


def test_admins_only_guards_a_channels_settings_not_showing_them(make_service):
    service = make_service(admins_only=True)
    refused = service.handle_text("settings items 3", channel(is_admin=False))
    assert not refused.ok and "Only workspace admins" in refused.text
    assert service.store.channel_settings("T1", "C1")["items_per_topic"] is None
    assert isinstance(service.handle_text("settings", channel(is_admin=False)), SettingsAnswer)
    assert service.handle_text("settings items 3", dm(is_admin=False)).ok
    assert service.handle_text("settings items 3", channel(is_admin=True)).ok
