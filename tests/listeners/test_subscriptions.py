"""Subscription commands and buttons over real HTTP."""

from __future__ import annotations

import json

from tests.fakeslack import block_errors
from tests.listeners.conftest import NOW
from tests.slackhttp import start_bot


def text_of(resp: dict) -> str:
    return json.dumps(resp["blocks"], ensure_ascii=False)


def test_subscribe_list_unsubscribe(bot):
    r = [
        bot.ask("subscribe facial recognition at 07:30 tz Europe/Paris"),
        bot.ask("subscribe Biometrics"),
        bot.ask("list"),
    ]
    assert "Subscribed this channel to *facial recognition*" in text_of(r[0])
    assert "07:30 (Europe/Paris)" in text_of(r[0])
    # a second topic keeps the channel's time and zone
    assert "07:30 (Europe/Paris)" in text_of(r[1])
    listing = text_of(r[2])
    assert "Biometrics · daily at 07:30 (Europe/Paris)" in listing
    assert "facial recognition · daily at 07:30 (Europe/Paris)" in listing
    r += [bot.ask("unsubscribe FACIAL   recognition"), bot.ask("unsubscribe nothing here")]
    assert "Unsubscribed" in text_of(r[3])
    assert "not subscribed" in text_of(r[4])
    assert [s["topic"] for s in bot.store.all_subscriptions()] == ["Biometrics"]


def test_subscribe_without_time_uses_the_users_slack_zone(bot):
    bot.command("subscribe ai", user="U1")  # U1 is in Europe/London in the fake
    (resp,) = bot.wait_responses(1)
    assert "08:00 (Europe/London)" in text_of(resp)
    assert bot.slack.calls_to("users.info")[0].params["user"] == "U1"


def test_subscribe_falls_back_to_config_default_when_user_unknown(bot):
    bot.command("subscribe ai", user="UNOBODY")
    (resp,) = bot.wait_responses(1)
    assert "08:00 (UTC)" in text_of(resp)


def test_in_a_dm_commands_act_on_the_users_dm(bot):
    r = [
        bot.ask("subscribe ai at 9am", channel="D42", channel_name="directmessage", user="U1"),
        bot.ask("list", channel="D42", channel_name="directmessage", user="U1"),
    ]
    assert "Subscribed your DM to *ai*" in text_of(r[0])
    assert "ai · daily at 09:00" in text_of(r[1])
    (sub,) = bot.store.all_subscriptions()
    assert (sub["channel_id"], sub["kind"]) == ("U1", "dm")


def test_subscribe_button(bot):
    bot.action("news_subscribe", "facial recognition")
    (resp,) = bot.wait_responses(1)
    assert resp["replace_original"] is False
    assert "Subscribed this channel to *facial recognition*" in text_of(resp)
    assert bot.store.subscriptions("T1", "C1")[0]["topic"] == "facial recognition"


def test_share_button_posts_publicly_credited_without_unfurls(bot):
    article = bot.store._rows("SELECT id, title FROM articles ORDER BY quality DESC LIMIT 1")[0]
    bot.action("news_share", str(article["id"]), user="U1", channel="C9")
    assert bot.slack.wait_for(lambda: bot.slack.posts("C9"))
    (post,) = bot.slack.posts("C9")
    assert post["unfurl_links"] is False and post["unfurl_media"] is False
    assert block_errors(post["blocks"]) == []
    assert "Shared by <@U1>" in json.dumps(post["blocks"])
    assert bot.slack.responses == []


def test_share_where_the_bot_is_not_a_member_explains(bot, slack):
    from tests.fakeslack import Fail

    slack.script("chat.postMessage", Fail(error="not_in_channel"))
    article_id = bot.store._rows("SELECT id FROM articles LIMIT 1")[0]["id"]
    bot.action("news_share", str(article_id))
    (resp,) = bot.wait_responses(1)
    assert "invite me" in text_of(resp)


def test_unknown_button_and_stale_values_do_not_fail(bot):
    assert bot.action("some_old_button", "x").status == 200
    assert bot.action("news_more", "not json").status == 200
    assert bot.action("news_share", "999").status == 200
    r = bot.wait_responses(3)
    assert "older version of newsbot" in text_of(r[0])  # answered, not left to "dispatch_failed"
    assert "expired" in text_of(r[1])
    assert "no longer available" in text_of(r[2])


