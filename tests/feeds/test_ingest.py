"""ingest: a feed's articles into the store through the loader's path (bot.feeds.ingest)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.core.articles import Article
from bot.core.loader import Loader, LoadReport
from bot.feeds import ingest as ingest_module
from bot.feeds.ingest import IngestReport, finish, ingest
from bot.feeds.items import parse_feed
from storage.store import Store
from tests.conftest import SEED_FILE, FixedClock
from tests.helpers import by_url, dump, rows, story_of, topics

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
ORIGIN = "feed:https://churn.example.com/rss"
FETCHED = dt.datetime(2020, 1, 31, tzinfo=dt.UTC)

CYCLE = "https://churn.example.com/news/cycle-lanes"
LIBRARY_HTTP = "http://churn.example.com/news/library-reopens"
STORM = "https://churn.example.com/news/storm-warning"
MARKET = "https://churn.example.com/news/market-rents"


def articles(
    name: str, fetched: dt.datetime = FETCHED, topics: tuple[str, ...] = ()
) -> list[Article]:
    feed = parse_feed((FEEDS / name).read_bytes(), f"https://x.example.com/{name}", fetched, topics)
    assert feed.ok, feed.error
    return feed.articles


def fts_ids(store: Store, query: str) -> list[int]:
    found = store.db.conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", (query,)
    )
    return [int(r[0]) for r in found]


def counts(report: IngestReport) -> tuple[int, int, int, int]:
    return report.new, report.updated, report.unchanged, report.skipped


def test_a_feed_is_written_searchable_and_owned_by_its_origin(
    fresh_db: Store, clock: FixedClock
) -> None:
    report = ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    assert counts(report) == (4, 0, 0, 0)
    assert fresh_db.count_articles() == 4
    assert {r["source_file"] for r in rows(fresh_db)} == {ORIGIN}
    cycle = by_url(fresh_db, CYCLE)
    assert cycle["title"] == "Council approves new cycle lanes for city centre"
    assert topics(cycle) == ["Transport"]
    assert fts_ids(fresh_db, "refurbishment") == [by_url(fresh_db, LIBRARY_HTTP)["id"]]
    assert fresh_db.search_terms_pending() == 0  # corrections know the feed's words
    assert report.grouping is not None and fresh_db.grouping_state()["pending"] == 0


def test_ingesting_the_same_feed_again_changes_nothing(fresh_db: Store, clock: FixedClock) -> None:
    ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    before = dump(fresh_db)
    # Fetched again an hour later: the undated item's "first seen" time would be new.
    clock.advance(hours=1)
    later = FETCHED + dt.timedelta(hours=1)
    report = ingest(fresh_db, articles("churn-before.xml", later), ORIGIN, clock)
    assert counts(report) == (0, 0, 4, 0)
    assert dump(fresh_db) == before


def test_changed_guids_schemes_tracking_and_an_edited_title(
    fresh_db: Store, clock: FixedClock
) -> None:
    ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    ids = {r["url"]: r["id"] for r in rows(fresh_db)}
    story = story_of(fresh_db, CYCLE)
    stories = fresh_db.count_stories()
    clock.advance(hours=2)
    later = FETCHED + dt.timedelta(hours=2)
    report = ingest(fresh_db, articles("churn-after.xml", later), ORIGIN, clock)
    # New GUIDs (all four), http -> https (library), HTTP + upper-case host + other utm_ + a
    # fragment (storm), an edited title, excerpt and categories (cycle lanes): one update.
    assert counts(report) == (0, 1, 3, 0)
    assert {r["url"]: r["id"] for r in rows(fresh_db)} == ids
    cycle = by_url(fresh_db, CYCLE)
    assert cycle["title"] == "Council approves new cycle lanes for city centre after heated debate"
    assert cycle["excerpt"].endswith("after a four-hour debate.")
    assert topics(cycle) == ["Transport", "Local politics"]  # replaced, not added to
    assert cycle["story_id"] == story and fresh_db.count_stories() == stories
    assert fts_ids(fresh_db, "heated") == [cycle["id"]]
    assert by_url(fresh_db, LIBRARY_HTTP)["web_url"] == LIBRARY_HTTP  # the address first shown
    # Fetched again: nothing more.
    assert counts(ingest(fresh_db, articles("churn-after.xml", later), ORIGIN, clock)) == (
        0,
        0,
        4,
        0,
    )


def test_an_edit_back_updates_again_and_labels_follow(fresh_db: Store, clock: FixedClock) -> None:
    ingest(fresh_db, articles("churn-after.xml"), ORIGIN, clock)
    report = ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    assert counts(report) == (0, 1, 3, 0)
    cycle = by_url(fresh_db, CYCLE)
    assert cycle["title"] == "Council approves new cycle lanes for city centre"
    assert topics(cycle) == ["Transport"]
    assert fts_ids(fresh_db, "heated") == []


def test_source_topics_are_stored_with_the_items_own(fresh_db: Store, clock: FixedClock) -> None:
    ingest(fresh_db, articles("churn-before.xml", topics=("Local",)), ORIGIN, clock)
    assert topics(by_url(fresh_db, CYCLE)) == ["Transport", "Local"]
    assert topics(by_url(fresh_db, MARKET)) == ["Local"]


def test_undated_and_future_items_keep_their_first_time(fresh_db: Store, clock: FixedClock) -> None:
    ingest(fresh_db, articles("dates.xml"), ORIGIN, clock)
    first = {r["url"]: r["published_ts"] for r in rows(fresh_db)}
    fetched = int(FETCHED.timestamp())
    assert first["https://dates.example.com/no-date"] == fetched
    assert first["https://dates.example.com/future"] == fetched
    later = FETCHED + dt.timedelta(days=1)
    report = ingest(fresh_db, articles("dates.xml", later), ORIGIN, clock)
    assert report.new == 0 and report.updated == 0
    assert {r["url"]: r["published_ts"] for r in rows(fresh_db)} == first


def test_a_restated_publication_time_moves_the_article(fresh_db: Store, clock: FixedClock) -> None:
    item = articles("churn-before.xml")[0]
    ingest(fresh_db, [item], ORIGIN, clock)
    moved = Article(**{**item.__dict__, "published_ts": item.published_ts + 3600})
    assert counts(ingest(fresh_db, [moved], ORIGIN, clock)) == (0, 1, 0, 0)
    assert by_url(fresh_db, CYCLE)["published_ts"] == item.published_ts + 3600


def test_the_caller_articles_are_not_changed(fresh_db: Store, clock: FixedClock) -> None:
    given = articles("churn-before.xml")
    snapshot = [a.__dict__.copy() for a in given]
    ingest(fresh_db, given, ORIGIN, clock)
    ingest(fresh_db, given, ORIGIN, clock)
    assert [a.__dict__ for a in given] == snapshot


# -- feeds and files --------------------------------------------------------------------------


def load_seed(store: Store, clock: FixedClock) -> None:
    report = Loader(store, clock).load([SEED_FILE])
    assert report.ok


def test_a_feed_never_overwrites_an_article_a_file_brought(
    fresh_db: Store, clock: FixedClock
) -> None:
    """The Google Alerts items are two of the seed file's articles: the same articles (no new
    one), their headlines the file's, the feed's labels added as a second file's would be."""
    load_seed(fresh_db, clock)
    before = fresh_db.count_articles()
    usnews = (
        "https://www.usnews.com/news/world/articles/2020-01-24/"
        "police-to-roll-out-live-facial-recognition-cameras-in-london"
    )
    seeded = by_url(fresh_db, usnews)
    feed = articles("google-alerts.xml", topics=("Alerts",))
    feed[0].title = "Police to roll out cameras (edited by the alert)"
    report = ingest(fresh_db, feed, "feed:https://www.google.com/alerts/feeds/1/2", clock)
    assert report.new == 0 and fresh_db.count_articles() == before
    row = by_url(fresh_db, usnews)
    assert row["title"] == seeded["title"] and row["source_file"] == seeded["source_file"]
    assert row["story_id"] == seeded["story_id"]
    assert "Alerts" in topics(row)


