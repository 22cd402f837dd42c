"""Topic labels as evidence, not as matches (issue 12, item 3).

An article's own labels (its main files', or a related entry's own) are indexed; the labels a
related entry only inherits from the file listing it are kept apart, never indexed, and never
added up across parents. A database written before m010 is cleaned by loading its files again.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.core.loader import Loader, LoadReport, iter_files
from bot.core.query import to_fts
from bot.core.search import search
from storage.migrations import migrations
from storage.store import Store
from tests.conftest import NOW, FixedClock
from tests.helpers import article, by_url, dump, front, rows, topics, write

N = "https://n.example"
AZURE = f"{N}/azure-outage"  # the popular one: a file of its own, listed by every other file
DUBAI = f"{N}/dubai"  # only ever listed, never a file's main article; no label in its text
LEDGER = f"{N}/ledger"  # only ever listed, and its own text says "blockchain"
ROBOTS = f"{N}/robots"  # only ever listed, with labels of its own (rare)


def inherited(row: dict) -> list[str]:
    return json.loads(row["inherited_topics"])


def load(store: Store, *paths: Path) -> LoadReport:
    return Loader(store, FixedClock()).load(paths)


def listed(title: str, url: str, **more) -> dict:
    return article(title, url, excerpt=f"{title}, as reported.", **more)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Four files: the popular article's own (Azure), and three with other labels that list it
    beside two articles of their own."""
    folder = tmp_path / "in"
    folder.mkdir()
    outage = listed("Cloud outage takes down Teams", AZURE)
    dubai = listed("Regional data centre opens in Dubai", DUBAI)
    write(folder, "0-azure.md", front(**outage, topics=["Azure"]))
    write(
        folder,
        "1-vision.md",
        front(
            **listed("Contoso ships a vision model", f"{N}/vision"),
            topics=["AI", "Computer Vision"],
            related=[outage, dubai, listed("Warehouse robots", ROBOTS, topics=["Robots"])],
        ),
    )
    write(
        folder,
        "2-chain.md",
        front(
            **listed("Fabrikam's payments network goes live", f"{N}/payments"),
            topics=["Blockchain"],
            related=[
                outage,
                dubai,
                listed("Shipping firms test a blockchain ledger", LEDGER),
                listed("Warehouse robots", ROBOTS, topics=["Drones"]),
            ],
        ),
    )
    write(
        folder,
        "3-security.md",
        front(
            **listed("Phishing wave hits banks", f"{N}/phishing"),
            topics=["Security"],
            related=[outage, dubai],
        ),
    )
    return folder


def test_a_related_entry_listed_by_several_parents_gathers_no_labels(fresh_db, corpus):
    load(fresh_db, corpus)
    dubai, outage = by_url(fresh_db, DUBAI), by_url(fresh_db, AZURE)
    # no labels of its own; the first parent's are kept apart, the others' never added
    assert topics(dubai) == []
    assert inherited(dubai) == ["AI", "Computer Vision"]
    # listed by three files: its own file's label only
    assert topics(outage) == ["Azure"]
    assert inherited(outage) == []
    # a related entry's own labels are its own, from every file that gives some
    robots = by_url(fresh_db, ROBOTS)
    assert (topics(robots), inherited(robots)) == (["Robots", "Drones"], [])


def found(store: Store, query: str) -> set[str]:
    """The addresses of the articles a search shows."""
    return {hit.article["url"] for hit in search(store, query, limit=50, now=NOW).hits}


def test_a_parents_label_alone_does_not_make_a_related_entry_match_a_search(fresh_db, corpus):
    load(fresh_db, corpus)
    # "Blockchain" labels the payments file, which lists Dubai and the outage: neither says it;
    # the ledger's own headline does
    assert found(fresh_db, "blockchain") == {f"{N}/payments", LEDGER}
    assert found(fresh_db, "security") == {f"{N}/phishing"}
    assert found(fresh_db, "dubai") == {DUBAI}  # its own text still finds it


def test_a_parents_label_alone_does_not_put_a_related_entry_in_a_digest_topic(fresh_db, corpus):
    load(fresh_db, corpus)

    def matching(topic: str) -> set[str]:
        expression = to_fts(topic)
        assert expression is not None
        ids = [i for i, _ in fresh_db.match_newest(expression, 100)]
        return {row["url"] for row in fresh_db.articles(ids)}

    assert matching("Computer Vision") == {f"{N}/vision"}
    assert matching("Blockchain") == {f"{N}/payments", LEDGER}
    assert matching("Azure") == {AZURE}


