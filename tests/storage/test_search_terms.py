"""The search index's vocabulary as a table (m012, storage.vocabulary): ``search_terms`` holds
what ``articles_fts_vocab`` (FTS5's own, always current) holds, once the articles written since
are folded in, whatever was inserted, changed or deleted; a look-up folds a few itself and never
waits for another writer."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

import storage.vocabulary as vocabulary
from storage.migrations import migrations
from storage.store import SEQ_SPAN, Store, time_key

T = 1_580_036_220  # 2020-01-26T10:57:00Z


def row(n: int, title: str, excerpt: str = "", **more) -> dict:
    article_id = time_key(T + n)
    return {
        "id": article_id,
        "url": f"https://a.example/{n}",
        "web_url": f"https://a.example/{n}",
        "title": title,
        "excerpt": excerpt,
        "provider": "Contoso Daily",
        "domain": "a.example",
        "published_ts": article_id // SEQ_SPAN,
        "topics": '["Power Apps"]',
        "story_id": article_id,
        **more,
    }


def table(store: Store) -> dict[str, int]:
    return {r["term"]: r["docs"] for r in store._rows("SELECT term, docs FROM search_terms")}


def fts5vocab(store: Store) -> dict[str, int]:
    return {r["term"]: r["doc"] for r in store._rows("SELECT term, doc FROM articles_fts_vocab")}


TEXTS = [
    ("Kubernetes clusters running on Azure", "Running containers, café prices &amp; more"),
    ("Copilot arrives in Power Apps", "Makers build apps with Copilot"),
    ("Azure outage hits Teams", None),
    ("Dataverse gets faster", "Faster queries for bigger tables"),
]


@pytest.fixture
def loaded(fresh_db: Store) -> Store:
    for n, (title, excerpt) in enumerate(TEXTS):
        fresh_db.insert_article(row(n, title, excerpt))
    return fresh_db


def test_a_new_database_starts_empty_and_notes_each_article_written(fresh_db):
    assert table(fresh_db) == {} and fresh_db.search_terms_pending() == 0
    fresh_db.insert_article(row(0, "Kubernetes clusters"))
    assert fresh_db.search_terms_pending() == 1 and table(fresh_db) == {}


def test_a_refresh_makes_the_table_the_indexs_vocabulary(loaded):
    assert loaded.refresh_search_terms() == len(TEXTS)
    assert table(loaded) == fts5vocab(loaded)
    assert table(loaded)["kubernet"] == 1 and table(loaded)["azur"] == 2  # the index's stems
    assert loaded.search_terms_pending() == 0 and loaded.refresh_search_terms() == 0


@pytest.mark.parametrize("share", [0.0, 1e9], ids=["rebuilt", "folded"])
def test_changes_and_deletions_are_taken_in_whether_folded_or_rebuilt(loaded, monkeypatch, share):
    monkeypatch.setattr(vocabulary, "REBUILD_SHARE", share)
    loaded.refresh_search_terms()
    first, second, third = (time_key(T + n) for n in range(3))
    loaded.update_article(first, {"title": "Kubernetes leaves Azure", "excerpt": "Gone"})
    loaded.update_article(first, {"title": "Kubernetes leaves for good"})  # twice, unfolded
    loaded._write("DELETE FROM articles WHERE id = ?", (second,))
    loaded.update_article(third, {"provider": "Fabrikam"})
    loaded.insert_article(row(9, "Zorbaxite found", "in Contoso"))
    loaded._write("DELETE FROM articles WHERE id = ?", (time_key(T + 9),))  # never counted
    loaded.insert_article(row(10, "Quexolith found"))
    assert loaded.refresh_search_terms() == 5
    assert table(loaded) == fts5vocab(loaded)
    assert "copilot" not in table(loaded) and "zorbaxit" not in table(loaded)
    assert table(loaded)["quexolith"] == 1 and table(loaded)["azur"] == 1


def test_a_look_up_folds_a_few_pending_articles_itself(loaded, monkeypatch):
    monkeypatch.setattr(vocabulary, "FOLD_INLINE", 3)
    assert loaded.vocabulary("dat", 2, 20) == []  # the first three: not the fourth's terms yet
    assert loaded.search_terms_pending() == 1 and table(loaded)["contoso"] == 3
    assert loaded.vocabulary("dat", 2, 20) == [("datavers", 1)]
    assert loaded.search_terms_pending() == 0 and table(loaded) == fts5vocab(loaded)


def test_whether_anything_matches(loaded):
    assert loaded.matches_any('"kubernetes"') and loaded.matches_any('"running"')
    assert loaded.matches_any('"azure outage"') and not loaded.matches_any('"outage azure"')
    assert not loaded.matches_any('"kubernetis"')
    loaded._write("DELETE FROM articles WHERE id = ?", (time_key(T),))
    assert not loaded.matches_any('"kubernetes"')


def test_a_look_up_reads_a_range_of_terms_of_a_length(loaded):
    loaded.refresh_search_terms()
    assert loaded.vocabulary("az", 2, 10) == [("azur", 2)]
    assert loaded.vocabulary("ru", 2, 10) == [("run", 1)]
    assert loaded.vocabulary("ku", 2, 7) == []  # "kubernet" is 8 letters
    assert loaded.vocabulary("ku", 8, 8) == [("kubernet", 1)]
    assert loaded.vocabulary("", 1, 20) == []


def test_a_look_up_does_not_wait_for_another_writer(loaded, tmp_path):
    loaded.refresh_search_terms()
    loaded.insert_article(row(20, "Zorbaxite found"))
    other = sqlite3.connect(loaded.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a load, writing
    try:
        assert loaded.vocabulary("zo", 2, 20) == []  # what the table holds now
        assert loaded.search_terms_pending() == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert loaded.vocabulary("zo", 2, 20) == [("zorbaxit", 1)]


def test_a_look_up_inside_a_transaction_leaves_it_alone(loaded):
    with loaded.transaction():
        loaded.vocabulary("ku", 2, 20)
        assert loaded.search_terms_pending() == len(TEXTS)
    assert loaded.search_terms_pending() == len(TEXTS)


def test_a_rolled_back_refresh_leaves_things_as_they_were(loaded, monkeypatch):
    def boom(self, texts_sql, bound):
        raise RuntimeError("boom")

    monkeypatch.setattr(vocabulary.VocabularyMixin, "_counted_terms", boom)
    with pytest.raises(RuntimeError):
        loaded.vocabulary("ku", 2, 20)
    assert loaded.search_terms_pending() == len(TEXTS) and table(loaded) == {}
    monkeypatch.undo()
    loaded.refresh_search_terms()
    assert table(loaded) == fts5vocab(loaded)


def test_an_older_database_gets_the_vocabulary_of_its_articles(tmp_path):
    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m012_search_terms")
    for n, (title, excerpt) in enumerate(TEXTS):
        db["articles"].insert(row(n, title, excerpt))
    db.conn.commit()
    db.close()
    store = Store(tmp_path / "old.db")
    try:
        assert table(store) == fts5vocab(store) != {}
        assert store.search_terms_pending() == 0
    finally:
        store.close()
