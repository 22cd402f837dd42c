"""Can the bot post here? Over signed HTTP against the fake Slack's conversations.info and
conversations.join: a channel the bot is not in is refused with how to invite it and nothing
stored, a public one is joined, Slack failing stores nothing; /news resume alone resumes the
channel; the Home tab's Resume button."""

from __future__ import annotations

import json

from tests.fakeslack import Fail
from tests.listeners.conftest import NOW


def said(resp: dict) -> str:
    return " ".join(b["text"]["text"] for b in resp["blocks"] if b["type"] == "section")


def test_a_member_channel_subscribes_as_before(bot, slack):
    r = bot.ask("subscribe ai", channel="C1")
    assert said(r).startswith("Subscribed this channel to *ai*")
    (info,) = slack.calls_to("conversations.info")
    assert info.params["channel"] == "C1"
    assert slack.calls_to("conversations.join") == []


def test_a_private_channel_the_bot_is_not_in_is_refused_and_nothing_stored(bot, slack):
    slack.set_channel("G1", private=True, member=False)
    r = bot.ask("subscribe facial recognition", channel="G1")
    assert said(r) == (
        "I can't post in this channel yet: invite me with `/invite @newsbot`, then "
        "`/news subscribe facial recognition` again. Nothing changed."
    )
    assert bot.store.all_subscriptions() == []
    assert slack.calls_to("conversations.join") == []  # a private channel cannot be joined


def test_the_invite_names_the_bot_as_slack_knows_it(bot, slack):
    slack.bot_user = "newsie"
    slack.set_channel("G1", private=True, member=False)
    assert "`/invite @newsie`" in said(bot.ask("subscribe ai", channel="G1"))


def test_a_public_channel_the_bot_is_not_in_is_joined_then_subscribed(bot, slack):
    slack.set_channel("C5", member=False)
    r = bot.ask("subscribe ai", channel="C5")
    assert said(r).startswith("Subscribed this channel to *ai*")
    assert "I joined this channel to post its digest there." in said(r)
    (join,) = slack.calls_to("conversations.join")
    assert join.params["channel"] == "C5" and slack.channel("C5").member
    assert [s["topic"] for s in bot.store.subscriptions("T1", "C5")] == ["ai"]


def test_a_refused_join_asks_for_an_invite(bot, slack):
    slack.set_channel("C5", member=False)
    slack.script("conversations.join", {"ok": False, "error": "missing_scope"})
    r = bot.ask("subscribe ai", channel="C5")
    assert said(r).startswith("I can't post in this channel yet: invite me with")
    assert bot.store.all_subscriptions() == []


def test_an_archived_channel_is_refused(bot, slack):
    slack.set_channel("C6", archived=True)
    r = bot.ask("subscribe ai", channel="C6")
    assert said(r) == "This channel is archived, so I can't post in it. Nothing changed."
    assert bot.store.all_subscriptions() == []


def test_no_scope_to_check_tells_whoever_installed_newsbot(bot, slack):
    slack.script(
        "conversations.info", {"ok": False, "error": "missing_scope", "needed": "groups:read"}
    )
    r = bot.ask("subscribe ai", channel="G2")
    assert "lacks the `groups:read` permission, so nothing changed" in said(r)
    assert "manifest.yml" in said(r)
    assert bot.store.all_subscriptions() == []


def test_slack_failing_during_the_check_stores_nothing_and_says_so(bot, slack):
    # a 500 each time the client tries (it retries 5xx twice), then a dropped connection
    slack.script("conversations.info", *[Fail(status=500)] * 3)
    r = bot.ask("subscribe ai", channel="C1")
    assert said(r) == (
        "Slack did not answer whether I can post in this channel, so nothing changed. "
        "Please try again in a moment."
    )
    slack.script("conversations.info", *[Fail(drop_before_store=True)] * 3)
    r = bot.ask("subscribe ai", channel="C1")
    assert said(r).startswith("Slack did not answer whether I can post in this channel")
    assert bot.store.all_subscriptions() == []
    # and the bot keeps answering: Slack back, the same command works
    assert said(bot.ask("subscribe ai", channel="C1")).startswith("Subscribed this channel")


def test_the_subscribe_button_checks_too(bot, slack):
    slack.set_channel("G1", private=True, member=False)
    bot.action("news_subscribe", "facial recognition", channel="G1")
    (resp,) = bot.wait_responses(1)
    assert "I can't post in this channel yet" in said(resp)
    assert bot.store.all_subscriptions() == []


def test_a_follow_asks_slack_nothing_about_the_channel(bot, slack):
    slack.set_channel("G1", private=True, member=False)
    r = bot.ask("follow ai", channel="G1")
    assert said(r).startswith("Following *ai*")
    assert slack.calls_to("conversations.info") == []
    dm = {"channel": "D42", "channel_name": "directmessage"}
    assert said(bot.ask("subscribe robots", **dm)).startswith("Subscribed your DM to *robots*")
    assert slack.calls_to("conversations.info") == []


