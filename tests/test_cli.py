"""The newsbot command, run as a separate process against a temporary database."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POWER_APPS, SEED, SEED_FILE
from tests.helpers import front, write

NOW = "2020-02-06T12:00:00Z"
SUMMARY = re.compile(r"^(\d+) articles from (\d+) files, (\d+) bad\b", re.MULTILINE)


def clean_env() -> dict[str, str]:
    """The environment without newsbot's or Slack's settings, so only the test's count."""
    return {
        k: v for k, v in os.environ.items()
        if not k.startswith(("NEWSBOT_", "SLACK_")) and k not in ("PORT", "COLUMNS", "LINES")
    }


def newsbot(*args: str, cwd: Path, stdin: str | None = None, script: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if script:
        exe = Path(sys.executable).parent / "newsbot"
        if not exe.exists():
            exe = shutil.which("newsbot")
        assert exe, "the newsbot console script is not installed"
        cmd = [str(exe), *args]
    else:
        cmd = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(
        cmd, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60,
        env={**clean_env(), **(env or {})},
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """A database with the seed file and the Power Apps folder, loaded by the CLI."""
    work = tmp_path_factory.mktemp("cli")
    proc = newsbot("--db", str(work / "news.db"), "load", str(SEED), str(POWER_APPS), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert SUMMARY.search(proc.stdout).groups() == ("215", "193", "0")
    return work / "news.db"


def test_load_good_files(tmp_path):
    proc = newsbot("--db", str(tmp_path / "n.db"), "load", str(SEED_FILE), cwd=tmp_path, script=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("23 articles from 1 files, 0 bad")
    again = newsbot("--db", str(tmp_path / "n.db"), "load", str(SEED), cwd=tmp_path)
    assert "(0 new, 0 updated)" in again.stdout


def test_load_with_bad_files_exits_1_and_names_them(tmp_path):
    folder = tmp_path / "in"
    write(folder, "good.md", front(title="Fine", webUrl="https://n.example/fine"))
    write(folder, "no-title.md", front(webUrl="https://n.example/x"))
    write(folder, "broken.md", "---\ntitle: [oops\nwebUrl: https://n.example/y\n---\n")
    write(folder, "binary.txt", b"\xff\xfe\x00garbage")
    write(folder, "big.md", front(title="Big", webUrl="https://n.example/big", excerpt="x" * 40_000))
    shutil.copy(SEED_FILE, folder / "seed.txt")
    proc = newsbot("--db", str(tmp_path / "n.db"), "load", str(folder), cwd=tmp_path,
                   env={"NEWSBOT_LOADER_MAX_FILE_BYTES": "30000",  # the seed file is 23 kB
                        "COLUMNS": "1000"})  # no wrapping (see the xfail test below)
    assert proc.returncode == 1
    assert SUMMARY.search(proc.stdout).groups() == ("24", "6", "4")
    bad = dict(re.findall(r"^bad file: (\S+): (.*)$", proc.stderr, re.MULTILINE))
    assert set(bad) == {str(folder / n) for n in ("no-title.md", "broken.md", "binary.txt", "big.md")}
    assert "missing title" in bad[str(folder / "no-title.md")]
    assert "line 3: YAML error" in bad[str(folder / "broken.md")]
    assert "not UTF-8" in bad[str(folder / "binary.txt")]
    assert "cap" in bad[str(folder / "big.md")]
    assert "Traceback" not in proc.stderr


def test_each_bad_file_is_one_line_on_a_pipe(tmp_path):
    folder = tmp_path / "a-folder-with-a-rather-long-name-so-that-the-line-is-over-eighty-columns"
    path = write(folder, "no-title.md", front(webUrl="https://n.example/x"))
    proc = newsbot("--db", str(tmp_path / "n.db"), "load", str(folder), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"bad file: {path}: missing title"]


def test_search_json(loaded):
    proc = newsbot("--db", str(loaded), "--now", NOW, "search", "facebook", "settle", "--json",
                   "--limit", "20", cwd=loaded.parent)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert 1 <= len(hits) <= 20
    for hit in hits:
        assert set(hit) >= {"title", "url", "provider", "published", "excerpt", "topics", "score",
                            "story_id", "also"}
        assert isinstance(hit["title"], str) and hit["url"].startswith("http")
        assert isinstance(hit["topics"], list) and isinstance(hit["also"], list)
        assert isinstance(hit["score"], float) and isinstance(hit["story_id"], int)
        when = dt.datetime.fromisoformat(hit["published"])
        assert when.utcoffset() == dt.timedelta(0)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", hit["published"])
    (facebook,) = [h for h in hits if "$550" in h["title"]]
    assert {facebook["provider"], *(a["provider"] for a in facebook["also"])} == {
        "New York Times", "Forbes"
    }
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "KoASt9YRe5gt0sfTX" not in proc.stdout  # the seed's secured token


def test_search_text(loaded):
    proc = newsbot("--db", str(loaded), "--now", NOW, "search", "watchdog urges caution",
                   cwd=loaded.parent, script=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1. British watchdog urges caution")
    assert "also: Reuters" in proc.stdout
    assert re.search(r"^\(\d+ of \d+ stories\)$", proc.stdout, re.MULTILINE)


@pytest.mark.parametrize("query", [[], [""], ["   "]])
def test_search_without_a_query_prints_usage(loaded, query):
    proc = newsbot("--db", str(loaded), "search", *query, cwd=loaded.parent)
    assert proc.returncode == 2
    assert "usage" in proc.stderr.lower() and proc.stdout == ""


@pytest.mark.parametrize("query", ['"', "NEAR(", "😀", "x" * 2000, "-", "AND OR NOT"])
def test_hostile_search_exits_cleanly(loaded, query):
    proc = newsbot("--db", str(loaded), "search", query, "--json", cwd=loaded.parent)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [] or isinstance(json.loads(proc.stdout), list)
