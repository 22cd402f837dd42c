"""Live sources over real HTTP: signed ``/news source add|remove`` and ``/news sources`` in,
private answers out through response_url (our fake Slack), admins_only with users.info, and
the App Home's "News sources" section."""

from __future__ import annotations

import json

from tests.fakeslack import Fail, block_errors
from tests.listeners.conftest import NOW
from tests.slackhttp import start_bot

ADMINS_ONLY = {"NEWSBOT_SUBSCRIPTIONS_ADMINS_ONLY": "true", "NEWSBOT_SOURCES_POLL_MINUTES": "60"}
FEED = "https://example.com/feed.xml"


def text_of(response: dict) -> str:
    return json.dumps(response.get("blocks", []), ensure_ascii=False) + response.get("text", "")


def test_a_feed_is_added_listed_and_removed_from_slack(bot):
    added = bot.ask(f'source add {FEED} ai "machine learning"', user="U1")
    assert added["response_type"] == "ephemeral" and block_errors(added["blocks"]) == []
    assert f"Added source #1, `{FEED}` (topics: `ai, machine learning`)" in text_of(added)
    (source,) = bot.store.sources()
    assert (source.added_by, source.topics) == ("T1:U1", ("ai", "machine learning"))
    assert source.interval_seconds == 30 * 60

    listed = bot.ask("sources", user="U1", channel="D1", channel_name="directmessage")
    assert block_errors(listed["blocks"]) == []
    entry = listed["blocks"][1]["text"]["text"]
    assert entry.startswith(f":hourglass_flowing_sand: *#1* `{FEED}`")
    assert "new · last success never · 0 new in 7 days" in entry
    assert "topics: ai, machine learning · added by <@U1>" in entry

    again = bot.ask(f"source add {FEED}")
    assert "Already a source: source #1" in text_of(again)
    removed = bot.ask("source remove 1")
    assert "Removed source #1" in text_of(removed) and bot.store.sources() == []
    assert "There is no source #1" in text_of(bot.ask("source remove 1"))


def test_a_folder_from_slack_is_refused_and_the_command_line_named(bot):
    answer = text_of(bot.ask("source add /srv/news"))
    assert "only on newsbot's server" in answer and "`newsbot sources add PATH`" in answer
    assert bot.store.sources() == []


def test_a_hostile_feed_title_and_error_reach_slack_inert(bot):
    source, _ = bot.store.add_source(
        "feed", FEED, ["<!here>"], "T1:U1", NOW, 1800, title="<!channel> *Breaking*"
    )
    bot.store.record_failure(source.id, "<@U2> *not a feed*", NOW, NOW)
    shown = text_of(bot.ask("sources"))
    assert "<!channel>" not in shown and "<!here>" not in shown and "<@U2>" not in shown
    assert "&lt;!channel&gt; ∗Breaking∗" in shown and "&lt;@U2&gt; ∗not a feed∗" in shown


def test_admins_only_limits_sources_to_admins_in_channels_and_dms(tmp_path, slack):
    bot = start_bot(tmp_path, slack, lambda: NOW, extra_env=ADMINS_ONLY)
    try:
        dm = {"channel": "D1", "channel_name": "directmessage"}
        for where in ({}, dm):
            refused = text_of(bot.ask(f"source add {FEED}", user="U1", **where))
            assert "Only workspace admins and owners can add or remove news sources" in refused
        assert bot.store.sources() == []
        assert "Added source #1" in text_of(bot.ask(f"source add {FEED}", user="UADMIN"))
        assert bot.store.sources()[0].interval_seconds == 60 * 60  # sources.poll_minutes
        assert "#1" in text_of(bot.ask("sources", user="U1"))  # reading is for everyone
        refused = text_of(bot.ask("source remove 1", user="U1", **dm))
        assert "Only workspace admins" in refused and len(bot.store.sources()) == 1
        slack.script("users.info", Fail(error="fatal_error"))
        failed = text_of(bot.ask("source remove 1", user="UADMIN"))
        assert "could not check with Slack" in failed and "Nothing changed" in failed
        assert len(bot.store.sources()) == 1
        assert "Removed source #1" in text_of(bot.ask("source remove 1", user="UADMIN"))
    finally:
        bot.close()


def test_300_sources_fit_one_message(bot):
    with bot.store.transaction():
        for n in range(300):
            bot.store.add_source("feed", f"https://example.com/{n}", [], "cli", NOW, 1800)
    answer = bot.ask("sources")
    assert block_errors(answer["blocks"]) == []  # the fake Slack refuses what Slack would
    assert "more: `newsbot sources list`" in text_of(answer)


def test_the_app_home_shows_the_sources_health(bot):
    for n in range(12):
        bot.store.add_source("feed", f"https://example.com/{n}", [], "cli", NOW, 1800)
    bot.store.record_failure(1, "blocked (403)", NOW, NOW)
    bot.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    view = bot.wait_home("U1", 1)
    assert block_errors(view["blocks"], 100) == []
    shown = text_of(view)
    assert "*News sources* (12)" in shown and "blocked (403)" in shown
    assert "… and 2 more: `/news sources` lists them all" in shown
