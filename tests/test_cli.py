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
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSBOT_", "SLACK_")) and k not in ("PORT", "COLUMNS", "LINES")
    }


def newsbot(
    *args: str,
    cwd: Path,
    stdin: str | None = None,
    script: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    if script:
        exe = Path(sys.executable).parent / "newsbot"
        if not exe.exists():
            exe = shutil.which("newsbot")
        assert exe, "the newsbot console script is not installed"
        cmd = [str(exe), *args]
    else:
        cmd = [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(
        cmd,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
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
    proc = newsbot(
        "--db", str(tmp_path / "n.db"), "load", str(SEED_FILE), cwd=tmp_path, script=True
    )
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
    write(
        folder, "big.md", front(title="Big", webUrl="https://n.example/big", excerpt="x" * 40_000)
    )
    shutil.copy(SEED_FILE, folder / "seed.txt")
    proc = newsbot(
        "--db",
        str(tmp_path / "n.db"),
        "load",
        str(folder),
        cwd=tmp_path,
        env={
            "NEWSBOT_LOADER_MAX_FILE_BYTES": "30000",  # the seed file is 23 kB
            "COLUMNS": "1000",
        },
    )  # no wrapping (see the xfail test below)
    assert proc.returncode == 1
    assert SUMMARY.search(proc.stdout).groups() == ("24", "6", "4")
    bad = dict(re.findall(r"^bad file: (\S+): (.*)$", proc.stderr, re.MULTILINE))
    assert set(bad) == {
        str(folder / n) for n in ("no-title.md", "broken.md", "binary.txt", "big.md")
    }
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
    proc = newsbot(
        "--db",
        str(loaded),
        "--now",
        NOW,
        "search",
        "facebook",
        "settle",
        "--json",
        "--limit",
        "20",
        cwd=loaded.parent,
    )
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert 1 <= len(hits) <= 20
    for hit in hits:
        assert set(hit) >= {
            "title",
            "url",
            "provider",
            "published",
            "excerpt",
            "topics",
            "score",
            "story_id",
            "also",
            "partial",
        }
        assert isinstance(hit["title"], str) and hit["url"].startswith("http")
        assert isinstance(hit["topics"], list) and isinstance(hit["also"], list)
        assert isinstance(hit["score"], float) and isinstance(hit["story_id"], int)
        when = dt.datetime.fromisoformat(hit["published"])
        assert when.utcoffset() == dt.timedelta(0)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", hit["published"])
    # no story has both words but the $550M one: it comes first, the stories with one follow
    assert [h["partial"] for h in hits] == [False] + [True] * (len(hits) - 1)
    (facebook,) = [h for h in hits if "$550" in h["title"]]
    assert {facebook["provider"], *(a["provider"] for a in facebook["also"])} == {
        "New York Times",
        "Forbes",
    }
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "KoASt9YRe5gt0sfTX" not in proc.stdout  # the seed's secured token


def test_search_text(loaded):
    proc = newsbot(
        "--db",
        str(loaded),
        "--now",
        NOW,
        "search",
        "facebook settle lawsuit",
        cwd=loaded.parent,
        script=True,
    )
    assert proc.returncode == 0, proc.stderr
    # the story's lead shows (issue 11), its other outlet named; fewer than a page of stories
    # have every word, so a note says stories with some of them follow (issue 12)
    first, rest = proc.stdout.split("\n", 1)
    assert first.startswith("Few stories have all of facebook, settle, lawsuit;")
    assert rest.startswith("1. Facebook to Pay $550 Million to Settle Facial Recognition")
    assert "   also: Forbes\n" in proc.stdout
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


# -- issue 9: hostile files and data on the terminal; exit codes -------------------------------

ESC_TITLE = (
    "Watchdog caution: cheap \u202egnp.exe flights \x1b[2J\x1b]0;pwned\x07 \x9b31m now\u2066"
)


def _poison(db: Path) -> None:
    """Control characters in stored text, as a database from before the loader dropped them
    (and as a right-to-left override, which it keeps, comes in today)."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE articles SET title = ?, provider = ?, excerpt = ? WHERE title LIKE ?",
        (
            ESC_TITLE,
            "Evil\x00\r\nOutlet",
            "line one\nline two\x1b[0m",
            "British watchdog urges caution%",
        ),
    )
    conn.commit()
    conn.close()


def _raw_controls(text: str) -> list[str]:
    return re.findall("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


def test_search_shows_control_characters_from_articles_escaped(tmp_path):
    # Bug fixed: escape codes, NUL and right-to-left overrides reached the terminal raw.
    db = tmp_path / "n.db"
    assert newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path).returncode == 0
    _poison(db)
    proc = newsbot("--db", str(db), "--now", NOW, "search", "watchdog", "caution", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _raw_controls(proc.stdout) == []
    assert (
        "1. Watchdog caution: cheap \\u202egnp.exe flights \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m now\\u2066"
        in (proc.stdout)
    )
    assert "   Evil\\x00\\x0d\\x0aOutlet · " in proc.stdout  # one line, not three
    proc = newsbot(
        "--db", str(db), "--now", NOW, "search", "watchdog", "caution", "--json", cwd=tmp_path
    )
    assert _raw_controls(proc.stdout.replace("\n", "")) == []
    assert json.loads(proc.stdout)[0]["title"] == ESC_TITLE  # still the same JSON


def test_the_shell_shows_control_characters_from_articles_escaped(tmp_path):
    db = tmp_path / "n.db"
    assert newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path).returncode == 0
    _poison(db)
    proc = newsbot(
        "--db",
        str(db),
        "--now",
        NOW,
        "shell",
        cwd=tmp_path,
        stdin="watchdog caution\nmore like 1\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert _raw_controls(proc.stdout) == []
    assert "\\u202egnp.exe" in proc.stdout


def test_bad_file_lines_are_one_line_each_whatever_the_name(tmp_path):
    # Bug fixed: a newline in a file name split its line, escape codes in it reached the
    # terminal, and a name that is not UTF-8 aborted the load.
    folder = tmp_path / "in"
    write(folder, "good.md", front(title="Fine", webUrl="https://n.example/fine"))
    write(folder, "evil\nbad file: forged.md", "no front matter")
    write(folder, "esc\x1b[2J.md", "no front matter")
    (folder / os.fsdecode(b"caf\xe9.md")).write_text("no front matter")
    write(
        folder,
        "zero-year.md",
        "---\ntitle: t\nwebUrl: https://n.example/z\n"
        "publishedDateTime: 0001-01-01T00:00:00+05:00\n---\n",
    )
    proc = newsbot("--db", str(tmp_path / "n.db"), "load", str(folder), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert sorted(lines) == sorted(
        [
            f"bad file: {folder}/evil\\x0abad file: forged.md: line 1: no front matter: the "
            "first line is not '---'",
            f"bad file: {folder}/esc\\x1b[2J.md: line 1: no front matter: the first line is not '---'",
            f"bad file: {folder}/caf\\xe9.md: line 1: no front matter: the first line is not '---'",
            f"bad file: {folder}/zero-year.md: publishedDateTime is out of range (years 1 to 9999 "
            "in UTC): '0001-01-01 00:00:00+05:00'",
        ]
    ), lines
    assert SUMMARY.search(proc.stdout).groups() == ("1", "5", "4")  # the good file loaded


def test_load_exit_codes(tmp_path):
    good = write(tmp_path / "in", "good.md", front(title="Fine", webUrl="https://n.example/f"))
    bad = write(tmp_path / "in", "bad.md", "nothing")
    db = str(tmp_path / "n.db")
    assert newsbot("--db", db, "load", str(good), cwd=tmp_path).returncode == 0
    assert newsbot("--db", db, "load", str(good), str(bad), cwd=tmp_path).returncode == 1


def test_a_load_that_fails_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    # Bug fixed: the database failing mid-load ended newsbot with a traceback.
    import sqlite3

    from bot import cli
    from bot.core.loader import Loader

    def broken(self, paths, on_file=None):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Loader, "load", broken)
    for key in [k for k in os.environ if k.startswith("NEWSBOT_")]:
        monkeypatch.delenv(key)
    code = cli.main(["--db", str(tmp_path / "n.db"), "load", str(SEED)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        "newsbot load: the load failed: OperationalError: database or disk is full"
    ]
