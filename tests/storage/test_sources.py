"""Sources as data (issue 13, item 1): one source per normalised address, polled in due
order, with what each poll found kept for its health."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from storage.sources import BadAddress, SourceFile, kind_of, normalise_address
from storage.store import Store, time_key

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class V:  # the shape of bot.feeds.fetch.Validators
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


def add(store: Store, address: str, **kw) -> int:
    kind = kw.pop("kind", kind_of(address))
    source, created = store.add_source(
        kind, address, kw.pop("topics", []), kw.pop("added_by", "cli"), kw.pop("now", NOW), 1800
    )
    assert created
    return source.id


def article(store: Store, n: int) -> int:
    aid = time_key(1_700_000_000 + n)
    store.insert_article({"id": aid, "url": f"https://x.example/{n}", "title": f"t{n}"})
    return aid


# -- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("HTTPS://Example.COM/Feed.xml#top", "https://example.com/Feed.xml"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/rss?a=B", "http://example.com/rss?a=B"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
    ],
)
def test_feed_addresses_are_normalised(given, normal):
    assert kind_of(given) == "feed"
    assert normalise_address("feed", given) == normal


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("ftp://example.com/feed", "not an http(s) address"),
        ("file:///etc/passwd", "not an http(s) address"),
        ("javascript://alert(1)", "not an http(s) address"),
        ("http://", "not a valid address"),
        ("http://exa mple.com/", "not a valid address"),
        ("http://example.com:99999/", "not a valid address"),
        ("https://user:secret@example.com/feed", "user name or password"),
    ],
)
def test_bad_feed_addresses_are_refused_in_one_line(given, says):
    with pytest.raises(BadAddress) as err:
        normalise_address("feed", given)
    assert says in str(err.value) and "\n" not in str(err.value)
    assert "secret" not in str(err.value)


def test_folder_addresses_are_absolute_and_resolved(tmp_path, monkeypatch):
    (tmp_path / "news").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "news")
    monkeypatch.chdir(tmp_path)
    real = str((tmp_path / "news").resolve())
    assert kind_of("news") == "folder" and kind_of("/srv/news") == "folder"
    for given in ("news", "./news/", str(tmp_path / "link"), f"{tmp_path}/news/../news"):
        assert normalise_address("folder", given) == real
    with pytest.raises(BadAddress):
        normalise_address("folder", "  ")
    with pytest.raises(BadAddress):
        normalise_address("pigeon", "x")


# -- the list --------------------------------------------------------------------------------


def test_one_source_per_address_however_it_is_written(fresh_db):
    first, created = fresh_db.add_source(
        "feed", "https://Example.com/feed#x", ["AI", " ai ", "Cloud", ""], "T1:U1", NOW, 1800
    )
    assert created
    assert (first.kind, first.address, first.topics) == (
        "feed",
        "https://example.com/feed",
        ("AI", "Cloud"),
    )
    assert (first.added_by, first.added_at, first.state) == ("T1:U1", NOW, "active")
    assert (first.interval_seconds, first.next_poll_at) == (1800, NOW)  # due at once
    again, created = fresh_db.add_source(
        "feed", "HTTPS://EXAMPLE.COM/feed", ["Other"], "T2:U9", NOW + MIN, 600
    )
    assert not created and again == first  # nothing changed
    assert len(fresh_db.sources()) == 1
    # the table itself refuses a second row for an address
    with pytest.raises(sqlite3.IntegrityError):
        fresh_db._write(
            "INSERT INTO sources (kind, address, added_by, added_at, interval_seconds) "
            "VALUES ('feed', 'https://example.com/feed', 'x', 'y', 60)"
        )


def test_a_title_until_the_feed_gives_its_own(fresh_db):
    s, _ = fresh_db.add_source("feed", "https://a.example/", [], "cli", NOW, 60, title="From OPML")
    assert s.title == "From OPML"
    got = fresh_db.record_success(s.id, V(), NOW + MIN, NOW, 0, "The Feed's Own")
    assert got.title == "The Feed's Own"


def test_add_refuses_bad_addresses_and_intervals(fresh_db):
    with pytest.raises(BadAddress):
        fresh_db.add_source("feed", "gopher://x", [], "cli", NOW, 1800)
    with pytest.raises(ValueError):
        fresh_db.add_source("feed", "https://x.example/", [], "cli", NOW, 0)
    assert fresh_db.sources() == []


def test_look_up_list_and_remove(fresh_db, tmp_path):
    a = add(fresh_db, "https://a.example/rss")
    b = add(fresh_db, str(tmp_path), topics=["Local"])
    assert [s.id for s in fresh_db.sources()] == [a, b]
    assert fresh_db.source(b).kind == "folder"
    assert fresh_db.source(b).address == str(tmp_path.resolve())
    assert fresh_db.source_by_address("HTTPS://A.EXAMPLE/rss#frag").id == a
    assert fresh_db.source_by_address(str(tmp_path) + "/.").id == b
    assert fresh_db.source_by_address("https://nowhere.example/") is None
    assert fresh_db.source_by_address("ftp://a.example/rss") is None
    assert fresh_db.source(999) is None
    assert fresh_db.set_state(a, "paused")
    assert [s.id for s in fresh_db.sources("paused")] == [a]
    assert not fresh_db.set_state(999, "paused")
    with pytest.raises(ValueError):
        fresh_db.set_state(a, "sleeping")
    assert fresh_db.remove_source(a) and not fresh_db.remove_source(a)
    assert [s.id for s in fresh_db.sources()] == [b]


def test_removing_a_source_forgets_its_items_and_files_but_keeps_the_articles(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    ids = [article(fresh_db, n) for n in range(3)]
    fresh_db.note_source_items(s, ids, NOW)
    fresh_db.save_source_files(s, [SourceFile("a.md", 1, 2, "h")], NOW)
    fresh_db.remove_source(s)
    assert fresh_db._scalar("SELECT count(*) FROM source_items") == 0
    assert fresh_db._scalar("SELECT count(*) FROM source_files") == 0
    assert fresh_db.count_articles() == 3


def test_due_sources_longest_overdue_first_active_only(fresh_db):
    ids = [add(fresh_db, f"https://s{n}.example/") for n in range(5)]
    never = add(fresh_db, "https://never.example/")
    fresh_db._write("UPDATE sources SET next_poll_at = NULL WHERE id = ?", (never,))
    # s0 due in 10 min, s1 due 5 min ago, s2 due 20 min ago, s3 paused and overdue, s4 gone
    for sid, minutes in zip(ids[:3], (10, -5, -20), strict=True):
        fresh_db.record_not_modified(sid, NOW + minutes * MIN, NOW - 30 * MIN)
    fresh_db.record_not_modified(ids[3], NOW - 60 * MIN, NOW - 90 * MIN)
    fresh_db.set_state(ids[3], "paused")
    fresh_db.record_gone(ids[4], NOW - 40 * MIN)
    assert [s.id for s in fresh_db.due_sources(NOW, 10)] == [never, ids[2], ids[1]]
    assert [s.id for s in fresh_db.due_sources(NOW, 2)] == [never, ids[2]]
    assert [s.id for s in fresh_db.due_sources(NOW + 10 * MIN, 10)][-1] == ids[0]
    # exactly due counts as due, a second before does not
    assert ids[0] not in [s.id for s in fresh_db.due_sources(NOW + 10 * MIN - MIN / 60, 10)]


# -- what a poll found -----------------------------------------------------------------------


def test_success_failure_and_back(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    got = fresh_db.record_success(s, V('"e1"', "Wed, 01 May 2024", "h1"), NOW + 30 * MIN, NOW, 0)
    assert (got.etag, got.last_modified, got.body_hash) == ('"e1"', "Wed, 01 May 2024", "h1")
    assert (got.last_success_at, got.next_poll_at, got.title) == (NOW, NOW + 30 * MIN, None)
    assert got.last_new_item_at is None  # nothing new yet
    t1 = NOW + 30 * MIN
    got = fresh_db.record_failure(s, "timed out", t1 + 5 * MIN, t1)
    assert (got.consecutive_failures, got.last_error, got.last_error_at) == (1, "timed out", t1)
    assert got.failing and got.failing_since == t1
    assert got.etag == '"e1"'  # validators stay
    t2 = t1 + 10 * MIN
    got = fresh_db.record_failure(s, "server error (503)", t2 + 20 * MIN, t2)
    assert (got.consecutive_failures, got.failing_since, got.last_error) == (
        2,
        t1,
        "server error (503)",
    )
    fresh_db.set_notified(s, "failing", t2)
    assert fresh_db.source(s).notified_failing_at == t2
    t3 = t2 + 30 * MIN
    got = fresh_db.record_success(
        s, V(None, None, "h2"), t3 + 60 * MIN, t3, 4, "A Feed", interval_seconds=3600
    )
    assert (got.consecutive_failures, got.failing_since, got.notified_failing_at) == (0, None, None)
    assert (got.title, got.interval_seconds, got.body_hash, got.etag) == (
        "A Feed",
        3600,
        "h2",
        None,
    )
    assert got.last_new_item_at == t3 and got.last_success_at == t3
    assert got.last_error == "server error (503)"  # the last error stays, with its time
    got = fresh_db.record_success(s, V(), t3 + 2 * 60 * MIN, t3 + 60 * MIN, 0)
    assert got.title == "A Feed" and got.interval_seconds == 3600  # kept when not given


def test_not_modified_is_a_success_with_nothing_new(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    fresh_db.record_success(s, V('"e"', None, "h"), NOW + MIN, NOW, 2)
    fresh_db.record_failure(s, "timed out", NOW + 2 * MIN, NOW + MIN)
    got = fresh_db.record_not_modified(s, NOW + 40 * MIN, NOW + 10 * MIN)
    assert (got.consecutive_failures, got.last_success_at, got.next_poll_at) == (
        0,
        NOW + 10 * MIN,
        NOW + 40 * MIN,
    )
    assert (got.etag, got.body_hash, got.last_new_item_at) == ('"e"', "h", NOW)


def test_gone_is_kept_and_no_longer_due(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    got = fresh_db.record_gone(s, NOW)
    assert (got.state, got.last_error, got.last_error_at, got.next_poll_at) == (
        "gone",
        "gone (410)",
        NOW,
        None,
    )
    assert fresh_db.due_sources(NOW + dt.timedelta(days=30), 10) == []


def test_recording_on_a_removed_source_is_harmless(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    fresh_db.remove_source(s)
    assert fresh_db.record_success(s, V(), NOW, NOW, 1) is None
    assert fresh_db.record_failure(s, "timed out", NOW, NOW) is None
    assert fresh_db.record_not_modified(s, NOW, NOW) is None
    assert fresh_db.record_gone(s, NOW) is None
    assert fresh_db.note_moved(s, "https://b.example/", 1) is False


def test_a_permanent_redirect_moves_the_address_after_consecutive_sightings(fresh_db):
    s = add(fresh_db, "http://old.example/feed")
    assert not fresh_db.note_moved(s, "https://NEW.example/feed", 3)
    assert not fresh_db.note_moved(s, "https://new.example/feed#x", 3)
    got = fresh_db.source(s)
    assert (got.moved_to, got.moved_count) == ("https://new.example/feed", 2)
    assert not fresh_db.note_moved(s, None, 3)  # a fetch without it: the run ends
    assert (fresh_db.source(s).moved_to, fresh_db.source(s).moved_count) == (None, 0)
    assert not fresh_db.note_moved(s, "https://new.example/feed", 3)
    assert not fresh_db.note_moved(s, "https://other.example/feed", 3)  # another target: 1
    assert fresh_db.source(s).moved_count == 1
    for _ in range(2):
        assert not fresh_db.note_moved(s, "https://new.example/feed", 3)
    assert fresh_db.note_moved(s, "https://new.example/feed", 3)
    got = fresh_db.source(s)
    assert (got.address, got.moved_to, got.moved_count) == ("https://new.example/feed", None, 0)
    assert fresh_db.source_by_address("http://old.example/feed") is None


def test_a_redirect_to_another_sources_address_does_not_move_it(fresh_db):
    s = add(fresh_db, "http://old.example/feed")
    other = add(fresh_db, "https://new.example/feed")
    for _ in range(5):
        assert not fresh_db.note_moved(s, "https://new.example/feed", 2)
    assert fresh_db.source(s).address == "http://old.example/feed"
    assert fresh_db.source(other).address == "https://new.example/feed"
    assert not fresh_db.note_moved(s, "ftp://new.example/feed", 1)  # not a feed address


# -- items -----------------------------------------------------------------------------------


def test_source_items_count_the_last_7_days_once_per_article(fresh_db):
    a = add(fresh_db, "https://a.example/rss")
    b = add(fresh_db, "https://b.example/rss")
    ids = [article(fresh_db, n) for n in range(6)]
    old = NOW - dt.timedelta(days=8)
    assert fresh_db.note_source_items(a, ids[:2], old) == 2
    assert fresh_db.note_source_items(a, ids[:4], NOW - dt.timedelta(days=1)) == 2
    assert fresh_db.note_source_items(a, ids[:4], NOW) == 0  # seen before: first seen kept
    assert fresh_db.note_source_items(a, [], NOW) == 0
    assert fresh_db.note_source_items(b, ids, NOW) == 6  # the same articles, from another
    assert fresh_db.items_last_7_days(a, NOW) == 2
    assert fresh_db.items_last_7_days(b, NOW) == 6
    assert fresh_db.items_last_7_days(a, NOW + dt.timedelta(days=7)) == 0
    assert fresh_db.recent_item_counts(NOW) == {a: 2, b: 6}
    assert fresh_db.source(a).last_new_item_at == NOW - dt.timedelta(days=1)
    # an article deleted takes its rows with it
    fresh_db._write("DELETE FROM articles WHERE id = ?", (ids[3],))
    assert fresh_db.items_last_7_days(a, NOW) == 1


def test_new_items_end_a_quiet_notice(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    fresh_db.set_notified(s, "quiet", NOW)
    assert fresh_db.source(s).notified_quiet_at == NOW
    fresh_db.note_source_items(s, [article(fresh_db, 1)], NOW + MIN)
    assert fresh_db.source(s).notified_quiet_at is None
    fresh_db.set_notified(s, "quiet", NOW + 2 * MIN)
    fresh_db.record_success(s, V(), NOW + 60 * MIN, NOW + 3 * MIN, 0)
    assert fresh_db.source(s).notified_quiet_at == NOW + 2 * MIN  # nothing new: still quiet
    fresh_db.record_success(s, V(), NOW + 60 * MIN, NOW + 4 * MIN, 1)
    assert fresh_db.source(s).notified_quiet_at is None


def test_items_of_an_unknown_article_are_refused(fresh_db):
    s = add(fresh_db, "https://a.example/rss")
    with pytest.raises(sqlite3.IntegrityError):
        fresh_db.note_source_items(s, [12345], NOW)
    assert fresh_db.items_last_7_days(s, NOW) == 0


# -- folder files ----------------------------------------------------------------------------


def test_source_files_are_saved_rewritten_and_forgotten(fresh_db, tmp_path):
    s = add(fresh_db, str(tmp_path))
    other = add(fresh_db, str(tmp_path / "other"))
    fresh_db.save_source_files(
        s, [SourceFile("a.md", 10, 111, "ha", 1), SourceFile("b.md", 20, None, "hb", 0, "bad")], NOW
    )
    fresh_db.save_source_files(other, [SourceFile("a.md", 1, 1, "x")], NOW)
    fresh_db.save_source_files(s, [SourceFile("a.md", 11, 222, "ha2", 3)], NOW)
    assert fresh_db.source_files(s) == {
        "a.md": SourceFile("a.md", 11, 222, "ha2", 3),
        "b.md": SourceFile("b.md", 20, None, "hb", 0, "bad"),
    }
    fresh_db.forget_source_files(s, ["b.md", "nothing.md"])
    assert list(fresh_db.source_files(s)) == ["a.md"]
    assert list(fresh_db.source_files(other)) == ["a.md"]