def test_an_https_item_finds_the_http_article_of_a_file(
    fresh_db: Store, clock: FixedClock, tmp_path: Path
) -> None:
    from tests.helpers import write_article

    path = write_article(tmp_path, "a.md", "Bridge opens", "http://city.example.com/bridge")
    Loader(fresh_db, clock).load([path])
    body = (
        b'<rss version="2.0"><channel><title>City</title><link>https://city.example.com/</link>'
        b"<item><title>Bridge opens</title><link>https://city.example.com/bridge?utm_source=x"
        b"</link></item></channel></rss>"
    )
    feed = parse_feed(body, "https://city.example.com/rss", FETCHED, [])
    assert ingest(fresh_db, feed.articles, "feed:city", clock).new == 0
    assert fresh_db.count_articles() == 1
    assert fresh_db.article_by_url("https://city.example.com/bridge") is not None


def test_an_item_reporting_a_seed_story_joins_it(fresh_db: Store, clock: FixedClock) -> None:
    """Grouping is the files' path: agency copy syndicated by a feed lands in the story of the
    seed file's two Reuters pieces with the same headline."""
    load_seed(fresh_db, clock)
    reuters = (
        "https://www.reuters.com/article/us-britain-data-privacy/"
        "british-watchdog-urges-caution-over-police-facial-recognition-plans-idUSKBN1ZR273"
    )
    story = story_of(fresh_db, reuters)
    report = ingest(fresh_db, articles("syndicated.xml"), "feed:worldwire", clock)
    assert report.new == 1
    wire = "https://www.worldwire.example/tech/british-watchdog-urges-caution-facial-recognition"
    assert story_of(fresh_db, wire) == story_of(fresh_db, reuters)
    members = [r["domain"] for r in rows(fresh_db, "story_id = ?", (story_of(fresh_db, wire),))]
    assert "worldwire.example" in members and members.count("reuters.com") >= 1
    assert story in {story_of(fresh_db, reuters), story_of(fresh_db, wire)}


