"""The migrations: an old database brought up to date equals a new one, data kept; frozen code.

A database is built as an older newsbot left it (``Migrations.apply(stop_before=...)`` records
only the migrations run, as a real one would), with rows written by that version's schema, and
then opened by today's :class:`Store`, which applies the rest.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from storage.migrations import _m005_title_keys, migrations
from storage.store import Store, time_key

STORAGE = Path(__file__).resolve().parents[2] / "storage"
T = 1_580_036_220  # 2020-01-26T10:57:00Z
A1, A2, A3 = time_key(T), time_key(T, 1), time_key(T + 3600)
NAMES = [m.name for m in migrations.pending(Database(memory=True))]

# Rows each version's schema could hold, written just after that version's migration.
ROWS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "m001_articles": {
        "articles": [
            {
                "id": A1,
                "url": "https://a.example/1",
                "web_url": "https://a.example/1?x=1",
                "title": "Contoso launches quantum cloud service",
                "excerpt": "A first look.",
                "provider": "Alpha",
                "domain": "a.example",
                "published_ts": T,
                "quality": 3,
                "topics": '["cloud"]',
                "story_id": A1,
            },
            {
                "id": A2,
                "url": "https://b.example/2",
                "web_url": "https://b.example/2",
                "title": "Contoso's quantum cloud services launch in Europe",
                "excerpt": "",
                "provider": "Beta",
                "domain": "b.example",
                "published_ts": T,
                "quality": 1,
                "topics": "[]",
                "story_id": A1,
            },
            {
                "id": A3,
                "url": "https://c.example/3",
                "web_url": "https://c.example/3",
                "title": "Fabrikam wins rowing regatta",
                "excerpt": "On the river.",
                "provider": "Gamma",
                "domain": "c.example",
                "published_ts": T + 3600,
                "quality": 2,
                "topics": "[]",
                "story_id": A3,
            },
        ],
        "url_aliases": [{"alias": "https://a.example/one", "article_id": A1}],
    },
    "m002_subscriptions": {
        "subscriptions": [
            {
                "id": 1,
                "team_id": "T1",
                "channel_id": "C1",
                "kind": "channel",
                "topic": "Cloud",
                "topic_key": "cloud",
                "subscribed_by": "U1",
                "subscribed_at": "2020-01-25T08:00:00",
                "hour": 8,
                "minute": 30,
                "tz": "Europe/Paris",
            },
            {
                "id": 2,
                "team_id": "T1",
                "channel_id": "C2",
                "kind": "channel",
                "topic": "Rowing",
                "topic_key": "rowing",
                "subscribed_by": "U2",
                "subscribed_at": "2020-01-25T09:00:00",
                "hour": 9,
                "minute": 0,
                "tz": "UTC",
                "paused_reason": "channel_not_found",
                "paused_at": "2020-01-26T09:00:00",
            },
        ],
    },
    "m003_digests": {
        "digest_runs": [
            {
                "id": 1,
                "team_id": "T1",
                "channel_id": "C1",
                "local_date": "2020-01-26",
                "scheduled_for": "2020-01-26T07:30:00+00:00",
                "state": "done",
                "attempts": 1,
                "post_attempts": 1,
                "message_ts": "1580023800.000100",
                "plan": f'[[{A1}, {A1}, "cloud"]]',
                "finished_at": "2020-01-26T07:30:01+00:00",
            },
            {
                "id": 2,
                "team_id": "T1",
                "channel_id": "C1",
                "local_date": "2020-01-27",
                "scheduled_for": "2020-01-27T07:30:00+00:00",
                "state": "posting",
                "claimed_by": "h|ns|42|tok",
                "claimed_until": "2020-01-27T07:35:00+00:00",
                "attempts": 1,
                "post_attempts": 1,
            },
            {
                "id": 3,
                "team_id": "T1",
                "channel_id": "C3",
                "local_date": "2020-01-27",
                "scheduled_for": "2020-01-27T07:30:00+00:00",
                "state": "running",
                "claimed_by": "h|ns|43|tok",
                "attempts": 1,
                "post_attempts": 0,
            },
            {
                "id": 4,
                "team_id": "T1",
                "channel_id": "C4",
                "local_date": "2020-01-27",
                "scheduled_for": "2020-01-27T07:30:00+00:00",
                "state": "failed",
                "attempts": 2,
                "post_attempts": 2,
                "error": "ratelimited",
            },
        ],
        "deliveries": [
            {
                "id": 1,
                "team_id": "T1",
                "channel_id": "C1",
                "story_id": A1,
                "article_id": A1,
                "topic_key": "cloud",
                "run_id": 1,
                "delivered_at": "2020-01-26T07:30:01+00:00",
            },
        ],
    },
    "m004_preferences": {
        "user_settings": [
            {
                "team_id": "T1",
                "user_id": "U1",
                "items": 7,
                "hour": 6,
                "minute": 15,
                "skip_weekends": 1,
                "tz": "Europe/Paris",
                "updated_at": "2020-01-25T10:00:00",
            },
        ],
        "channel_settings": [
            {
                "team_id": "T1",
                "channel_id": "C1",
                "items_per_topic": 3,
                "skip_weekends": 0,
                "updated_at": "2020-01-25T10:00:00",
            },
        ],
        "mutes": [
            {
                "team_id": "T1",
                "scope": "channel",
                "owner_id": "C1",
                "domain": "b.example",
                "label": "Beta",
                "muted_by": "U1",
                "muted_at": "2020-01-25T10:00:00",
            },
        ],
    },
}
# What m006 makes of the runs written before it: a post was tried and the run did not finish.
POST_UNKNOWN = {1: 0, 2: 1, 3: 0, 4: 1}


def insert(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        cols = list(row)
        db.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row[c] for c in cols],
        )


def old_database(path: Path, applied: list[str]) -> dict[str, list[dict[str, Any]]]:
    """A database as the version whose last migration is ``applied[-1]`` left it, with rows
    written after each of its migrations; returns those rows by table."""
    written: dict[str, list[dict[str, Any]]] = {}
    db = Database(path)
    for name in applied:
        nxt = NAMES[NAMES.index(name) + 1]
        migrations.apply(db, stop_before=nxt)
        for table, rows in ROWS.get(name, {}).items():
            insert(db, table, rows)
            written.setdefault(table, []).extend(rows)
        db.conn.commit()
    assert [m.name for m in migrations.applied(db)] == applied
    db.close()
    return written


def schema(store: Store) -> list[tuple[str, str, str, str]]:
    """Every table (FTS tables and their shadow tables too), index, trigger and view, with its
    SQL, whitespace normalised."""
    found = store.db.conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    return [(kind, name, table, " ".join((sql or "").split())) for kind, name, table, sql in found]


@pytest.mark.parametrize("last", NAMES[:-1])
def test_an_old_database_migrated_equals_a_new_one_and_keeps_its_rows(tmp_path, fresh_db, last):
    applied = NAMES[: NAMES.index(last) + 1]
    written = old_database(tmp_path / "old.db", applied)
    old = Store(tmp_path / "old.db")
    try:
        assert [m.name for m in migrations.applied(old.db)] == NAMES
        assert schema(old) == schema(fresh_db)
        for table, rows in written.items():
            now = old._rows(f"SELECT * FROM {table} ORDER BY rowid")
            assert [{c: r[c] for c in row} for r, row in zip(now, rows, strict=True)] == rows
        check_migrated_data(old, applied)
        assert old._scalar("PRAGMA integrity_check") == "ok"
        old._write("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    finally:
        old.close()


def check_migrated_data(store: Store, applied: list[str]) -> None:
    """What later migrations made of the old rows, read through the Store's own methods."""
    if "m001_articles" not in applied:
        return
    assert store.article_id_for_urls(["https://a.example/one"]) == A1
    assert [i for i, _ in store.match_newest('"quantum"', 10)] == [A2, A1]
    # m008: the old rule's key index is gone; every article is a file's main one (none had a
    # parent); the stories are to be made again (no rule yet, no statistics), and nothing is
    # pending: the triggers were made after the rows
    tables = {r["name"] for r in store._rows("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "title_keys" not in tables
    assert [r["is_main"] for r in store._rows("SELECT is_main FROM articles ORDER BY id")] == [
        1,
        1,
        1,
    ]
    assert store.grouping_state() == {
        "rule": None,
        "articles": 0,
        "owner": None,
        "owner_until": None,
        "pending": 0,
        "dated": 3,
    }
    if "m003_digests" in applied:
        runs = {r["id"]: r["post_unknown"] for r in store.digest_runs("T1")}
        assert runs == POST_UNKNOWN
        assert store.delivered_story_ids("T1", "C1", [A1, A3]) == {A1}
        # m007: the delivered story's members at migration time count as delivered, so the
        # article that leaves it still carries the delivery
        got = store._rows("SELECT channel_id, article_id FROM delivered_articles ORDER BY 2")
        assert got == [
            {"channel_id": "C1", "article_id": A1},
            {"channel_id": "C1", "article_id": A2},
        ]
        store.set_story(A2, A2)
        assert store.delivered_story_ids("T1", "C1", [A1, A2, A3]) == {A1, A2}
        assert store.delivered_story_ids("T1", "C2", [A1, A2]) == set()
    if "m004_preferences" in applied:
        assert store.user_settings("T1", "U1")["items"] == 7
        assert store.muted_domains("T1", "channel", "C1") == {"b.example"}


def test_each_migration_is_recorded_once_under_its_name(fresh_db):
    # The names are in every database's _sqlite_migrations: renaming one would run it again.
    assert NAMES == [
        "m001_articles",
        "m002_subscriptions",
        "m003_digests",
        "m004_preferences",
        "m005_title_keys",
        "m006_digest_delivery",
        "m007_delivered_articles",
        "m008_story_grouping",
        "m009_search_vocabulary",
        "m010_inherited_topics",
        "m012_search_terms",
        "m013_sources",
        "m014_housekeeping",
        "m015_ranking_version",
    ]
    recorded = fresh_db._rows("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    assert recorded == [{"migration_set": "newsbot", "name": n} for n in NAMES]


@pytest.mark.parametrize(
    ("title", "keys"),
    [
        ("Contoso launches quantum cloud service", ["contoso", "quantum", "service", "launch"]),
        (
            "Contoso's quantum cloud services launch in Europe",
            ["contoso", "quantum", "europe", "launch"],
        ),
        (
            "RE-TRANSMISSION: Acme now available in the Contoso Marketplace",
            ["transmission", "marketplace", "available", "contoso"],
        ),
        ("Stories of the Companies: $5bn deal, 2024 plans", ["company", "story", "deal", "plan"]),
        (
            "Ärzte warnen vor Hitzewelle in Süddeutschland",
            ["süddeutschland", "hitzewelle", "warnen", "ärzte"],
        ),
        ("Processes, classes and analyses", ["process", "analys", "class"]),
        ("The new AI", []),
        ("", []),
    ],
)
def test_m005s_title_keys_are_frozen(title, keys):
    # Pinned values, not a comparison with bot.core.stories: the live function may change,
    # m005's copy must not (databases migrated before and after must agree).
    assert _m005_title_keys(title) == keys


def imported_modules(source: str, package: str) -> set[str]:
    """Every module a source imports, at any depth (inside functions too), relative imports
    resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            if node.level == 0:
                found.add(node.module or "")
            else:
                found.add(f"{base}.{node.module}" if node.module else base)
    return found


def from_bot(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "bot" or m.startswith("bot.")}


def test_the_import_scan_sees_nested_and_relative_imports():
    source = (
        "import os\n"
        "def m(db):\n    from bot.core.stories import title_keys\n"
        "class C:\n    import bot\n"
        "from . import x\n"
    )
    assert from_bot(imported_modules(source, "storage")) == {"bot.core.stories", "bot"}
    assert from_bot(imported_modules("from ..bot import y\n", "storage.sub")) == set()


def test_storage_imports_nothing_from_bot():
    files = sorted(STORAGE.glob("*.py"))
    assert {f.name for f in files} >= {"store.py", "migrations.py", "base.py"}
    offending = {
        f.name: found
        for f in files
        if (found := from_bot(imported_modules(f.read_text(encoding="utf-8"), "storage")))
    }
    assert offending == {}


def test_a_database_at_m001_has_only_m001s_tables(tmp_path):
    # The fixture the migration test builds on: stopping before m002 leaves m001's schema.
    old_database(tmp_path / "old.db", NAMES[:1])
    conn = sqlite3.connect(tmp_path / "old.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"articles", "url_aliases", "articles_fts", "_sqlite_migrations"} <= tables
    assert not tables & {"subscriptions", "digest_runs", "user_settings", "title_keys"}