def test_reloading_the_same_files_in_any_order_changes_nothing(fresh_db, corpus):
    files = list(iter_files([corpus]))
    load(fresh_db, *files)
    assert {r["url"]: set(topics(r)) for r in rows(fresh_db)} == OWN_LABELS
    before = dump(fresh_db)
    for order in (files, files[::-1], files[2:] + files[:2]):
        report = load(fresh_db, *order)
        assert (report.new, report.updated) == (0, 0), order
        assert dump(fresh_db) == before, order


OWN_LABELS = {
    AZURE: {"Azure"},
    DUBAI: set(),
    LEDGER: set(),
    ROBOTS: {"Robots", "Drones"},
    f"{N}/vision": {"AI", "Computer Vision"},
    f"{N}/payments": {"Blockchain"},
    f"{N}/phishing": {"Security"},
}


def test_loading_in_another_order_gives_the_same_own_labels(tmp_path, corpus):
    # The labels' order in the list may follow the files' (it carries no meaning); which
    # parent's labels a related entry inherits does too (the first one's, like its parent_id).
    files = list(iter_files([corpus]))
    for i, order in enumerate((files, files[::-1], random.Random(5).sample(files, len(files)))):
        store = Store(tmp_path / f"{i}.db")
        try:
            load(store, *order)
            assert {r["url"]: set(topics(r)) for r in rows(store)} == OWN_LABELS, order
            assert all(inherited(r) == [] for r in rows(store) if topics(r))
            # one parent's labels, never more
            parents = (["AI", "Computer Vision"], ["Blockchain"], ["Security"])
            assert inherited(by_url(store, DUBAI)) in parents
        finally:
            store.close()


def test_an_article_that_becomes_a_files_main_one_has_that_files_labels(tmp_path, corpus):
    # listed (inheriting, or with labels of its own), and the main article of a file: listed
    # first or last, it has that file's labels only
    write(corpus, "4-ledger.md", front(**listed("Shipping ledger", LEDGER), topics=["Logistics"]))
    write(corpus, "5-robots.md", front(**listed("Warehouse robots", ROBOTS), topics=["Robotics"]))
    files = list(iter_files([corpus]))
    for i, order in enumerate((files, files[::-1])):
        store = Store(tmp_path / f"{i}.db")
        try:
            load(store, *order)
            ledger, robots = by_url(store, LEDGER), by_url(store, ROBOTS)
            assert (topics(ledger), topics(robots)) == (["Logistics"], ["Robotics"]), order
            assert inherited(ledger) == inherited(robots) == [], order
        finally:
            store.close()


# -- a database written before m010 --------------------------------------------------------

# What the loader before m010 made of ``corpus``: every file that named an article added its
# labels (a related entry's own, or its parent's) to those it had.
OLD_LABELS = {
    AZURE: ["Azure", "AI", "Computer Vision", "Blockchain", "Security"],
    DUBAI: ["AI", "Computer Vision", "Blockchain", "Security"],
    LEDGER: ["Blockchain"],
    ROBOTS: ["Robots", "Drones"],
}


def old_database(path: Path, corpus: Path, scratch: Path) -> None:
    """``corpus`` loaded by the loader before m010: its rows (today's, whose other columns
    are the same) with the old labels, in a database whose last migration is m009."""
    model = Store(scratch)
    load(model, corpus)
    old = model._rows("SELECT * FROM articles ORDER BY id")
    model.close()
    db = Database(path)
    migrations.apply(db, stop_before="m010_inherited_topics")
    for row in old:
        del row["inherited_topics"]
        if row["url"] in OLD_LABELS:
            row["topics"] = json.dumps(OLD_LABELS[row["url"]])
        cols = list(row)
        db.execute(
            f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        )
    db.conn.commit()
    db.close()


def test_loading_the_same_files_again_cleans_a_database_written_before_m010(tmp_path, corpus):
    old_database(tmp_path / "old.db", corpus, tmp_path / "model.db")
    store = Store(tmp_path / "old.db")  # m010 runs
    try:
        # m010 alone: the related-only rows' labels are inherited now; the main article's stay
        assert topics(by_url(store, DUBAI)) == []
        assert topics(by_url(store, AZURE)) == OLD_LABELS[AZURE]
        assert by_url(store, AZURE)["inherited_topics"] is None
        assert found(store, "security") == {f"{N}/phishing", AZURE}  # the outage matches
        # loaded again (the files in reverse: the order does not matter), it is clean
        load(store, *sorted(iter_files([corpus]), reverse=True))
        assert {r["url"]: set(topics(r)) for r in rows(store)} == OWN_LABELS
        assert found(store, "security") == {f"{N}/phishing"}
        # the labels it had are inherited ones now, and never added to
        assert inherited(by_url(store, DUBAI)) == OLD_LABELS[DUBAI]
        before = dump(store)
        report = load(store, corpus)
        assert (report.new, report.updated) == (0, 0)
        assert dump(store) == before
    finally:
        store.close()