def test_admins_only_limits_subscription_changes(tmp_path, slack):
    bot = start_bot(
        tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true"}
    )
    try:
        bot.command("subscribe ai", user="U1")
        bot.command("subscribe ai", user="UADMIN")
        bot.command("subscribe mine", user="U1", channel="D1", channel_name="directmessage")
        r = bot.wait_responses(3)
        assert "Only workspace admins and owners" in text_of(r[0])
        assert "Subscribed this channel" in text_of(r[1])
        assert "08:00 (America/New_York)" in text_of(r[1])
        assert "Subscribed your DM" in text_of(r[2])
        assert len(bot.store.all_subscriptions()) == 2
    finally:
        bot.close()


RATES = """---
title: "Central bank holds interest rates at 5% for a third month"
publishedDateTime: 2020-02-05T10:00:00Z
webUrl: "https://news.example/rates"
provider: {name: Example News, domain: news.example}
---
"""


def test_subscribe_button_subscribes_to_the_search_words_exactly(bot, tmp_path):
    from bot.core.loader import Loader

    (tmp_path / "rates.md").write_text(RATES, encoding="utf-8")
    Loader(bot.store, lambda: NOW).load([tmp_path / "rates.md"])
    results = bot.ask("interest rates at 5%")
    button = next(
        e
        for b in results["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "news_subscribe"
    )
    assert button["text"]["text"] == "Subscribe this channel to interest rates at 5%"
    bot.action("news_subscribe", button["value"])
    bot.action("news_subscribe", "ai at 7pm tz Asia/Tokyo")
    r = bot.wait_responses(3)
    assert "Subscribed this channel to *interest rates at 5%*" in text_of(r[1])
    assert "*ai at 7pm tz Asia/Tokyo*" in text_of(r[2])
    subs = bot.store.subscriptions("T1", "C1")
    assert [s["topic"] for s in subs] == ["interest rates at 5%", "ai at 7pm tz Asia/Tokyo"]
    assert {(s["hour"], s["tz"]) for s in subs} == {(8, "Europe/London")}


def test_admins_only_covers_channel_settings_and_mutes_and_a_failed_lookup_says_so(tmp_path, slack):
    from tests.fakeslack import Fail

    bot = start_bot(
        tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true"}
    )
    try:
        refused = [
            bot.ask(text, user="U1")
            for text in ("settings items 3", "mute reuters here", "resume ai", "unsubscribe ai")
        ]
        assert all("Only workspace admins and owners" in text_of(r) for r in refused)
        # what is personal or only read stays open to everyone
        assert "Settings of this channel" in text_of(bot.ask("settings", user="U1"))
        assert "Muted Reuters" in text_of(bot.ask("mute reuters", user="U1"))
        assert "Done: 3 items per topic" in text_of(bot.ask("settings items 3", user="UADMIN"))
        assert "Muted Reuters (reuters.com) in this channel" in text_of(
            bot.ask("mute reuters here", user="UADMIN")
        )
        slack.script("users.info", Fail(error="fatal_error"))
        failed = text_of(bot.ask("settings items 9", user="UADMIN"))
        assert "could not check with Slack" in failed and "Nothing changed" in failed
        assert bot.store.channel_settings("T1", "C1")["items_per_topic"] == 3
        assert bot.store.muted_domains("T1", "channel", "C1") == {"reuters.com"}
    finally:
        bot.close()


def test_a_refused_home_change_shows_why_and_changes_nothing(tmp_path, slack):
    bot = start_bot(
        tmp_path, slack, lambda: NOW, extra_env={"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true"}
    )
    try:
        # made before admins_only was turned on
        bot.store.subscribe("T1", "C3", "robots", user_id="U1", hour=8, minute=0, tz="UTC", now=NOW)
        bot.home_action(
            {
                "type": "button",
                "action_id": "home_unsubscribe",
                "value": json.dumps({"c": "C3", "t": "robots"}),
            }
        )
        view = bot.wait_home("U1", 1)
        assert block_errors(view["blocks"], 100) == []
        assert view["blocks"][1]["type"] == "context"
        assert "Only workspace admins and owners" in view["blocks"][1]["elements"][0]["text"]
        assert "<#C3> *robots*" in json.dumps(view)
        assert [s["topic"] for s in bot.store.subscriptions("T1", "C3")] == ["robots"]
    finally:
        bot.close()


def test_list_of_hundreds_of_long_subscriptions_fits_and_counts_the_rest(bot):
    for i in range(300):
        bot.store.subscribe(
            "T1", "C7", f"{i:03d} " + "&<" * 95, user_id="U1", hour=8, minute=0, tz="UTC", now=NOW
        )
    bot.store.pause_channel("T1", "C7", "not_in_channel", NOW)
    r = bot.ask("list", channel="C7")
    assert block_errors(r["blocks"]) == [] and len(r["blocks"]) == 50
    assert r["text"] == "300 subscriptions in this channel"
    shown = [
        line
        for b in r["blocks"]
        if b["type"] == "section"
        for line in b["text"]["text"].split("\n")
        if line.startswith("• ")
    ]
    (rest,) = [b["elements"][0]["text"] for b in r["blocks"] if b["type"] == "context"]
    assert rest == f"… and {300 - len(shown)} more"
    sections = "".join(b["text"]["text"] for b in r["blocks"] if b["type"] == "section")
    # nothing a topic holds is markup; the one "<" is of Slack's date token, the pause's day
    assert sections.count("<") == sections.count("<!date^") == len(shown)
    assert "paused: newsbot was removed from this channel on <!date^" in sections
    bot.ask("subscribe solo", channel="C8")
    assert bot.ask("list", channel="C8")["text"] == "1 subscription in this channel"


def test_in_a_dm_the_subscribe_button_says_it_subscribes_the_dm(bot):
    r = bot.ask("facial recognition", channel="D42", channel_name="directmessage")
    (button,) = [
        e
        for b in r["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "news_subscribe"
    ]
    assert button["text"]["text"] == "Subscribe your DM to facial recognition"
    bot.action("news_subscribe", button["value"], channel="D42")
    assert "Subscribed your DM to *facial recognition*" in text_of(bot.wait_responses(2)[1])
    assert bot.store.subscriptions("T1", "U1")[0]["kind"] == "dm"


def test_in_a_dm_a_zone_is_refused_not_silently_undone(bot):
    # The DM digest moves to the user's Slack zone (each follow, each night's sweep): a zone
    # given here would be undone without a word, so it is refused as for /news follow.
    dm = {"channel": "D42", "channel_name": "directmessage", "user": "U1"}
    r = bot.ask("subscribe ai at 9am tz Asia/Tokyo", **dm)
    assert "follows your own Slack time zone" in text_of(r)
    assert bot.store.all_subscriptions() == []
    r = bot.ask("subscribe ai at 9am", **dm)
    assert "09:00 (Europe/London)" in text_of(r)


def test_list_shows_paused_subscriptions_and_resume_restarts_one(bot):
    bot.ask("subscribe AI chips")
    bot.ask("subscribe robots")
    bot.store.pause_channel("T1", "C1", "not_in_channel", NOW)
    listing = text_of(bot.ask("list"))
    # in words, its day Slack's date token (each reader's zone), never the bare code
    day = f"<!date^{int(NOW.timestamp())}^{{date_short}}|6 Feb 2020>"
    assert (
        "AI chips · daily at 08:00 (Europe/London) · paused: newsbot was removed from this "
        f"channel on {day}; `/invite @newsbot`, then `/news resume`" in listing
    )
    assert "not_in_channel" not in listing
    assert "Resumed *ai CHIPS* in this channel" in text_of(bot.ask("resume ai CHIPS"))
    assert "No paused subscription to *ai chips*" in text_of(bot.ask("resume ai chips"))
    paused = {s["topic"]: s["paused_reason"] for s in bot.store.subscriptions("T1", "C1")}
    assert paused == {"AI chips": None, "robots": "not_in_channel"}
