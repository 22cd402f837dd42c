"""Regrouping (bot.core.regroup, ``newsbot regroup``): a database whose stories an older rule
made, a regroup killed half-way and run again, one regrouping process at a time, articles
written while a regroup runs, statistics that do not add up."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from bot.core.loader import Loader
from bot.core.regroup import needs_regroup, regroup, rule_version
from storage.migrations import migrations
from storage.store import Store
from tests.conftest import POWER_APPS, SEED, FixedClock
from tests.core.test_loader_stories import assert_as_defined, partition
from tests.helpers import article, by_url, dump, front, rows, write
from tests.test_cli import clean_env, newsbot

OLD_COLUMNS = (
    "id, url, web_url, title, excerpt, provider, domain, published, published_ts, category, "
    "type, quality, heat, topics, images, featured_content, extra, parent_id, story_id, "
    "source_file, loaded_at"
)
ALIVE = "elsewhere|ns|1|tok"  # a process on another machine: alive until its lease ends


@pytest.fixture(scope="module")
def fresh_load(tmp_path_factory) -> Path:
    """The seed and the Power Apps corpus, loaded by today's newsbot."""
    path = tmp_path_factory.mktemp("fresh") / "fresh.db"
    store = Store(path)
    Loader(store, FixedClock()).load([SEED, POWER_APPS])
    store.close()
    return path


def old_rule_database(path: Path, fresh: Path) -> None:
    """The same articles in a database an older newsbot (schema m007) left, its stories made
    by another rule: here one story holds every article."""
    db = Database(path)
    migrations.apply(db, stop_before="m008_story_grouping")
    db.execute(f"ATTACH DATABASE '{fresh}' AS fresh")
    db.execute(f"INSERT INTO articles ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM fresh.articles")
    db.conn.commit()
    db.execute("DETACH DATABASE fresh")
    db.execute("UPDATE articles SET story_id = (SELECT min(id) FROM articles)")
    db.conn.commit()
    db.close()


def outcome(store: Store) -> tuple[Any, ...]:
    """What a regroup leaves, by address (article ids may differ from one load to another)."""
    url = {r["id"]: r["url"] for r in rows(store)}
    story_rows = sorted(
        (url[s.lead_id], s.articles, s.outlets, s.outlet_names, s.first_ts, s.last_ts)
        for s in store.all_story_rows()
    )
    state = store.grouping_state()
    return partition(store), story_rows, store.corpus_counts(), state


def test_a_database_grouped_by_an_older_rule_is_detected_and_regrouped(tmp_path, fresh_load):
    old_rule_database(tmp_path / "old.db", fresh_load)
    store = Store(tmp_path / "old.db")
    assert needs_regroup(store) == "the stories were made by an older rule"
    assert store.count_stories() == 1
    report = regroup(store)  # not asked for a full one: the rule says so
    assert report.full and report.reason == "rule" and report.articles == 214
    assert needs_regroup(store) is None
    assert_as_defined(store)
    fresh = Store(fresh_load)
    try:
        assert outcome(store) == outcome(fresh)
    finally:
        fresh.close()
        store.close()


def test_a_database_grouped_by_another_version_of_the_rule_is_regrouped_by_a_load(
    tmp_path, fresh_load
):
    db = tmp_path / "other.db"
    old_rule_database(db, fresh_load)
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE grouping_state SET rule = 'an older fingerprint'")
    conn.commit()
    conn.close()
    # the bot's start says so, and serves the stories as they are
    shell = newsbot("--db", str(db), "shell", stdin="quit\n", cwd=tmp_path)
    assert "made by another version of the rule: run `newsbot regroup`" in shell.stderr
    # a load regroups them all, and says so
    load = newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path)
    assert load.returncode == 0, load.stderr
    assert "stories: regrouped every story: 214 articles" in load.stderr
    store = Store(db)
    try:
        assert store.grouping_state()["rule"] == rule_version()
        assert_as_defined(store)
    finally:
        store.close()
    shell = newsbot("--db", str(db), "shell", stdin="quit\n", cwd=tmp_path)
    assert "newsbot regroup" not in shell.stderr


