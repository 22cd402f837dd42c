"""``newsbot run`` / ``serve`` as a person starts them: the mode each combination of Slack
variables picks, the line that says so (naming what was found), and clean failures: a token of
any kind Slack refuses or that is in the wrong variable is one line, never echoed."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.fakeslack import FakeSlack

ROOT = Path(__file__).parent.parent
LOG_LINE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "


def newsbot(args, env, stdin=None, timeout=60):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=ROOT,
        timeout=timeout,
    )


class SocketSlack(FakeSlack):
    """The fake Web API, answering ``apps.connections.open`` for its app-level token with a
    WebSocket address where nothing listens (a real Socket Mode server is beyond a test: the
    mode's line, and the one line when the connection fails, are what is checked here)."""

    app_token = "xapp-1-the-app-token"

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, params: Any, headers, outcome):
        if method != "apps.connections.open":
            return super()._answer(handler, method, params, headers, outcome)
        if headers.get("authorization") != f"Bearer {self.app_token}":
            return self._reply(handler, {"ok": False, "error": "invalid_auth"})
        return self._reply(handler, {"ok": True, "url": "ws://127.0.0.1:9/link"})


@pytest.fixture
def slack():
    fake = SocketSlack()
    yield fake
    fake.close()


def env_for(slack: SocketSlack, names: str) -> dict[str, str]:
    values = {
        "B": ("SLACK_BOT_TOKEN", slack.bot_token),
        "A": ("SLACK_APP_TOKEN", slack.app_token),
        "S": ("SLACK_SIGNING_SECRET", "the-signing-secret"),
    }
    env = dict(values[c] for c in names)
    return {**env, "SLACK_API_URL": slack.base_url, "PORT": "0"}


# Each combination of SLACK_BOT_TOKEN (B), SLACK_APP_TOKEN (A), SLACK_SIGNING_SECRET (S): the
# first line `newsbot run` says, and its exit status (None: it serves until stopped).
MATRIX = {
    "": (
        "newsbot: none of SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET is set: "
        "starting the local shell, which never talks to Slack",
        0,
    ),
    "B": (
        "newsbot: SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
        "SLACK_SIGNING_SECRET (HTTP): set one of them",
        2,
    ),
    "A": ("newsbot: SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: the bot needs", 2),
    "S": ("newsbot: SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not", 2),
    "AS": (
        "newsbot: SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are set but SLACK_BOT_TOKEN is not",
        2,
    ),
    "BS": (
        "newsbot: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set: serving Slack over HTTP",
        None,
    ),
    "BA": (
        "newsbot: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set: connecting to Slack in Socket Mode",
        2,  # the fake's WebSocket address answers nothing: one line more, exit 2
    ),
    "BAS": (
        "newsbot: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set: connecting to Slack in Socket "
        "Mode (SLACK_SIGNING_SECRET is set too: Socket Mode does not use it)",
        2,
    ),
}


def _secrets(slack: SocketSlack) -> list[str]:
    return [slack.bot_token, slack.app_token, "the-signing-secret"]


@pytest.mark.parametrize("names", list(MATRIX), ids=[n or "none" for n in MATRIX])
def test_each_combination_of_variables_says_its_mode(tmp_path, slack, names):
    first, status = MATRIX[names]
    env = env_for(slack, names)
    if status is None:
        lines = _serve_until(tmp_path, env, "serving Slack over HTTP on 0.0.0.0:")
        assert lines[0].startswith(first), lines
        assert not [x for x in lines if re.match(LOG_LINE, x) and " INFO " not in x], lines
        return
    out = newsbot(["--db", str(tmp_path / "x.db"), "run"], env, stdin="/news watchdog\n")
    lines = out.stderr.strip().splitlines()
    assert out.returncode == status, out.stderr
    assert lines[0].startswith(first), lines
    assert "Traceback" not in out.stderr
    for secret in _secrets(slack):
        assert secret not in out.stdout + out.stderr
    if names == "":
        assert "British watchdog urges caution" in out.stdout  # the shell answered
        assert not slack.calls, "the local shell talked to Slack"
    elif names in ("BA", "BAS"):
        assert lines[1:] == [lines[1]] and lines[1].startswith(
            "newsbot: cannot reach Slack's Socket Mode: "
        ), lines
    else:
        assert len(lines) == 1, lines
        assert not slack.posts()


