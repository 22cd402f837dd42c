"""Zones and times are checked before they are stored: a Slack zone zoneinfo does not know is
never stored (the default, or the zone the follows had, stands in, and the answer says so)."""

from __future__ import annotations

from bot.core.answers import MessageAnswer
from bot.core.service import Context, NewsService

# -- zones and times are checked before they are stored ----------------------------------------


def stored_zones(store) -> set:
    subs = {s["tz"] for s in store.all_subscriptions()}
    users = {r["tz"] for r in store._rows("SELECT tz FROM user_settings")}
    return subs | users


def test_an_unknown_slack_zone_falls_back_to_the_default_and_says_so(fresh_db, clock):
    from bot.core.service import Settings

    service = NewsService(fresh_db, clock, Settings(default_tz="Europe/Paris"))
    ctx = Context(user_id="U1", is_dm=True, channel_id="D1", user_tz="Mars/Base")
    answer = service.handle_text("follow ai", ctx)
    assert isinstance(answer, MessageAnswer) and answer.ok
    assert "Slack gave your time zone as Mars/Base, which I do not know" in answer.text
    assert "Europe/Paris, the default" in answer.text
    assert stored_zones(fresh_db) <= {"Europe/Paris", None}
    assert service.refresh_user_zone(ctx) is False
    assert stored_zones(fresh_db) <= {"Europe/Paris", None}

    channel = Context(user_id="U1", channel_id="C1", user_tz="Mars/Base")
    answer = service.handle_text("subscribe ai", channel)
    assert "Mars/Base" in answer.text and "Europe/Paris, the default" in answer.text
    assert fresh_db.channel_schedule("local", "C1")["tz"] == "Europe/Paris"
    assert "Mars/Base" not in stored_zones(fresh_db)


def test_an_unknown_slack_zone_keeps_the_follows_where_they_were(fresh_db, clock):
    service = NewsService(fresh_db, clock)
    ctx = Context(user_id="U1", is_dm=True, channel_id="D1", user_tz="Europe/London")
    service.handle_text("follow ai", ctx)
    moved = Context(user_id="U1", is_dm=True, channel_id="D1", user_tz="Mars/Base")
    assert service.refresh_user_zone(moved) is False
    answer = service.handle_text("follow ml", moved)
    assert "Slack gave your time zone as Mars/Base, which I do not know" in answer.text
    assert "Europe/London" in answer.text
    assert stored_zones(fresh_db) == {"Europe/London"}


def test_a_command_built_in_code_cannot_store_an_unknown_zone_or_time(fresh_db, clock):
    from bot.core.commands import Command

    service = NewsService(fresh_db, clock)
    for command in (
        Command("subscribe", "ai", tz="Mars/Base"),
        Command("subscribe", "ai", hour=25, minute=0),
        Command("subscribe", "ai", hour=8, minute=99),
        Command("follow", "ai", hour=24, minute=0),
    ):
        answer = service.handle(command, Context(user_id="U1"))
        assert isinstance(answer, MessageAnswer) and not answer.ok, command
    assert fresh_db.all_subscriptions() == []
