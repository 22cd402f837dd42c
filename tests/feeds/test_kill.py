"""A poll killed with SIGKILL, at random points of its writing, and run again: nothing lost,
nothing doubled (issue 13, item 6). Real processes (``newsbot sources poll``), a real SQLite
file, our feed server on 127.0.0.1. The test waits for the database to reach a state (the
kill lands while articles are being written), never for a time."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.store import Store
from tests.fakefeeds import FakeFeeds
from tests.test_cli import clean_env, newsbot


def rss(name: str, items: int, base: dt.datetime) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name} wire</title><link>https://{name}.example/</link>"
    ]
    for i in range(items):
        when = (base - dt.timedelta(minutes=i)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        parts.append(
            f"<item><title>{name} report {i}: harbour cranes {i * 7 % 13} and tides {i}</title>"
            f"<link>https://{name}.example/news/{i}?utm_source=rss</link>"
            f"<description>Item {i} of the {name} wire, on cranes and tides.</description>"
            f"<pubDate>{when}</pubDate><guid>{name}-{i}</guid></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def count(db: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return 0


@pytest.mark.parametrize("kill_after", [1, 400, 1500])
def test_a_poll_killed_while_writing_and_run_again_loses_and_doubles_nothing(
    tmp_path: Path, kill_after: int
) -> None:
    feeds = FakeFeeds()
    try:
        base = dt.datetime(2020, 1, 30, 11, 0, tzinfo=dt.UTC)
        urls = [feeds.serve(f"/{n}", body=rss(n, 1000, base), etag=f'"{n}1"') for n in "abc"]
        db = tmp_path / "news.db"
        env = {**clean_env(), "NEWSBOT_SOURCES_ALLOW_PRIVATE": "true"}
        for url in urls:
            assert (
                newsbot("--db", str(db), "sources", "add", url, cwd=tmp_path, env=env).returncode
                == 0
            )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--db", str(db), "sources", "poll"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while count(db, "SELECT count(*) FROM articles") < kill_after:
            assert proc.poll() is None, "the poll ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        killed_at = count(db, "SELECT count(*) FROM articles")
        assert kill_after <= killed_at < 3000  # half-way

        again = newsbot("--db", str(db), "sources", "poll", cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stdout + again.stderr
        store = Store(db)
        try:
            assert store._scalar("PRAGMA integrity_check") == "ok"
            assert store.count_articles() == 3000  # every item once
            urls_stored = [r["url"] for r in store._rows("SELECT url FROM articles")]
            assert len(set(urls_stored)) == 3000
            for source in store.sources():
                assert store.items_last_7_days(source.id, base) == 1000
                assert source.etag is not None and source.consecutive_failures == 0
            assert store._scalar("SELECT count(*) FROM source_items") == 3000
        finally:
            store.close()
        # and a third poll, all validators stored, fetches 304s and writes nothing
        third = newsbot("--db", str(db), "sources", "poll", "1", cwd=tmp_path, env=env)
        assert third.returncode == 0 and "not_modified" in third.stdout
        assert count(db, "SELECT count(*) FROM articles") == 3000
    finally:
        feeds.close()