def _serve_until(tmp_path: Path, env: dict[str, str], marker: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(tmp_path / "x.db"), "run"],
        env={**base, **env},
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # A thread reads the lines: select() on the pipe misses lines already in the reader's
    # buffer (two lines arriving together left the second unseen for 30 s, then failed).
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    seen: list[str] = []
    try:
        while not any(marker in x for x in seen):
            try:
                seen.append(lines.get(timeout=30).rstrip("\n"))
            except queue.Empty:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert any(marker in x for x in seen), seen
    assert proc.returncode == 0
    return seen


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1-a-user-token", "it is a user token (xoxp-)"),
        ("SLACK_BOT_TOKEN", "xapp-1-an-app-token", "it is an app-level token (xapp-)"),
        ("SLACK_BOT_TOKEN", "hunter2-not-a-token", "it has none of Slack's token prefixes"),
        ("SLACK_APP_TOKEN", "xoxb-1-a-bot-token", "it is a bot token (xoxb-)"),
    ],
)
def test_a_token_in_the_wrong_variable_is_one_line(tmp_path, slack, variable, value, says):
    env = {**env_for(slack, "BA"), variable: value}
    out = newsbot(["--db", str(tmp_path / "x.db"), "run"], env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
    assert value not in out.stderr + out.stdout
    assert not slack.calls  # said before Slack is asked


def test_a_rejected_app_token_is_one_line_and_never_echoed(tmp_path, slack):
    env = {**env_for(slack, "BA"), "SLACK_APP_TOKEN": "xapp-1-revoked-secret"}
    out = newsbot(["--db", str(tmp_path / "x.db"), "run"], env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "newsbot: SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set: connecting to Slack in Socket Mode",
        "newsbot: Slack did not accept SLACK_APP_TOKEN: invalid_auth",
    ]
    assert "revoked-secret" not in out.stderr + out.stdout


def test_serve_without_a_signing_secret_says_so_in_one_line(tmp_path):
    out = newsbot(
        ["--db", str(tmp_path / "x.db"), "serve", "--port", "0"],
        {"SLACK_BOT_TOKEN": "xoxb-secret-value"},
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "newsbot: SLACK_SIGNING_SECRET is not set: see README, 'Install in Slack'"
    ]


def test_rejected_bot_token_is_one_line_and_never_echoed(tmp_path):
    slack = FakeSlack(bot_token="xoxb-the-right-one")
    try:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-secret-value",
            "SLACK_SIGNING_SECRET": "sig-secret",
            "SLACK_API_URL": slack.base_url,
        }
        out = newsbot(["--db", str(tmp_path / "x.db"), "serve", "--port", "0"], env)
    finally:
        slack.close()
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "newsbot: Slack did not accept SLACK_BOT_TOKEN: invalid_auth"
    ]
    assert "xoxb-secret-value" not in out.stderr + out.stdout
    assert "sig-secret" not in out.stderr + out.stdout


def test_the_shell_never_posts_to_slack_whatever_is_set(tmp_path, slack):
    """`newsbot shell` with every variable set: its due digest is printed, and Slack hears
    nothing (it once posted the shell's digest to Slack as channel "shell")."""
    db = str(tmp_path / "x.db")
    env = env_for(slack, "BAS")
    first = newsbot(
        ["--db", db, "--now", "2020-02-05T07:00:00+00:00", "shell"],
        env,
        stdin="/news subscribe facial recognition at 08:00\n",
    )
    assert first.returncode == 0, first.stderr
    # 08:05, within the grace period: the shell's catch-up delivers the morning's digest
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", db, "--now", "2020-02-05T08:05:00+00:00"]
        + ["shell"],
        env={**base, **env},
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    printed = ""
    try:
        # until the digest is printed here, or reaches Slack (the old way): either ends it
        while "facial recognition" not in printed.lower() and not slack.calls:
            try:
                printed += lines.get(timeout=30)
            except queue.Empty:
                break
    finally:
        proc.communicate(input="quit\n", timeout=30)
    assert not slack.calls, [c.method for c in slack.calls]
    assert "facial recognition" in printed.lower(), printed


# -- found by bench/fuzz_cli.py (seed 14): each a traceback or more than one line before ------


def test_a_slack_that_cannot_be_reached_is_one_line(tmp_path):
    """slack_sdk's retries logged 3 ERROR lines before newsbot's own (inputs 58 and 80)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        env = {
            "SLACK_BOT_TOKEN": "xoxb-1-abcdef",
            "SLACK_SIGNING_SECRET": "sigsecret",
            "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
        }
        out = newsbot(["--db", str(tmp_path / "x.db"), "serve", "--port", "0"], env)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsbot: cannot reach Slack's Web API: "), lines


def test_an_api_address_that_is_no_address_is_one_line(tmp_path):
    """'not a url' ended in a ValueError traceback, exit 1 (inputs 18 and 31)."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-abcdef",
        "SLACK_SIGNING_SECRET": "sigsecret",
        "SLACK_API_URL": "not a url",
    }
    out = newsbot(["--db", str(tmp_path / "x.db"), "serve", "--port", "0"], env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "newsbot: SLACK_API_URL: SLACK_API_URL = 'not a url': an http(s) address such as "
        "https://slack.com/api/"
    ]


def test_a_port_in_use_is_one_line_and_starts_no_digest(tmp_path, slack):
    """A traceback through waitress's bind, after the digests had started (inputs 144, 237)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = env_for(slack, "BS")
        args = ["--db", str(tmp_path / "x.db"), "serve", "--host", "127.0.0.1", "--port"]
        out = newsbot([*args, str(port)], env)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"newsbot: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(--port, $PORT or server.port)"
    ]
