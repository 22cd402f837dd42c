"""Talking to a running newsbot the way Slack does: signed, form-encoded HTTP requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.config import load_config
from bot.core.loader import Loader
from bot.runtime import Runtime
from bot.server import make_http_server
from storage.store import Store
from tests.fakeslack import FakeSlack

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
SEED = Path(__file__).parent.parent / "bot" / "sample" / "seed.txt"


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    body: str


def post(url: str, body: str, headers: dict[str, str]) -> Reply:
    req = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )  # a Content-Type in ``headers`` (JSON events) wins
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Reply(resp.status, resp.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read().decode())


@dataclass
class Bot:
    """A newsbot HTTP server on 127.0.0.1 with a fake Slack behind it."""

    slack: FakeSlack
    store: Store
    runtime: Runtime
    url: str
    _server: Any = None
    _counter: int = field(default=0)

    def command(
        self,
        text: str,
        *,
        channel: str = "C1",
        user: str = "U1",
        team: str = "T1",
        channel_name: str = "general",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        self._counter += 1
        body = urlencode(
            {
                "token": "unused-verification-token",
                "team_id": team,
                "team_domain": "acme",
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": "ada",
                "command": "/news",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.slack.response_url(f"cmd{self._counter}"),
                "trigger_id": f"trigger.{self._counter}",
            }
        )
        return post(self.url, body, sign(body) if headers is None else headers)

    def action(
        self, action_id: str, value: str, *, channel: str = "C1", user: str = "U1", team: str = "T1"
    ) -> Reply:
        return self.action_payload(
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1.2",
            },
            channel=channel,
            user=user,
            team=team,
        )

    def action_payload(
        self, action: dict[str, Any], *, channel: str = "C1", user: str = "U1", team: str = "T1"
    ) -> Reply:
        """A ``block_actions`` request for one element of a message (a button, a menu)."""
        self._counter += 1
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "username": "ada", "team_id": team},
            "api_app_id": "A1",
            "token": "unused",
            "trigger_id": f"trigger.{self._counter}",
            "channel": {"id": channel, "name": "general"},
            "container": {
                "type": "message",
                "message_ts": "1.1",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "response_url": self.slack.response_url(f"act{self._counter}"),
            "actions": [action],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return post(self.url, body, sign(body))

    def ask(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Send a command and wait for its answer (commands run concurrently otherwise)."""
        self.command(text, **kwargs)
        name = f"cmd{self._counter}"
        assert self.slack.wait_for(lambda: any(r["url_name"] == name for r in self.slack.responses))
        return next(r for r in self.slack.responses if r["url_name"] == name)

    def event(self, event: dict[str, Any], team: str = "T1") -> Reply:
        """An Events API callback, JSON-encoded and signed as Slack sends it."""
        self._counter += 1
        body = json.dumps(
            {
                "token": "unused",
                "team_id": team,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": f"Ev{self._counter}",
                "event_time": int(time.time()),
                "event": event,
                "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
            }
        )
        headers = {"Content-Type": "application/json", **sign(body)}
        return post(self.url, body, headers)

    def home_action(self, action: dict[str, Any], user: str = "U1", team: str = "T1") -> Reply:
        """A ``block_actions`` payload from a control on the Home tab."""
        self._counter += 1
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "username": "ada", "team_id": team},
            "api_app_id": "A1",
            "token": "unused",
            "trigger_id": f"trigger.{self._counter}",
            "container": {"type": "view", "view_id": "V1"},
            # Slack sends the view the control is on, private_metadata included
            "view": {"blocks": [], **self.slack.views.get(user, {}), "id": "V1", "type": "home"},
            "actions": [{"block_id": "b1", "action_ts": "1.2", **action}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return post(self.url, body, sign(body))

    def wait_home(self, user: str, n: int) -> dict[str, Any]:
        """The Home view of ``user`` after the ``n``-th views.publish."""

        def calls() -> list[Any]:
            return [
                c for c in self.slack.calls_to("views.publish") if c.params.get("user_id") == user
            ]

        assert self.slack.wait_for(lambda: len(calls()) >= n), f"{len(calls())} publishes"
        return self.slack.views[user]

    def wait_responses(self, n: int) -> list[dict[str, Any]]:
        assert self.slack.wait_for(lambda: len(self.slack.responses) >= n), (
            f"expected {n} response_url posts, got {len(self.slack.responses)}"
        )
        # answers come from worker threads, in any order: sort them by the request they answer
        return sorted(self.slack.responses, key=lambda r: int(r["url_name"].lstrip("cmdat")))

    def close(self) -> None:
        self._server.stop()
        self.store.close()


def start_bot(
    tmp_path: Path,
    slack: FakeSlack,
    clock: Any,
    extra_env: dict[str, str] | None = None,
    load_seed: bool = True,
) -> Bot:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        **(extra_env or {}),
    }
    config = load_config(path=None, env=env, overrides={"db": str(tmp_path / "bot.db")})
    store = Store(config.db)
    if load_seed:
        Loader(store, clock).load([SEED])
    runtime = Runtime(config, store, clock)
    app = runtime.build_app(http=True)
    server = make_http_server(app, store, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    return Bot(slack, store, runtime, url, server)
