"""Follows move with their user's Slack time zone, in the daily sweep too."""

from __future__ import annotations

from bot.slack.client import make_client
from bot.slack.zones import JOB_ID, refresh_follower_zones


def test_daily_sweep_moves_follows_to_the_users_new_zone(bot, slack):
    bot.ask("follow ai at 07:00", user="U1")
    slack.users["U1"]["tz"] = "America/Chicago"
    client = make_client(slack.bot_token, slack.base_url)
    assert refresh_follower_zones(bot.runtime.service, client) == 1
    (sub,) = bot.store.all_subscriptions()
    assert (sub["hour"], sub["minute"], sub["tz"]) == (7, 0, "America/Chicago")
    assert refresh_follower_zones(bot.runtime.service, client) == 0


def test_sweep_survives_slack_errors(bot, slack):
    bot.ask("follow ai", user="U1")
    del slack.users["U1"]  # users.info: user_not_found
    client = make_client(slack.bot_token, slack.base_url)
    assert refresh_follower_zones(bot.runtime.service, client) == 0


def test_the_bot_schedules_the_sweep(bot):
    digests = bot.runtime.start_digests()
    try:
        job = digests.scheduler.get_job(JOB_ID)
        assert job is not None and job.next_run_time.hour == 3
    finally:
        digests.shutdown()


def answer_text(resp: dict) -> str:
    import json

    return json.dumps(resp["blocks"], ensure_ascii=False)


def zones_stored(store) -> set:
    return {s["tz"] for s in store.all_subscriptions()} | {
        r["tz"] for r in store._rows("SELECT tz FROM user_settings")
    }


def test_a_slack_zone_zoneinfo_does_not_know_is_never_stored(bot, slack):
    slack.add_user("UM", tz="Mars/Base")
    digests = bot.runtime.start_digests()  # the scheduler follows every change, as in serve
    try:
        follow = answer_text(bot.ask("follow x", user="UM"))
        subscribe = answer_text(bot.ask("subscribe y", user="UM", channel="C7"))
        bot.ask("settings", user="UM", channel="D9", channel_name="directmessage")
        bot.event({"type": "app_home_opened", "user": "UM", "tab": "home"})
        bot.wait_home("UM", 1)
    finally:
        digests.shutdown()
    assert "Sorry" not in follow and "Sorry" not in subscribe
    assert "Slack gave your time zone as Mars/Base, which I do not know" in follow
    assert "08:00 (UTC" in follow and "UTC, the default" in follow
    assert "Mars/Base, which I do not know" in subscribe and "UTC, the default" in subscribe
    assert "Mars/Base" not in zones_stored(bot.store)
    assert {s["tz"] for s in bot.store.all_subscriptions()} == {"UTC"}


def test_the_daily_sweep_leaves_follows_in_a_known_zone(bot, slack):
    bot.ask("follow ai at 07:00", user="U1")  # Europe/London
    slack.users["U1"]["tz"] = "Mars/Base"
    client = make_client(slack.bot_token, slack.base_url)
    assert refresh_follower_zones(bot.runtime.service, client) == 0
    assert zones_stored(bot.store) == {"Europe/London"}
