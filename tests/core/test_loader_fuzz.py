"""The loader fuzzer (bench/fuzz_loader.py), a fast subset; and a load killed with SIGKILL.

The full campaign: ``python bench/fuzz_loader.py --seed N --count 20000``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import fuzz_loader
from tests.conftest import FIXTURES, POWER_APPS, SEED
from tests.helpers import article, front, write
from tests.test_cli import clean_env

NOW = "2020-02-06T12:00:00Z"
FILES = 2000


@pytest.mark.parametrize("seed", [1])
def test_fuzzed_files_never_stop_a_load(seed):
    # 1,000 inputs of every kind, in five loads (the fifth of 600 files: forked workers)
    stats = fuzz_loader.run(seed, 1000, [FIXTURES], per_round=100, out=None)
    assert sum(stats.tried.values()) == 1000
    assert len(stats.tried) >= 30  # every kind of input was tried
    assert stats.failures == []


def test_the_fuzzer_notices_a_failure(monkeypatch):
    """The oracle is not blind: a parser that lets an exception through is caught."""
    import bot.core.articles as articles

    original = articles.parse_text

    def parse_text(text):
        if "Café" in text:
            raise KeyError("planted")
        return original(text)

    monkeypatch.setattr(articles, "parse_text", parse_text)
    stats = fuzz_loader.run(3, 300, [FIXTURES], per_round=300, out=None)
    assert any("KeyError" in what for _, what in stats.failures)


def _tables(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("articles", "url_aliases", "stories", "grouping_words", "grouping_state")
        }
    finally:
        conn.close()


def _check(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        conn.close()


def _pending(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM grouping_pending").fetchone()[0]
    finally:
        conn.close()


def _count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_load_leaves_an_intact_database_whose_reload_matches_a_clean_load(
    tmp_path,
):
    folder = tmp_path / "in"
    # More files than one transaction takes (BATCH_FILES), so a kill after the first commit
    # lands before the last
    for i in range(FILES):
        write(
            folder,
            f"syn/{i:05d}.md",
            front(
                **article(
                    f"Zebra count {i} rises in park {i % 37}",
                    f"https://z.example/{i}",
                    f"2020-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                    topics=["Zebras"],
                ),
                related=[
                    article(
                        f"Zebra count {i} rises, park {i % 37} says", f"https://r.example/{i}/{j}"
                    )
                    for j in range(1)
                ],
            ),
        )
    os.symlink(SEED, folder / "seed")
    os.symlink(POWER_APPS, folder / "power-apps")

    def newsbot_load(db: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "--db",
                str(db),
                "--now",
                NOW,
                "load",
                str(folder / "seed"),
                str(folder / "power-apps"),
                str(folder / "syn"),
            ],
            cwd=tmp_path,
            env={**clean_env(), "NEWSBOT_PARSE_WORKERS": "2"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    clean = tmp_path / "clean.db"
    assert newsbot_load(clean).wait(timeout=300) == 0
    total = _check(clean)
    assert total == 214 + FILES * 2

    killed = tmp_path / "killed.db"
    proc = newsbot_load(killed)
    deadline = time.monotonic() + 120
    while _count(killed) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)  # the loader and its parse workers
    assert proc.wait(timeout=30) == -signal.SIGKILL
    partial = _check(killed)
    assert 0 < partial < total, partial  # killed mid-load, and what it wrote is intact

    assert newsbot_load(killed).wait(timeout=300) == 0
    assert _check(killed) == total
    assert _tables(killed) == _tables(clean)  # stories, their statistics and rule included
    assert _pending(killed) == 0
