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
