"""``newsbot serve`` on a production server (issue 9, defect 10): bounded, capped, and stopped
gracefully by SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from tests.fakeslack import FakeSlack
from tests.slackhttp import SIGNING_SECRET, post, sign

ROOT = Path(__file__).parent.parent


def start_serve(tmp_path: Path, slack: FakeSlack) -> tuple[subprocess.Popen, int, queue.Queue]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    env = {
        **base,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "--db",
            str(tmp_path / "x.db"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    while True:
        line = lines.get(timeout=30)
        if "serving Slack over HTTP on" in line:
            return proc, int(line.split(" on ")[1].split()[0].rsplit(":", 1)[1]), lines


def command(slack: FakeSlack, url: str, text: str, name: str) -> int:
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": "U1",
            "command": "/news",
            "text": text,
            "response_url": slack.response_url(name),
            "trigger_id": "t",
        }
    )
    return post(url, body, sign(body)).status


def test_serve_is_waitress_with_a_body_cap(tmp_path):
    slack = FakeSlack()
    proc, port, _ = start_serve(tmp_path, slack)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.headers["Server"] == "newsbot"  # waitress, with our ident
        # refused from its Content-Length, before a byte of it is read
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"
            )
            assert conn.recv(100).split(b" ")[1] == b"413"
    finally:
        proc.kill()
        proc.wait()
        slack.close()


def test_sigterm_answers_what_is_in_flight_then_stops_cleanly(tmp_path):
    slack = FakeSlack()
    slack.add_user("U1")
    proc, port, lines = start_serve(tmp_path, slack)
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        assert command(slack, url, "help", "before") == 200
        statuses: list[int] = []
        senders = [
            threading.Thread(
                target=lambda i=i: statuses.append(
                    command(slack, url, "facial recognition", f"cmd{i}")
                )
            )
            for i in range(10)
        ]
        for t in senders:
            t.start()
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        for t in senders:
            t.join(20)
        assert proc.wait(timeout=40) == 0
        err = "".join(iter(lambda: lines.get(timeout=1) if not lines.empty() else "", ""))
        assert "Traceback" not in err
        # every request the server accepted was answered, and its answer sent
        assert statuses.count(200) == len([s for s in statuses if s])
        names = {r["url_name"] for r in slack.responses}
        assert "before" in names
        assert len(names) - 1 == statuses.count(200)
        assert not (tmp_path / "x.db-wal").exists()  # the database was closed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        slack.close()


def test_the_server_logs_a_line_per_digest_and_none_per_request(tmp_path):
    """At INFO (the server's default): the start, one line for the morning's digest, the
    stop; twenty requests add nothing. And --port 0 binds a free port (it bound 3000)."""
    import datetime as dt

    from bot.core.loader import Loader
    from storage.store import Store
    from tests.conftest import SEED

    at = dt.datetime(2020, 2, 5, 7, tzinfo=dt.UTC)
    store = Store(tmp_path / "x.db")
    Loader(store, lambda: at).load([SEED])
    store.subscribe(
        "T1", "C1", "facial recognition", user_id="U1", hour=8, minute=0, tz="UTC", now=at
    )
    store.close()
    slack = FakeSlack()
    slack.add_user("U1")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    env = {
        **base,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
    }
    args = ["--db", str(tmp_path / "x.db"), "--now", "2020-02-05T08:05:00+00:00", "serve"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args, "--host", "127.0.0.1", "--port", "0"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while not any("serving Slack over HTTP on" in x for x in seen):
            seen.append(lines.get(timeout=30))
        port = int(seen[-1].split(" on ")[1].split()[0].rsplit(":", 1)[1])
        assert port != 3000
        url = f"http://127.0.0.1:{port}/slack/events"
        for i in range(20):
            assert command(slack, url, "facial recognition", f"c{i}") == 200
        assert slack.wait_for(lambda: len(slack.responses) >= 20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        slack.close()
    reader.join(timeout=10)  # its last lines: the process has ended, the pipe is closing
    while not lines.empty():
        seen.append(lines.get())
    logged = [x.split(" INFO ", 1)[1].strip() for x in seen if " INFO " in x]
    assert len(logged) == 3, seen
    assert logged[0] == "newsbot.digests: digest scheduler: 1 channel job(s)"
    assert logged[1].startswith("newsbot.digests: digest job: C1 2020-02-05: posted")
    assert logged[2] == "newsbot.http: HTTP server stopped"
    assert not [x for x in seen if " WARNING " in x or " ERROR " in x or "Traceback" in x]
