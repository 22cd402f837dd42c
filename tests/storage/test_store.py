"""The store: schema by migrations, FTS5 kept in step, transactions, time keys."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from storage.migrations import FTS_COLUMNS, migrations
from storage.store import SEQ_SPAN, Store, default_db_path, time_key
from tests.helpers import dump

T = 1_580_036_220  # 2020-01-26T10:57:00Z


def row(article_id: int, url: str, title: str, **more) -> dict:
    return {
        "id": article_id,
        "url": url,
        "web_url": url,
        "title": title,
        "excerpt": "",
        "provider": "P",
        "domain": "p.example",
        "published_ts": article_id // SEQ_SPAN,
        "topics": "[]",
        "story_id": article_id,
        **more,
    }


def test_a_new_database_has_the_schema(fresh_db):
    tables = set(fresh_db.db.table_names())
    assert {"articles", "url_aliases", "articles_fts", "_sqlite_migrations"} <= tables
    assert migrations.pending(fresh_db.db) == []
    assert [m.name for m in migrations.applied(fresh_db.db)][0] == "m001_articles"
    sql = fresh_db._scalar("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")
    assert "fts5" in sql.lower() and "porter" in sql.lower()
    assert fresh_db.db["articles_fts"].columns_dict.keys() >= set(FTS_COLUMNS)
    assert fresh_db._scalar("PRAGMA journal_mode") == "wal"


def test_reopening_applies_nothing_again(tmp_path):
    first = Store(tmp_path / "x.db")
    first.insert_article(row(time_key(T), "https://a.example/", "Kept"))
    first.db.conn.commit()
    before = dump(first)
    first.close()
    again = Store(tmp_path / "x.db")
    assert dump(again) == before
    assert again.count_articles() == 1
    again.close()


def test_the_database_folder_is_never_created(tmp_path):
    """A typo in a folder must not become a tree of folders and an empty database (issue 14):
    the configuration refuses such a path in one line, and the store never makes one."""
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path / "a" / "b" / "news.db")
    assert not (tmp_path / "a").exists()


def test_default_db_path(monkeypatch):
    monkeypatch.delenv("NEWSBOT_DB", raising=False)
    assert default_db_path() == "newsbot.db"
    monkeypatch.setenv("NEWSBOT_DB", "/data/x.db")
    assert default_db_path() == "/data/x.db"


def test_full_text_index_follows_inserts_updates_and_deletes(fresh_db):
    a = time_key(T)
    with fresh_db.transaction():
        fresh_db.insert_article(row(a, "https://a.example/", "Watchdog urges caution"))
    assert [i for i, _ in fresh_db.match_newest('"watchdog"', 10)] == [a]
    with fresh_db.transaction():
        assert fresh_db.update_article(a, {"title": "Regulator urges caution"})
        assert not fresh_db.update_article(a, {"title": "Regulator urges caution"})  # no change
    assert fresh_db.match_newest('"watchdog"', 10) == []
    assert [i for i, _ in fresh_db.match_newest('"regulator"', 10)] == [a]
    with fresh_db.transaction():
        fresh_db._write("DELETE FROM articles WHERE id = ?", (a,))
    assert fresh_db.match_newest('"regulator"', 10) == []


def test_match_newest_walks_newest_first_and_stops_at_the_window(fresh_db):
    with fresh_db.transaction():
        for i in range(10):
            fresh_db.insert_article(
                row(time_key(T + i * 60), f"https://a.example/{i}", f"Story {i}")
            )
    ids = [i for i, _ in fresh_db.match_newest('"story"', 3)]
    assert ids == [time_key(T + 9 * 60), time_key(T + 8 * 60), time_key(T + 7 * 60)]


def test_a_headline_word_weighs_more_than_an_excerpt_word(fresh_db):
    with fresh_db.transaction():
        fresh_db.insert_article(
            row(
                time_key(T),
                "https://a.example/1",
                "Moscow cameras",
                excerpt="A long piece about surveillance",
            )
        )
        fresh_db.insert_article(
            row(
                time_key(T + 1),
                "https://a.example/2",
                "Surveillance cameras",
                excerpt="A long piece about Moscow",
            )
        )
    scores = dict(fresh_db.match_newest('"moscow"', 10))
    assert scores[time_key(T)] < scores[time_key(T + 1)]  # bm25: lower is better


def test_a_transaction_is_all_or_nothing(fresh_db):
    with pytest.raises(RuntimeError), fresh_db.transaction():
        fresh_db.insert_article(row(time_key(T), "https://a.example/", "Gone"))
        raise RuntimeError("boom")
    assert fresh_db.count_articles() == 0
    assert fresh_db.match_newest('"gone"', 10) == []


def test_a_nested_transaction_is_a_savepoint(fresh_db):
    with fresh_db.transaction():
        fresh_db.insert_article(row(time_key(T), "https://a.example/1", "Kept"))
        with pytest.raises(sqlite3.IntegrityError), fresh_db.transaction():
            fresh_db.insert_article(row(time_key(T) + 1, "https://a.example/2", "Undone"))
            fresh_db.insert_article(row(time_key(T) + 2, "https://a.example/1", "Same url"))
        fresh_db.insert_article(row(time_key(T) + 3, "https://a.example/3", "Also kept"))
    assert {r["title"] for r in fresh_db.articles([time_key(T) + i for i in range(4)])} == {
        "Kept",
        "Also kept",
    }


def test_addresses_and_aliases(fresh_db):
    a = time_key(T)
    with fresh_db.transaction():
        fresh_db.insert_article(row(a, "https://a.example/x", "X"))
        fresh_db.add_aliases(a, ["https://a.example/x.amp", "https://a.example/x.amp"])
    assert (
        fresh_db.article_id_for_urls(["https://nowhere.example/", "https://a.example/x.amp"]) == a
    )
    assert fresh_db.article_by_url("https://a.example/x")["title"] == "X"
    assert fresh_db.article_by_url("https://nowhere.example/") is None
    assert fresh_db._scalar("SELECT count(*) FROM url_aliases") == 1


def test_time_keys_order_articles_by_publication(fresh_db):
    assert time_key(T + 1) - time_key(T) == SEQ_SPAN
    with fresh_db.transaction():
        first = fresh_db.new_article_id(T)
        assert first == time_key(T)
        fresh_db.insert_article(row(first, "https://a.example/1", "One"))
        second = fresh_db.new_article_id(T)  # the same second: the next sequence number
        assert second == first + 1
        fresh_db.insert_article(row(second, "https://a.example/2", "Two"))
        assert fresh_db.new_article_id(T - 1) < first < second < fresh_db.new_article_id(T + 1)


def test_a_full_second_spills_into_free_keys(fresh_db):
    with fresh_db.transaction():
        fresh_db.db.conn.executemany(
            "INSERT INTO articles (id, url, title) VALUES (?, ?, ?)",
            [(time_key(T, i), f"https://a.example/{i}", "t") for i in range(SEQ_SPAN)],
        )
        spill = fresh_db.new_article_id(T)
    assert spill == time_key(T + 1)
    assert fresh_db._scalar("SELECT count(*) FROM articles WHERE id = ?", (spill,)) == 0


def test_stories(fresh_db):
    ids = [time_key(T, i) for i in range(3)]
    with fresh_db.transaction():
        for i, a in enumerate(ids):
            fresh_db.insert_article(row(a, f"https://a.example/{i}", f"T{i}", quality=i))
        fresh_db.merge_stories(ids[0], [ids[1], ids[0]])
        fresh_db.set_story(ids[2], ids[0])
    assert fresh_db.count_stories() == 1
    members = fresh_db.story_members([ids[0]])
    assert [m["id"] for m in members] == [ids[2], ids[1], ids[0]]  # best quality first


def test_the_store_can_be_shared_between_threads(fresh_db):
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                with fresh_db.transaction():
                    a = fresh_db.new_article_id(T + n)
                    fresh_db.insert_article(row(a, f"https://a.example/{n}/{i}", f"T {n} {i}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and fresh_db.count_articles() == 80
