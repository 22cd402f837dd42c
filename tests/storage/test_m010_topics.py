"""m010: topic labels as evidence. Rows the loader wrote before it had their parents' labels
added to their own; rows that were never a file's main article keep theirs apart, as inherited
labels, and the full-text index forgets them. Main articles keep theirs (the loader cleans them:
tests/core/test_loader_labels.py)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import migrations
from storage.store import Store, time_key

T = 1_580_036_220  # 2020-01-26T10:57:00Z
MAIN, RELATED, BARE, UNKNOWN = (time_key(T, i) for i in range(4))

# As the loader before m010 left them: (id, title, topics, is_main).
OLD_ROWS = [
    # a file's main article, which other files listed: its labels and theirs
    (MAIN, "Azure outage takes down Teams", '["Azure", "Blockchain"]', 1),
    # only ever a related entry: the labels of the files that listed it
    (RELATED, "Regional data centre opens in Dubai", '["AI", "Blockchain"]', 0),
    (BARE, "Contoso hires a new chief", "[]", 0),
    (UNKNOWN, "Fabrikam wins a regatta", None, None),
]


def old_database(path: Path) -> None:
    db = Database(path)
    migrations.apply(db, stop_before="m010_inherited_topics")
    for article_id, title, topics, is_main in OLD_ROWS:
        db.execute(
            "INSERT INTO articles (id, url, web_url, title, excerpt, provider, domain, "
            "published_ts, topics, is_main, story_id) VALUES (?, ?, ?, ?, '', 'Outlet', "
            "'n.example', ?, ?, ?, ?)",
            (
                article_id,
                f"https://n.example/{article_id}",
                f"https://n.example/{article_id}",
                title,
                T,
                topics,
                is_main,
                article_id,
            ),
        )
    db.conn.commit()
    db.close()


def labels(store: Store) -> dict[int, tuple[object, object]]:
    found = store._rows("SELECT id, topics, inherited_topics FROM articles ORDER BY id")
    return {
        r["id"]: (
            json.loads(r["topics"]),
            None if r["inherited_topics"] is None else json.loads(r["inherited_topics"]),
        )
        for r in found
    }


def test_related_only_rows_labels_become_inherited_and_leave_the_index(tmp_path):
    old_database(tmp_path / "old.db")
    with Database(tmp_path / "old.db") as db:  # before: the parents' labels match
        found = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'ai'")
        assert [r[0] for r in found] == [RELATED]
    store = Store(tmp_path / "old.db")
    try:
        assert labels(store) == {
            MAIN: (["Azure", "Blockchain"], None),  # kept; NULL: the loader has to clean it
            RELATED: ([], ["AI", "Blockchain"]),
            BARE: ([], []),
            UNKNOWN: ([], []),
        }
        assert store.match_newest('"ai"', 10) == []
        assert [i for i, _ in store.match_newest('"blockchain"', 10)] == [MAIN]
        assert [i for i, _ in store.match_newest('"dubai"', 10)] == [RELATED]  # its own text
        assert store._scalar("PRAGMA integrity_check") == "ok"
        store._write("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    finally:
        store.close()