def test_newsbot_regroup_makes_every_story_again_and_changes_nothing_the_second_time(
    tmp_path, fresh_load
):
    db = tmp_path / "old.db"
    old_rule_database(db, fresh_load)
    first = newsbot("--db", str(db), "regroup", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("214 articles grouped in ")
    assert "11 stories of several articles, 213 articles moved" in first.stdout
    store = Store(db)
    assert_as_defined(store)
    before = dump(store)
    store.close()
    again = newsbot("--db", str(db), "regroup", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 articles moved" in again.stdout
    store = Store(db)
    try:
        assert dump(store) == before
    finally:
        store.close()


def _moved(db: Path, old_story: int) -> int:
    """Articles whose story id a running regroup has written (read-only, never waiting)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return conn.execute(
                "SELECT count(*) FROM articles WHERE story_id != ?", (old_story,)
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_a_regroup_killed_half_way_and_run_again_ends_as_one_never_killed(tmp_path, fresh_load):
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    old_rule_database(whole, fresh_load)
    old_rule_database(killed, fresh_load)
    assert newsbot("--db", str(whole), "regroup", cwd=tmp_path).returncode == 0

    conn = sqlite3.connect(killed)
    old_story = conn.execute("SELECT min(id) FROM articles").fetchone()[0]
    conn.close()
    # one story id per transaction, so that the kill lands among them
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(killed), "regroup", "--batch", "1"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while _moved(killed, old_story) < 20 and time.monotonic() < deadline:
        assert proc.poll() is None, "the regroup ended before it could be killed"
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    store = Store(killed)
    try:
        assert store._scalar("PRAGMA integrity_check") == "ok"
        moved = _moved(killed, old_story)
        assert 20 <= moved < 200  # half-way: some story ids written, not all
        assert needs_regroup(store) == "the stories were made by an older rule"
        assert store.grouping_state()["owner"] is not None  # the dead process's lease
    finally:
        store.close()

    again = newsbot("--db", str(killed), "regroup", cwd=tmp_path)  # takes the dead one's lease
    assert again.returncode == 0, again.stderr
    done, reference = Store(killed), Store(whole)
    try:
        assert outcome(done) == outcome(reference)
        assert {r["url"]: r["story_id"] for r in rows(done)} == {
            r["url"]: r["story_id"] for r in rows(reference)
        }
        assert_as_defined(done)
    finally:
        done.close()
        reference.close()


# -- one regrouping process at a time ----------------------------------------------------------


def test_a_load_leaves_its_articles_to_the_process_holding_the_lease(fresh_db, tmp_path):
    Loader(fresh_db, FixedClock()).load([SEED])
    fresh_db.claim_grouping(ALIVE, time.time(), 60)
    path = write(
        tmp_path / "in",
        "a.md",
        front(
            **article(
                "Police facial recognition bill advances in New York",
                "https://n.example/ny",
                "2020-02-06T09:00:00Z",
            )
        ),
    )
    report = Loader(fresh_db, FixedClock()).load([path])
    assert report.grouping is not None and report.grouping.busy == ALIVE
    assert len(fresh_db.pending_grouping()) == 1  # left for the holder
    cli = newsbot("--db", fresh_db.path, "regroup", cwd=tmp_path)
    assert cli.returncode == 1 and "another newsbot process is grouping" in cli.stderr
    # the holder's lease ends (or it is known dead): the next regroup takes it over
    fresh_db._write("UPDATE grouping_state SET owner_until = 0")
    assert regroup(fresh_db).articles > 0
    assert_as_defined(fresh_db)


def test_articles_written_while_a_regroup_runs_are_grouped_before_it_ends(fresh_db, tmp_path):
    Loader(fresh_db, FixedClock()).load([SEED])
    other = Store(fresh_db.path)  # another process's connection
    nyt = by_url(
        fresh_db,
        "https://www.nytimes.com/2020/01/29/technology/facebook-privacy-lawsuit-earnings.html",
    )
    written: list[str] = []

    def meanwhile(phase: str, done: int, total: int) -> None:
        if phase == "grouping" and not written:
            written.append(phase)
            path = write(
                tmp_path / "in",
                "a.md",
                front(
                    **article(
                        "Facebook to pay $550 million to settle facial recognition suit, again",
                        "https://n.example/fb",
                        "2020-01-29T22:00:00Z",
                    )
                ),
            )
            Loader(other, FixedClock())._write_files([path], None)  # written, not grouped
            other.update_article(nyt["id"], {"excerpt": "Changed while the regroup ran."})

    try:
        fresh_db._write("UPDATE grouping_state SET rule = 'old'")  # something to do
        report = regroup(fresh_db, progress=meanwhile)
        assert written and report.rounds == 2
        assert fresh_db.grouping_state()["pending"] == 0
        assert_as_defined(fresh_db)
    finally:
        other.close()


def test_statistics_that_do_not_add_up_are_made_again(fresh_db, tmp_path):
    Loader(fresh_db, FixedClock()).load([SEED])
    fresh_db._write(
        "DELETE FROM grouping_words WHERE word IN (SELECT word FROM "
        "grouping_words ORDER BY df DESC LIMIT 5)"
    )
    path = write(
        tmp_path / "in",
        "a.md",
        front(
            **article(
                "Police facial recognition bill advances in New York",
                "https://n.example/ny",
                "2020-02-06T09:00:00Z",
                excerpt="Facial recognition: the police and the bill.",
            )
        ),
    )
    report = Loader(fresh_db, FixedClock()).load([path])
    assert report.grouping is not None and report.grouping.full
    assert_as_defined(fresh_db)
