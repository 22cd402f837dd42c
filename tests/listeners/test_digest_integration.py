"""Digests inside the running bot: /news preview, the scheduler following subscriptions,
preferences applied to digests, and the menu on each digest entry (issues 4 and 5)."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.digest import DigestSettings
from bot.digests.runner import DigestRunner, digest_client
from tests.digests.conftest import add_article
from tests.fakeslack import block_errors
from tests.listeners.conftest import NOW

UTC = dt.UTC
DM = {"channel": "D77", "channel_name": "directmessage", "user": "U1"}


def text_of(resp: dict) -> str:
    return json.dumps(resp["blocks"], ensure_ascii=False)


def runner(bot, at: dt.datetime) -> DigestRunner:
    client = digest_client(bot.slack.bot_token, bot.slack.base_url)
    return DigestRunner(bot.store, client, DigestSettings(), clock=lambda: at, sleep=lambda s: None)


def test_preview_shows_the_next_digest_privately_and_changes_nothing(bot):
    bot.ask("subscribe zebra crossings at 08:00 tz Europe/London")
    add_article(bot.store, "Zebra crossings repainted across London", NOW - dt.timedelta(hours=3))
    r = bot.ask("preview")
    assert r["response_type"] == "ephemeral" and block_errors(r["blocks"]) == []
    assert "Preview: your next news digest (Friday 7 February 2020)" in text_of(r)
    assert "Zebra crossings repainted across London" in text_of(r)
    assert bot.slack.posts() == []
    assert bot.store._scalar("SELECT count(*) FROM deliveries") == 0
    assert "Nothing is subscribed" in text_of(bot.ask("preview", channel="C404"))


def test_the_scheduler_follows_subscription_changes(bot):
    digests = bot.runtime.start_digests()
    try:
        assert digests.jobs() == []
        bot.ask("subscribe zebra crossings at 07:30 tz Europe/London")
        (job,) = digests.jobs()
        assert job.id == "digest:T1:C1"
        local = job.next_run_time.astimezone(dt.timezone(dt.timedelta(0)))
        assert (local.hour, local.minute) in ((7, 30), (6, 30))  # 07:30 London, GMT or BST
        bot.ask("subscribe zebra crossings at 09:00 tz America/New_York")
        (job,) = digests.jobs()
        assert job.next_run_time.astimezone(dt.timezone(dt.timedelta(hours=-5))).hour in (9, 10)
        bot.ask("unsubscribe zebra crossings")
        assert digests.jobs() == []
    finally:
        digests.shutdown()


def test_a_dm_digest_due_at_0800_london_is_posted_once(bot):
    bot.ask("follow zebra crossings", user="U1")  # U1's Slack zone: Europe/London
    add_article(bot.store, "Zebra crossings get smart lights", NOW - dt.timedelta(hours=5))
    due = dt.datetime(2020, 2, 7, 8, 0, tzinfo=UTC)  # 08:00 in London in February (the day
    # after subscribing: a subscription made after a day's digest time starts the next day)
    job = runner(bot, due + dt.timedelta(minutes=1))
    assert [r.status for r in job.run_due()] == ["posted"]
    again = runner(bot, due + dt.timedelta(minutes=30)).run_due()
    assert all(r.status != "posted" for r in again)
    (post,) = bot.slack.posts("DU1")
    assert "Zebra crossings get smart lights" in json.dumps(post["blocks"])
    assert post["metadata"]["event_type"] == "news_digest"


def test_a_muted_outlet_is_absent_from_the_channel_digest_another_outlet_stands_in(bot):
    bot.ask("subscribe zebra crossings at 08:00 tz UTC", channel="C2")
    bot.ask("mute nytimes.example here", channel="C2")
    at = NOW - dt.timedelta(hours=4)
    lead = add_article(
        bot.store, "Zebra crossings return to Paris", at, provider="NYTimes", quality=200
    )
    add_article(
        bot.store,
        "Zebra crossings return to Paris streets",
        at,
        provider="Forbes",
        quality=50,
        story=lead,
    )
    add_article(bot.store, "Zebra crossings: an NYT-only column", at, provider="NYTimes")
    job = runner(bot, dt.datetime(2020, 2, 7, 8, 1, tzinfo=UTC))
    assert [r.status for r in job.run_due()] == ["posted"]
    (post,) = bot.slack.posts("C2")
    blob = json.dumps(post["blocks"])
    assert "forbes.example" in blob and "nytimes.example" not in blob
    assert "NYT-only" not in blob


def test_skip_weekends(bot):
    bot.ask("subscribe zebra crossings at 08:00 tz UTC", channel="C3")
    bot.ask("settings weekends skip", channel="C3")
    add_article(bot.store, "Zebra crossings at the weekend", dt.datetime(2020, 2, 8, 6, tzinfo=UTC))
    saturday = runner(bot, dt.datetime(2020, 2, 8, 8, 1, tzinfo=UTC))
    assert [r.status for r in saturday.run_due()] == ["empty"]
    assert bot.slack.posts("C3") == []
    monday = runner(bot, dt.datetime(2020, 2, 10, 8, 1, tzinfo=UTC))
    add_article(bot.store, "Zebra crossings on Monday", dt.datetime(2020, 2, 10, 6, tzinfo=UTC))
    assert [r.status for r in monday.run_due()] == ["posted"]
    assert len(bot.slack.posts("C3")) == 1


def test_digest_entry_menu_mutes_for_the_channel_and_shows_more_like_this(bot):
    bot.ask("subscribe zebra crossings at 08:00 tz UTC", channel="C4")
    at = NOW - dt.timedelta(hours=4)
    add_article(bot.store, "Zebra crossings return to Paris", at, provider="Reuters")
    add_article(
        bot.store, "Zebra crossings praised in Lyon", at - dt.timedelta(days=3), provider="Forbes"
    )
    runner(bot, dt.datetime(2020, 2, 7, 8, 1, tzinfo=UTC)).run_due()
    (post,) = bot.slack.posts("C4")
    assert block_errors(post["blocks"]) == []
    menu = next(b["accessory"] for b in post["blocks"] if b.get("accessory"))
    assert menu["type"] == "overflow" and menu["action_id"] == "digest_tune"
    mute, like = menu["options"]
    assert mute["text"]["text"] == "Mute Reuters"
    overflow = {
        "type": "overflow",
        "action_id": "digest_tune",
        "block_id": "b1",
        "action_ts": "1.2",
    }
    bot.action("digest_tune", "", channel="C4")  # no choice: expired, never an error
    bot.action_payload({**overflow, "selected_option": mute}, channel="C4")
    bot.action_payload({**overflow, "selected_option": like}, channel="C4")
    r = bot.wait_responses(4)[1:]  # after the subscribe's answer
    assert "expired" in text_of(r[0])
    assert "Muted Reuters (reuters.example) in this channel's digests" in text_of(r[1])
    assert "/news unmute reuters.example here" in text_of(r[1])
    assert bot.store.muted_domains("T1", "channel", "C4") == {"reuters.example"}
    assert r[1]["response_type"] == "ephemeral" and r[2]["response_type"] == "ephemeral"
    assert "More like" in text_of(r[2]) and "Lyon" in text_of(r[2])


def test_digest_menu_with_a_forged_or_stale_value_says_expired(bot, caplog):
    overflow = {
        "type": "overflow",
        "action_id": "digest_tune",
        "block_id": "b1",
        "action_ts": "1.2",
    }
    for value in ('{"l": "abc"}', '{"l": [1]}', '["m"]', "{"):
        option = {"text": {"type": "plain_text", "text": "More like this"}, "value": value}
        bot.action_payload({**overflow, "selected_option": option}, channel="C4")
    for resp in bot.wait_responses(4):
        assert "That menu has expired." in text_of(resp)
    assert "command failed" not in caplog.text
