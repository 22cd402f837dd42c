"""The terminal as a person meets it (issue 14): answers alone on stdout, logs on stderr at
WARNING unless asked, no traceback on quit, a closed pipe or Ctrl-C, one line for a database
path that cannot be right."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SEED
from tests.test_cli import clean_env, newsbot

ROOT = Path(__file__).parent.parent
# logging's lines as newsbot formats them: "2026-11-26 12:15:00,004 INFO apscheduler..."
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def project_dir(tmp_path: Path) -> Path:
    """A folder like the checkout the README's commands run in: its config file, no database."""
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "newsbot.yaml", tmp_path / "config" / "newsbot.yaml")
    return tmp_path


def readme_first_command() -> str:
    """The command the README's first block ends with (after the install)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return block.strip().rsplit("&&", 1)[1].strip()


def test_the_readme_shell_on_a_fresh_database_prints_stories_and_no_log_line(tmp_path):
    command = readme_first_command()
    assert command == "newsbot"
    exe = Path(sys.executable).parent / command
    cwd = project_dir(tmp_path)
    proc = subprocess.run(
        f"printf 'facial recognition\\n/news subscribe facial recognition\\n/news preview\\n' "
        f"| {exe}",
        shell=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Facebook to Pay $550 Million to Settle Facial Recognition Suit" in proc.stdout
    assert re.search(r"^1\. ", proc.stdout, re.MULTILINE)
    for stream in (proc.stdout, proc.stderr):
        assert not LOG_LINE.search(stream), stream
        assert "Traceback" not in stream and "Exception" not in stream
    assert (cwd / "newsbot.db").exists()


def test_quitting_at_once_never_prints_a_traceback(tmp_path):
    """`echo quit | newsbot shell` raced the scheduler's removal of its catch-up job: 2 runs
    in 8 ended in "Exception in thread APScheduler ... JobLookupError". Ten runs here; the
    race itself is pinned in tests/digests/test_scheduler.py."""
    db = tmp_path / "x.db"
    for _ in range(10):
        out = newsbot("--db", str(db), "shell", cwd=tmp_path, stdin="quit\n")
        assert out.returncode == 0
        assert out.stdout == ""
        assert "Traceback" not in out.stderr and "Exception" not in out.stderr, out.stderr
        assert not LOG_LINE.search(out.stderr), out.stderr


def test_a_closed_pipe_ends_quietly(tmp_path):
    db = tmp_path / "x.db"
    assert newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path).returncode == 0
    # `| head -1`: the reader goes away after one line; the answer is longer than a pipe's
    # buffer is not needed, Python reports the broken pipe when it flushes
    proc = subprocess.run(
        f"{sys.executable} -m bot.cli --db {db} search facial recognition --limit 20 | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        executable="/bin/bash",
    )
    assert proc.stdout.startswith("1. ")
    assert proc.stderr == "", proc.stderr


def test_a_closed_pipe_on_a_long_answer_exits_0(tmp_path):
    db = tmp_path / "x.db"
    assert newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path).returncode == 0
    proc = subprocess.run(
        f"set -o pipefail; {sys.executable} -m bot.cli --db {db} search facial recognition "
        "--limit 20 --json | head -c 10",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        executable="/bin/bash",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr


def as_at_a_terminal() -> None:
    """In the child: Ctrl-C as at a terminal. A job started in the background by a
    non-interactive shell (a CI runner's) inherits SIGINT ignored, and Python then installs
    no KeyboardInterrupt at all: the signal would do nothing, and these tests test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_in_the_shell_is_no_traceback(tmp_path):
    db = tmp_path / "x.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "shell"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=clean_env(),
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    assert proc.stdin is not None
    proc.stdin.write("facial recognition\n")
    proc.stdin.flush()
    # wait for its answer: the shell is then waiting for the next line
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("1. ")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0  # the shell, like the bot, takes Ctrl-C as a stop
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_ctrl_c_during_a_load_is_no_traceback(tmp_path):
    """Ctrl-C reaches the whole process group: the load and its parse workers."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = next(f for f in sorted(SEED.iterdir()) if f.is_file()).read_text()
    for i in range(3000):  # enough to be loading, in worker processes, when the signal comes
        # each file its own main article (a new address): a load of copies is done at once
        text = body.replace('webUrl: "https://', f'webUrl: "https://n{i}.', 1)
        (corpus / f"a{i}.txt").write_text(text.replace("title:", f"title: n{i}", 1))
    db = tmp_path / "x.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "load", str(corpus)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**clean_env(), "NEWSBOT_PARSE_WORKERS": "2"},
        text=True,
        start_new_session=True,
        preexec_fn=as_at_a_terminal,
    )
    # interrupted once it writes (its journal exists), not after a fixed wait
    deadline = time.monotonic() + 30
    while not Path(f"{db}-wal").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # interrupted, not finished
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


@pytest.mark.parametrize("command", [["search", "ai"], ["load", str(SEED)], ["shell"]])
def test_a_database_in_a_folder_that_does_not_exist_is_one_line_and_creates_nothing(
    tmp_path, command
):
    db = tmp_path / "typo" / "dir" / "x.db"
    out = newsbot("--db", str(db), *command, cwd=tmp_path, stdin="quit\n")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and "folder" in lines[0], lines
    assert not (tmp_path / "typo").exists()
    assert out.stdout == ""


def test_searching_a_database_that_does_not_exist_says_so_and_creates_nothing(tmp_path):
    out = newsbot("--db", str(tmp_path / "nope.db"), "search", "ai", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"newsbot: no database at {tmp_path / 'nope.db'}: `newsbot load PATH` makes one, or "
        "give the right --db (or $NEWSBOT_DB)"
    ]
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize(
    "content", [b"this is not a database\n" * 100, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_an_unreadable_database_is_one_line(tmp_path, content):
    db = tmp_path / "x.db"
    db.write_bytes(content)
    for command in (["search", "ai"], ["shell"], ["load", str(SEED)]):
        out = newsbot("--db", str(db), *command, cwd=tmp_path, stdin="quit\n")
        assert out.returncode == 2, (command, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"newsbot: cannot open the database {db}")
        assert "Traceback" not in out.stderr


def test_terminal_commands_log_at_warning_unless_asked(tmp_path):
    db = tmp_path / "x.db"
    quiet = newsbot("--db", str(db), "load", str(SEED), cwd=tmp_path)
    assert quiet.returncode == 0 and not LOG_LINE.search(quiet.stderr), quiet.stderr
    # the shell starts the scheduler: APScheduler's and newsbot's INFO lines only with -v
    plain = newsbot("--db", str(db), "shell", cwd=tmp_path, stdin="facial recognition\n")
    loud = newsbot("-v", "--db", str(db), "shell", cwd=tmp_path, stdin="facial recognition\n")
    assert not LOG_LINE.search(plain.stderr + plain.stdout)
    assert re.search(r" INFO newsbot\.digests: digest scheduler", loud.stderr), loud.stderr
    assert not LOG_LINE.search(loud.stdout)  # logs never on stdout
    assert " INFO apscheduler" not in loud.stderr  # its chatter only at DEBUG
    # log_level, when set, is what the person asked for
    env = {"NEWSBOT_LOG_LEVEL": "info"}
    asked = newsbot("--db", str(db), "shell", cwd=tmp_path, stdin="quit\n", env=env)
    assert " INFO newsbot.digests" in asked.stderr
