"""``newsbot stats`` (bot/stats.py): each table's rows and bytes and the files' sizes, as a
table on a terminal, plain lines on a pipe, JSON with ``--json``; through the CLI too."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

from bot import cli
from bot.stats import cmd_stats, plain_lines
from storage.store import Store
from tests.conftest import SEED
from tests.test_cli import newsbot


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def stats(store: Store, out: io.StringIO, *, json_out: bool = False) -> str:
    assert cmd_stats(argparse.Namespace(json=json_out), store, out=out) == 0
    return out.getvalue()


def test_a_fresh_database_in_plain_lines(fresh_db: Store, tmp_path: Path) -> None:
    lines = stats(fresh_db, io.StringIO()).splitlines()
    assert lines[0] == f"database {tmp_path / 'test.db'}"
    figures = dict(line.split(" ", 1) for line in lines[1:5])
    assert set(figures) == {"file", "wal", "fts", "free"}
    assert int(figures["file"]) == (tmp_path / "test.db").stat().st_size
    assert int(figures["fts"]) > 0
    tables = {line.split()[1]: line.split()[2:] for line in lines[5:]}
    assert tables["deliveries"][0] == "0" and tables["digest_runs"][0] == "0"
    assert {n: int(v[0]) for n, v in tables.items()} == fresh_db.table_counts()
    assert lines == plain_lines(fresh_db.sizes())


def test_json_for_machines(fresh_db: Store) -> None:
    data = json.loads(stats(fresh_db, io.StringIO(), json_out=True))
    assert set(data) == {
        "path",
        "file_bytes",
        "wal_bytes",
        "fts_bytes",
        "page_size",
        "free_pages",
        "tables",
    }
    rows = {t["name"]: t["rows"] for t in data["tables"]}
    assert rows == fresh_db.table_counts() and rows["articles"] == 0


def test_a_table_on_a_terminal(fresh_db: Store) -> None:
    text = stats(fresh_db, Terminal())
    assert "full-text index" in text and "WAL" in text
    assert "┃" in text and "│ delivered_articles   │    0 │" in text


def test_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    assert cli.main(["--db", str(db), "load", str(SEED)]) == 0
    done = newsbot("--db", str(db), "stats", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {t["name"]: t["rows"] for t in json.loads(done.stdout)["tables"]}
    assert rows["articles"] == 23
    plain = newsbot("--db", str(db), "stats", cwd=tmp_path)
    assert "table articles 23 " in plain.stdout and plain.stderr == ""


def test_a_missing_database_is_one_line_and_nothing_is_made(tmp_path: Path) -> None:
    done = newsbot("--db", str(tmp_path / "typo.db"), "stats", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "no database at" in done.stderr
    assert not (tmp_path / "typo.db").exists()
