"""Correcting a word that matches nothing (bot.core.correct) over the vocabulary table
(``search_terms``, storage.vocabulary): the nearest term, a frequent one before a rare one as
near, never a term the index no longer holds, and a word of an article just written."""

from __future__ import annotations

import sqlite3

import pytest

from bot.core.correct import correct, nearest_term
from bot.core.loader import Loader
from bot.core.query import parse
from storage.store import SEQ_SPAN, Store, time_key
from tests.conftest import SEED, FixedClock

T = 1_580_036_220  # 2020-01-26T10:57:00Z


def add(store: Store, n: int, title: str) -> int:
    article_id = time_key(T + n)
    store.insert_article(
        {
            "id": article_id,
            "url": f"https://a.example/{n}",
            "web_url": f"https://a.example/{n}",
            "title": title,
            "excerpt": "",
            "provider": "Contoso",
            "domain": "a.example",
            "published_ts": article_id // SEQ_SPAN,
            "topics": "[]",
            "story_id": article_id,
        }
    )
    return article_id


@pytest.fixture
def store(fresh_db: Store) -> Store:
    add(fresh_db, 0, "Zorbax mines open")
    for n in range(1, 6):
        add(fresh_db, n, f"Zorbix prices {n}")
    add(fresh_db, 9, "Kubernetes clusters grow")
    fresh_db.refresh_search_terms()
    return fresh_db


def test_a_typo_is_corrected_to_the_nearest_term(store):
    assert nearest_term(store, "kubernetis") == "kubernet"  # the index's stem
    assert nearest_term(store, "clustres") == "cluster"


@pytest.mark.parametrize(("frequent", "rare"), [("zorbix", "zorbax"), ("zorbax", "zorbix")])
def test_of_two_terms_as_near_the_more_frequent_wins(fresh_db, frequent, rare):
    add(fresh_db, 0, f"{rare.capitalize()} mines open")
    for n in range(1, 6):
        add(fresh_db, n, f"{frequent.capitalize()} prices {n}")
    # "zorbox" is one letter from each (rapidfuzz ratio 83 to both).
    assert nearest_term(fresh_db, "zorbox") == frequent


def test_nothing_near_enough_and_a_typo_in_the_first_two_letters_are_not_corrected(store):
    assert nearest_term(store, "zqxwvy") is None
    assert nearest_term(store, "ozrbix") is None  # the range is the first two letters'


def test_a_term_the_index_no_longer_holds_is_never_offered(store, tmp_path):
    for n in range(1, 6):  # the frequent "zorbix" goes
        store._write("DELETE FROM articles WHERE id = ?", (time_key(T + n),))
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a load writing: the table cannot catch up now
    try:
        assert store.vocabulary("zo", 2, 10) == [("zorbax", 1), ("zorbix", 5)]  # stale
        assert nearest_term(store, "zorbox") == "zorbax"  # zorbix finds nothing: skipped
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_word_of_an_article_just_written_is_found(store):
    add(store, 20, "Quexolith discovered")
    assert nearest_term(store, "quexolitt") == "quexolith"


def test_a_load_leaves_the_vocabulary_current(fresh_db):
    assert Loader(fresh_db, FixedClock()).load([SEED]).ok
    assert fresh_db.search_terms_pending() == 0
    terms = fresh_db._rows("SELECT term, docs AS n FROM search_terms ORDER BY term")
    assert terms == fresh_db._rows("SELECT term, doc AS n FROM articles_fts_vocab ORDER BY term")
    assert len(terms) > 100


def test_correct_replaces_only_the_words_that_match_nothing(store):
    query = parse("zorbox kubernetes clustres -zorbax")
    assert correct(store, query) == {"zorbox": "zorbix", "clustres": "cluster"}
    assert [[t.words for t in g] for g in query.groups] == [
        [["zorbix"]],
        [["kubernetes"]],
        [["cluster"]],
    ]
    assert [t.words for t in query.negated] == [["zorbax"]]  # an excluded word: left alone


def test_many_terms_under_two_letters_are_scored(fresh_db):
    # Hundreds of terms in one range (rapidfuzz's process.extract scores them together).
    words = [f"qu{a}{b}{c}ma" for a in "aeiou" for b in "bdfgklmnprst" for c in "aeiou"]
    for n, word in enumerate(words):
        add(fresh_db, n, f"{word.capitalize()} report")
    fresh_db.refresh_search_terms()
    assert len(fresh_db.vocabulary("qu", 2, 10)) == len(words)
    assert nearest_term(fresh_db, "quokemma") == "quokema"
    assert nearest_term(fresh_db, "quzzzzzz") is None