def test_an_edited_item_stays_in_the_story_it_joined(fresh_db: Store, clock: FixedClock) -> None:
    load_seed(fresh_db, clock)
    (item,) = articles("syndicated.xml")
    ingest(fresh_db, [item], "feed:worldwire", clock)
    story = story_of(fresh_db, item.url)
    stories = fresh_db.count_stories()
    edited = Article(**{**item.__dict__, "title": item.title + " (updated)"})
    assert counts(ingest(fresh_db, [edited], "feed:worldwire", clock)) == (0, 1, 0, 0)
    assert by_url(fresh_db, item.url)["title"].endswith("(updated)")
    assert story_of(fresh_db, item.url) == story and fresh_db.count_stories() == stories


def test_many_feeds_then_one_regroup(fresh_db: Store, clock: FixedClock) -> None:
    first = ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock, regroup_after=False)
    second = ingest(fresh_db, articles("rss2.xml"), "feed:times", clock, regroup_after=False)
    assert first.grouping is None and second.grouping is None
    assert fresh_db.grouping_state()["pending"] > 0 and fresh_db.search_terms_pending() > 0
    finish(fresh_db)
    assert fresh_db.grouping_state()["pending"] == 0 and fresh_db.search_terms_pending() == 0


# -- batches ----------------------------------------------------------------------------------


def test_one_transaction_per_batch(
    fresh_db: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "BATCH_ITEMS", 2)
    monkeypatch.setattr(ingest_module, "TURN_SECONDS", 0)
    begun: list[str] = []
    real_execute = fresh_db.db.conn.execute

    class Conn:
        """The store's connection, counting BEGINs (sqlite3.Connection cannot be patched)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real_conn, name)

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.startswith("BEGIN"):
                begun.append(sql)
            return real_execute(sql, *args)

    real_conn = fresh_db.db.conn
    monkeypatch.setattr(fresh_db.db, "conn", Conn())
    written: list[int] = []
    real_write = Loader.write_article

    def write(self: Loader, *args: Any, **kwargs: Any) -> int:
        written.append(len(begun))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Loader, "write_article", write)
    ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    # four items, two per transaction: items 1-2 in the first, 3-4 in the second
    assert written == [1, 1, 2, 2]


def test_an_item_the_database_refuses_is_skipped_alone(
    fresh_db: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = Loader.write_article

    def write(self: Loader, article: Article, *args: Any, **kwargs: Any) -> int:
        real_write(self, article, *args, **kwargs)
        if article.url == STORM:  # written, then refused: its savepoint is undone
            raise sqlite3.IntegrityError("refused")
        return 0

    monkeypatch.setattr(Loader, "write_article", write)
    report = ingest(fresh_db, articles("churn-before.xml"), ORIGIN, clock)
    assert counts(report) == (3, 0, 0, 1)
    assert fresh_db.article_by_url(STORM) is None
    assert fresh_db.count_articles() == 3


def test_write_article_replace_labels_only_for_the_owner(
    fresh_db: Store, clock: FixedClock
) -> None:
    """The loader's new entry point: ``replace_labels`` replaces the owner's labels, and leaves
    another source's mention to add its own (the file rule)."""
    loader = Loader(fresh_db, clock)
    item = articles("churn-before.xml")[0]
    with fresh_db.transaction():
        loader.write_article(item, "feed:a", LoadReport(), set(), replace_labels=True)
    relabelled = Article(**{**item.__dict__, "topics": ["Roads"]})
    with fresh_db.transaction():
        loader.write_article(relabelled, "feed:b", LoadReport(), set(), replace_labels=True)
    assert topics(by_url(fresh_db, CYCLE)) == ["Transport", "Roads"]
    with fresh_db.transaction():
        loader.write_article(relabelled, "feed:a", LoadReport(), set(), replace_labels=True)
    assert topics(by_url(fresh_db, CYCLE)) == ["Roads"]
    with fresh_db.transaction():
        loader.write_article(item, "feed:a", LoadReport(), set())  # the file rule: a union
    assert topics(by_url(fresh_db, CYCLE)) == ["Roads", "Transport"]