def test_resume_alone_resumes_the_channel_and_only_where_the_bot_can_post(bot, slack):
    bot.ask("subscribe ai")
    bot.ask("subscribe robots")
    bot.store.pause_channel("T1", "C1", "not_in_channel", NOW)
    slack.set_channel("C1", private=True, member=False)  # still not invited back
    r = bot.ask("resume")
    assert said(r).startswith("I can't post in this channel yet: invite me with `/invite @newsbot`")
    assert "then `/news resume` again" in said(r)
    assert {s["paused_reason"] for s in bot.store.subscriptions("T1", "C1")} == {"not_in_channel"}
    slack.set_channel("C1", member=True)  # /invite @newsbot
    assert said(bot.ask("resume")) == "Resumed this channel: *ai*, *robots*."
    assert {s["paused_reason"] for s in bot.store.subscriptions("T1", "C1")} == {None}


# -- the Home tab's Resume ---------------------------------------------------------------------


def resume_buttons(view: dict) -> list[dict]:
    return [
        b["accessory"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == "home_resume"
    ]


def notice_of(view: dict) -> str:
    return view["blocks"][1]["elements"][0]["text"]


def open_home(bot, user: str = "U1") -> dict:
    bot.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"})
    return bot.wait_home(user, 1)


def test_home_resume_resumes_the_channel_named_in_the_notice(bot, slack):
    bot.ask("subscribe ai", channel="C5")
    bot.store.pause_channel("T1", "C5", "not_in_channel", NOW)
    view = open_home(bot)
    (button,) = resume_buttons(view)
    assert "<#C5> is paused: newsbot was removed from it on <!date^" in json.dumps(view)
    bot.home_action({"action_id": "home_resume", "type": "button", "value": button["value"]})
    view = bot.wait_home("U1", 2)
    assert notice_of(view) == "Resumed <#C5>: *ai*."
    assert bot.store.subscriptions("T1", "C5")[0]["paused_reason"] is None
    assert resume_buttons(view) == []
    assert slack.calls_to("conversations.info")[-1].params["channel"] == "C5"


def test_home_resume_where_the_bot_is_not_back_says_how_and_resumes_nothing(bot, slack):
    bot.ask("subscribe ai", channel="G5")
    bot.store.pause_channel("T1", "G5", "channel_not_found", NOW)
    slack.set_channel("G5", private=True, member=False)
    (button,) = resume_buttons(open_home(bot))
    bot.home_action({"action_id": "home_resume", "type": "button", "value": button["value"]})
    view = bot.wait_home("U1", 2)
    assert notice_of(view).startswith(
        "I can't post in <#G5> yet: invite me with `/invite @newsbot`"
    )
    assert bot.store.subscriptions("T1", "G5")[0]["paused_reason"] == "channel_not_found"
    assert len(resume_buttons(view)) == 1


def test_home_resume_of_a_channel_the_user_did_not_subscribe_does_nothing(bot, slack):
    slack.add_user("U2", tz="UTC")
    bot.ask("subscribe ai", channel="C8", user="U2")
    bot.store.pause_channel("T1", "C8", "not_in_channel", NOW)
    open_home(bot)
    for value in (json.dumps({"c": "C8"}), json.dumps({"c": ""}), "nonsense", "{}"):
        bot.home_action({"action_id": "home_resume", "type": "button", "value": value})
    view = bot.wait_home("U1", 5)
    assert "Resumed" not in notice_of(view)
    assert bot.store.subscriptions("T1", "C8")[0]["paused_reason"] == "not_in_channel"


def test_home_resume_of_the_dm_digest(bot, slack):
    bot.ask("follow ai", channel="D1", channel_name="directmessage")
    bot.store.pause_channel("T1", "U1", "account_inactive", NOW)
    (button,) = resume_buttons(open_home(bot))
    assert button["value"] == "dm"
    bot.home_action({"action_id": "home_resume", "type": "button", "value": "dm"})
    view = bot.wait_home("U1", 2)
    assert notice_of(view) == "Resumed your DM: *ai*."
    assert bot.store.subscriptions("T1", "U1")[0]["paused_reason"] is None


def test_a_group_dm_the_bot_is_not_in_asks_for_an_invite_without_joining(bot, slack):
    mpim = {"id": "G9", "is_mpim": True, "is_private": True, "is_member": False}
    slack.script("conversations.info", {"ok": True, "channel": mpim})
    r = bot.ask("subscribe ai", channel="G9", channel_name="mpdm-ada--bob-1")
    assert said(r).startswith("I can't post in this channel yet: invite me with")
    assert slack.calls_to("conversations.join") == [] and bot.store.all_subscriptions() == []


def test_an_answer_that_does_not_say_the_channel_is_public_is_not_joined(bot, slack):
    slack.script("conversations.info", {"ok": True, "channel": {"id": "C9"}})
    r = bot.ask("subscribe ai", channel="C9")
    assert said(r).startswith("I can't post in this channel yet")
    assert slack.calls_to("conversations.join") == [] and bot.store.all_subscriptions() == []
