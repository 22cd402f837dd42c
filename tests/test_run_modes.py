"""``newsbot run`` / ``serve`` as a person starts them: the mode they pick, and clean failures."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.fakeslack import FakeSlack

ROOT = Path(__file__).parent.parent


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


def test_run_without_tokens_is_the_shell(tmp_path):
    out = newsbot(["--db", str(tmp_path / "x.db"), "run"], {}, stdin="/news watchdog\n")
    assert out.returncode == 0
    assert "no Slack tokens set: starting the local shell" in out.stderr
    assert "British watchdog urges caution" in out.stdout


def test_serve_without_tokens_says_so_in_one_line(tmp_path):
    out = newsbot(
        ["--db", str(tmp_path / "x.db"), "serve", "--port", "0"],
        {"SLACK_BOT_TOKEN": "xoxb-secret-value"},
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "newsbot: SLACK_SIGNING_SECRET is not set: see README, 'Install in Slack'"
    ]
    assert "Traceback" not in out.stderr


def test_rejected_token_is_one_line_and_never_echoed(tmp_path):
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
    assert "Slack did not accept SLACK_BOT_TOKEN: invalid_auth" in out.stderr
    assert "xoxb-secret-value" not in out.stderr + out.stdout
    assert "sig-secret" not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr


def test_run_with_a_signing_secret_serves_http(tmp_path):
    slack = FakeSlack()
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": "sig",
        "SLACK_API_URL": slack.base_url,
        "PORT": "0",
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(tmp_path / "x.db"), "run"],
        env={**base, **env},
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # A thread reads the lines: select() on the pipe misses lines already in the reader's
        # buffer (two lines arriving together left the second unseen for 30 s, then failed).
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
        seen = ""
        while "serving Slack over HTTP on" not in seen:
            try:
                seen += lines.get(timeout=30)
            except queue.Empty:
                break
        assert "SLACK_SIGNING_SECRET is set: serving Slack over HTTP" in seen
        assert "serving Slack over HTTP on 0.0.0.0" in seen
    finally:
        proc.kill()
        proc.wait()
        slack.close()
