"""The shell: the /news language on a pipe, with the bundled sample on an empty database."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from bot.core.loader import Loader
from bot.core.service import NewsService
from bot.shell import run_shell
from tests.conftest import SEED
from tests.test_cli import clean_env


def test_piped_search_on_an_empty_database_loads_the_sample(tmp_path):
    db = tmp_path / "empty.db"
    proc = subprocess.run(
        f"printf '/news facial recognition\\n' | {sys.executable} -m bot.cli --db {db} shell",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "Empty database: loaded the bundled sample (23 articles from 1 files, 0 bad" in proc.stderr
    )
    out = proc.stdout
    assert [int(n) for n in re.findall(r"^(\d+)\. ", out, re.MULTILINE)] == [1, 2, 3, 4, 5]
    assert re.search(r"^\(5 of 20 stories\)$", out, re.MULTILINE)  # the NY bill pair is one
    assert "facial recognition" in out.lower()
    assert "newsbot shell" not in out  # no prompt or banner on a pipe


def test_piped_search_with_the_console_script(tmp_path):
    exe = f"{sys.executable.rsplit('/', 1)[0]}/newsbot"
    proc = subprocess.run(
        f"printf '/news facial recognition\\n' | {exe} --db {tmp_path / 'x.db'} shell",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "1. " in proc.stdout and "stories)" in proc.stdout


def test_shell_lines_in_process(fresh_db, clock):
    Loader(fresh_db, clock).load([SEED])
    service = NewsService(fresh_db, clock)
    stdin = io.StringIO(
        "\n   \nhelp\nfacebook settle\n/news subscribe ai at 25:00\n\x00😀\nquit\nnever read\n"
    )
    out = io.StringIO()
    assert run_shell(service, stdin=stdin, stdout=out) == 0
    text = out.getvalue()
    assert "newsbot commands:" in text
    assert "Facebook to Pay $550 Million" in text or "Facebook To Pay $550 Million" in text
    assert "also: " in text
    assert "25:00" in text
    assert "Type a word or two to search for." in text
    assert "never read" not in text


def test_shell_does_not_reload_a_database_that_has_articles(fresh_db, clock, capsys):
    Loader(fresh_db, clock).load([SEED / "000_73ad8a6e389ae6e4.txt"])
    service = NewsService(fresh_db, clock)
    out = io.StringIO()
    run_shell(service, stdin=io.StringIO("watchdog\n"), stdout=out)
    assert "Empty database" not in capsys.readouterr().err
    assert fresh_db.count_articles() == 23
