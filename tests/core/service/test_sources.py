"""Live sources from Slack, over a real SQLite file: ``/news sources``, ``/news source add``
and ``/news source remove`` (bad input one line each; folders refused; admins_only applies
everywhere, a DM too), and the App Home's first sources."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import load_config
from bot.core.answers import MessageAnswer, SourcesAnswer
from bot.core.commands import CommandError, parse
from bot.core.service import Settings
from bot.core.service import sources as area
from bot.core.service.home import HOME_SOURCES
from tests.conftest import NOW
from tests.core.service.conftest import channel, dm

FEED = "https://example.com/feed.xml"


def article_ids(store, n: int) -> list[int]:
    return [r["id"] for r in store._rows("SELECT id FROM articles ORDER BY id LIMIT ?", (n,))]


def added(service, text: str, ctx=None) -> MessageAnswer:
    answer = service.handle_text(text, ctx or channel())
    assert isinstance(answer, MessageAnswer), answer
    return answer


def test_a_feed_added_from_slack_is_the_workspaces_with_its_topics_and_its_adder(
    fresh_db, make_service
):
    service = make_service(source_interval=45 * 60)
    answer = added(service, f'source add {FEED} ai "machine learning" ai', channel(user="U7"))
    assert answer.ok and answer.text.startswith(f"Added source #1, `{FEED}` (topics: `ai, ")
    assert "every 45 minutes" in answer.text and "`/news source remove 1`" in answer.text
    (source,) = fresh_db.sources()
    assert (source.kind, source.address, source.topics) == (
        "feed",
        FEED,
        ("ai", "machine learning"),
    )
    assert (source.added_by, source.added_at, source.interval_seconds) == ("T1:U7", NOW, 2700)
    assert source.next_poll_at == NOW  # due at once


def test_the_command_lines_way_and_slacks_link_brackets_are_understood(fresh_db, service):
    assert added(service, "sources add <https://example.com/a|example.com/a> x").ok
    assert added(service, "SOURCE ADD https://example.com/b").ok
    assert [s.address for s in fresh_db.sources()] == [
        "https://example.com/a",
        "https://example.com/b",
    ]
    assert [s.topics for s in fresh_db.sources()] == [("x",), ()]


def test_curly_quotes_from_slack_group_a_topic(fresh_db, service):
    assert added(service, f"source add {FEED} “facial recognition” ai").ok
    assert fresh_db.sources()[0].topics == ("facial recognition", "ai")


def test_an_address_already_there_changes_nothing_and_says_so(fresh_db, service):
    added(service, f"source add {FEED} ai")
    again = added(service, "source add HTTPS://Example.com:443/feed.xml#top robots")
    assert not again.ok and again.text.startswith(f"Already a source: source #1, `{FEED}`")
    (source,) = fresh_db.sources()
    assert source.topics == ("ai",)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("source add /srv/news", "only on newsbot's server"),
        ("source add ~/news", "`newsbot sources add PATH`"),
        ("source add ./articles", "only on newsbot's server"),
        ("source add C:\\news", "only on newsbot's server"),
        ("source add file:///srv/news", "only on newsbot's server"),
        ("source add ftp://example.com/feed", "not an http(s) address"),
        ("source add example.com/feed", "write it in full, e.g. `https://example.com/feed`"),
        ("source add https://user:secret@example.com/feed", "user name or password"),
        ("source add https:///feed", "not a valid address"),
        (f'source add {FEED} "ai', "A quote is not closed"),
        (f"source add {FEED} " + " ".join(f"t{n}" for n in range(21)), "at most 20"),
        (f"source add {FEED} " + "x" * 201, "at most 200 characters"),
        ("source remove abc", "“abc” is not a source id"),
        ("source remove -1", "not a source id"),
        ("source remove 99", "There is no source #99. `/news sources` lists them"),
        ("source", "e.g. `/news source add https://"),
        ("source add", "Add or remove which source?"),
        ("source list", "Add or remove which source?"),
    ],
)
def test_bad_input_is_one_clear_line_and_changes_nothing(fresh_db, service, text, says):
    answer = added(service, text)
    assert not answer.ok and says in answer.text, answer.text
    assert "\n" not in answer.text
    assert fresh_db.sources() == []


def test_a_source_is_removed_by_its_id_and_its_articles_stay(fresh_db, seeded, service):
    added(service, f"source add {FEED}")
    added(service, "source add https://example.com/other")
    fresh_db.note_source_items(1, article_ids(fresh_db, 2), NOW)
    articles = fresh_db._scalar("SELECT count(*) FROM articles")
    answer = added(service, "source remove #1")
    assert answer.ok and answer.text == (
        f"Removed source #1, `{FEED}`. The articles it brought stay."
    )
    assert [s.id for s in fresh_db.sources()] == [2]
    assert fresh_db._scalar("SELECT count(*) FROM articles") == articles
    assert not added(service, "source remove 1").ok


def test_sources_lists_every_source_with_its_health(fresh_db, seeded, service):
    assert service.handle_text("sources", dm()) == SourcesAnswer([])
    for n in range(3):
        added(service, f"source add https://example.com/{n}")
    fresh_db.add_source("folder", "/srv/news", ["local"], "cli", NOW, 600)
    earlier = NOW - dt.timedelta(days=10)
    first, second, third, fourth = article_ids(fresh_db, 4)
    fresh_db.note_source_items(1, [first, second, third], NOW - dt.timedelta(days=1))
    fresh_db.note_source_items(1, [fourth], earlier)  # older than 7 days: not counted
    fresh_db.record_failure(2, "timed out", NOW, NOW)
    fresh_db.record_gone(3, NOW)
    answer = service.handle_text("sources whatever", channel())
    assert isinstance(answer, SourcesAnswer)
    assert [(h.source.id, h.items_last_7_days) for h in answer.sources] == [
        (1, 3),
        (2, 0),
        (3, 0),
        (4, 0),
    ]
    assert answer.sources[1].source.last_error == "timed out"
    assert answer.sources[2].source.state == "gone"
    assert answer.sources[3].source.kind == "folder"


# -- admins_only: sources are the workspace's, wherever someone asks -------------------------


@pytest.mark.parametrize("text", [f"source add {FEED}", "sources add https://example.com/x"])
def test_admins_only_guards_adding_in_a_channel_and_in_a_dm(fresh_db, make_service, text):
    service = make_service(admins_only=True)
    command = parse(text)
    for where in (channel, dm):
        assert service.needs_user_info(command, where()) is True  # to know who is an admin
        refused = service.handle(command, where(is_admin=False))
        unknown = service.handle(command, where(is_admin=None))  # the look-up failed
        assert refused == MessageAnswer(area.NOT_ADMIN, ok=False)
        assert unknown == MessageAnswer(area.ADMIN_UNKNOWN, ok=False)
        assert "could not check with Slack" in unknown.text and "Nothing changed" in unknown.text
    assert fresh_db.sources() == []
    assert service.handle(command, dm(is_admin=True)).ok
    assert len(fresh_db.sources()) == 1


def test_admins_only_guards_removing_but_not_listing(fresh_db, make_service):
    fresh_db.add_source("feed", FEED, [], "T1:U1", NOW, 1800)
    service = make_service(admins_only=True)
    for where in (channel, dm):
        answer = service.handle_text("source remove 1", where(is_admin=False))
        assert answer == MessageAnswer(area.NOT_ADMIN, ok=False)
        listed = service.handle_text("sources", where(is_admin=False))
        assert isinstance(listed, SourcesAnswer) and len(listed.sources) == 1
    assert service.needs_user_info(parse("sources"), channel()) is False
    assert service.handle_text("source remove 1", channel(is_admin=True)).ok
    assert fresh_db.sources() == []


def test_without_admins_only_anyone_adds_and_removes(fresh_db, service):
    assert added(service, f"source add {FEED}", channel(is_admin=False)).ok
    assert added(service, "source remove 1", dm(is_admin=None)).ok


# -- the parts ---------------------------------------------------------------------------------


def test_a_new_sources_interval_is_sources_poll_minutes_never_below_the_floor(tmp_path):
    def settings(**env: str) -> Settings:
        values = {f"NEWSBOT_SOURCES_{k.upper()}": v for k, v in env.items()}
        return Settings.from_config(load_config(file, values))

    file = tmp_path / "newsbot.yml"
    file.write_text("{}\n")

    assert settings().source_interval == 30 * 60
    assert settings(poll_minutes="90").source_interval == 90 * 60
    assert settings(poll_minutes="5", min_poll_minutes="10").source_interval == 10 * 60


def test_the_readers_refuse_before_anything_is_looked_up():
    with pytest.raises(CommandError, match="A quote is not closed"):
        parse(f'source add {FEED} "ai')
    assert parse("source remove 3").value == "remove"
    assert parse("sources").name == "sources"
    assert parse("sources remove 3").name == "source"


def test_the_home_shows_the_first_sources_and_counts_the_rest(fresh_db, seeded, service):
    assert (service.home(dm()).sources, service.home(dm()).more_sources) == ([], 0)
    for n in range(HOME_SOURCES + 3):
        fresh_db.add_source("feed", f"https://example.com/{n}", [], "cli", NOW, 1800)
    fresh_db.note_source_items(2, article_ids(fresh_db, 1), NOW)
    home = service.home(dm())
    assert [h.source.id for h in home.sources] == list(range(1, HOME_SOURCES + 1))
    assert home.more_sources == 3
    assert home.sources[1].items_last_7_days == 1
