"""Real processes: ``newsbot digest`` (``python -m bot.cli digest``) against the fake Slack
over HTTP. A run killed with SIGKILL between two posts, then run again; two runs at once on
one database. Every channel ends with exactly one digest."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.store import Store
from tests.digests.conftest import TEAM, add_article, digest_posts, subscribe
from tests.fakeslack import FakeSlack

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
NOW = "2024-05-02T08:00:30+00:00"
REPO = Path(__file__).resolve().parents[2]


def SLACK_CLOCK() -> float:
    return dt.datetime.fromisoformat(NOW).timestamp()


class GatedSlack(FakeSlack):
    """The fake Slack, where a post to ``gate`` waits until released (then is stored, or not:
    ``store_gated``), and every post can take ``delay`` seconds (server-side latency)."""

    def __init__(
        self, gate: str | None = None, store_gated: bool = True, delay: float = 0.0
    ) -> None:
        super().__init__(clock=SLACK_CLOCK)  # Slack's clock agrees with the bot's --now
        self.gate, self.store_gated, self.delay = gate, store_gated, delay
        self.arrived, self.release, self.finished = (threading.Event() for _ in range(3))

    def _serve(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            if self.delay:
                time.sleep(self.delay)
            if self.gate and p.get("channel") == self.gate and not self.release.is_set():
                self.arrived.set()
                self.release.wait(60)
                try:
                    if not self.store_gated:
                        return {"ok": False, "error": "internal_error"}
                    return super()._serve(method, p)
                finally:
                    self.finished.set()
        return super()._serve(method, p)


def newsbot_digest(db: Path, fake: FakeSlack, cwd: Path, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.base_url,
        "NEWSBOT_DB": str(db),
        "PYTHONPATH": str(REPO),
        "NEWSBOT_DIGEST_POST_SETTLE_SECONDS": "0.5",
    }  # the fake stores nothing late
    env.pop("NEWSBOT_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--now", NOW, "digest", *extra],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A database file with three channels' subscriptions and two stories, for ``newsbot
    digest`` processes to open (a path, not ``fresh_db``: the test's own connection is closed
    before they start)."""
    path = tmp_path / "news.db"
    store = Store(path)
    for n in range(1, 4):
        subscribe(store, f"C{n}", "solar")
    add_article(store, "Solar farm opens", DUE - dt.timedelta(hours=3))
    add_article(store, "Solar panels cheaper", DUE - dt.timedelta(hours=4))
    store.close()
    yield path


@pytest.mark.parametrize("stored", [True, False], ids=["post-stored", "post-lost"])
def test_sigkill_between_two_posts_then_rerun(db: Path, tmp_path: Path, stored: bool) -> None:
    fake = GatedSlack(gate="C2", store_gated=stored)
    try:
        first = newsbot_digest(db, fake, tmp_path)
        assert fake.arrived.wait(60), first.communicate(timeout=30)
        # C1's digest has landed; C2's post is in flight: kill the process now.
        assert len(digest_posts(fake, "C1")) == 1
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        assert first.returncode == -signal.SIGKILL
        fake.release.set()  # Slack finishes the request: the post is stored (or not)
        assert fake.finished.wait(30)
        assert len(digest_posts(fake, "C2")) == (1 if stored else 0)

        second = newsbot_digest(db, fake, tmp_path)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert "C1 " not in out  # done before the kill: not due any more
        assert (
            f"C2, digest of Thu 2 May 2024 (08:00 UTC): {'already in Slack' if stored else 'posted'}"
            in out
        )
        assert "C3, digest of Thu 2 May 2024 (08:00 UTC): posted" in out
        for channel in ("C1", "C2", "C3"):
            assert len(digest_posts(fake, channel)) == 1, channel

        # And a third run changes nothing.
        third = newsbot_digest(db, fake, tmp_path)
        out, err = third.communicate(timeout=60)
        assert third.returncode == 0 and "No digest is due" in out, (out, err)
        for channel in ("C1", "C2", "C3"):
            assert len(digest_posts(fake, channel)) == 1, channel
    finally:
        fake.release.set()
        fake.close()
    store = Store(db)
    runs = store.digest_runs(TEAM)
    assert [(r["channel_id"], r["state"]) for r in runs] == [
        ("C1", "done"),
        ("C2", "done"),
        ("C3", "done"),
    ]
    for channel in ("C1", "C2", "C3"):
        assert len(store.deliveries(TEAM, channel)) == 2
    store.close()


def test_two_processes_at_once(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    for n in range(4, 13):
        subscribe(store, f"C{n}", "solar")
    store.close()
    fake = GatedSlack(delay=0.02)
    try:
        procs = [newsbot_digest(db, fake, tmp_path) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        for n in range(1, 13):
            assert len(digest_posts(fake, f"C{n}")) == 1, n
        lines = [line for out, _ in outs for line in out.splitlines()]
        assert sum(": posted" in line for line in lines) == 12
    finally:
        fake.close()


def test_dry_run_prints_and_changes_nothing(db: Path, tmp_path: Path) -> None:
    fake = FakeSlack(clock=SLACK_CLOCK)
    try:
        proc = newsbot_digest(db, fake, tmp_path, "--dry-run", "--channel", "C2")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "News digest for C2 · Thursday 2 May 2024 (08:00 UTC)" in out
        assert "Solar farm opens" in out
        # Too late for any digest that day: still nothing recorded.
        late = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "--now",
                "2024-05-02T13:00:00+00:00",
                "digest",
                "--dry-run",
                "--channel",
                "C1",
            ],
            env={**os.environ, "NEWSBOT_DB": str(db), "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (
            late.returncode == 0
            and "C1, digest of Thu 2 May 2024 (08:00 UTC): skipped" in late.stdout
        ), late
        assert fake.calls == []
    finally:
        fake.close()
    store = Store(db)
    assert store.digest_runs() == []
    store.close()
