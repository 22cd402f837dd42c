"""HTTP fuzzer (issue 9, item 6): headers, bodies, payload shapes and forged action values,
unsigned and signed, against a running bot (a fake Slack behind it).

A failure: a 5xx, an answer with a traceback, an ERROR logged (a listener or Bolt failing), or
a signed action answered "Sorry, that did not work". Prints the inputs tried and the failures.

    python bench/fuzz_http.py [--seed N] [--count N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackhttp import Bot, sign, start_bot  # noqa: E402

NOW = dt.datetime(2020, 2, 6, 9, 0, tzinfo=dt.UTC)
ACTIONS = [
    "news_subscribe",
    "news_more",
    "news_share",
    "digest_tune",
    "home_unfollow",
    "home_page",
    "home_items",
    "home_time",
    "home_weekends",
    "home_unmute",
    "home_unsubscribe",
    "no_such_action",
]
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    10**30,
    1.5,
    True,
    "",
    "x" * 3000,
    [],
    {},
    [[[]]],
    "null",
    "²",
    "\x00",
    "\u202e",
    "\n",
    "1" * 30,
    "-5",
    '{"q": 1}',
    '{"l": "9"}',
    '{"m": "a b"}',
    '{"c": "C2", "t": "x"}',
    '{"c": "U2", "t": "y"}',
    "[" * 2000,
    '{"q": "ai", "o": 99999999999999999999}',
    {"a": [1]},
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "",
    "application/json; charset=utf-8",
    "multipart/form-data",
    "\xff",
]


def odd(rng: random.Random) -> Any:
    return rng.choice(ODD_VALUES)


def shape(rng: random.Random, bot: Bot) -> dict[str, Any]:
    """A payload of some kind, with some of its fields replaced by odd values."""
    kind = rng.choice(
        [
            "block_actions",
            "block_actions",
            "event_callback",
            "view_submission",
            "shortcut",
            "url_verification",
            rng.choice(ODD_VALUES),
        ]
    )
    action_id = rng.choice(ACTIONS)
    value = (
        rng.choice(ODD_VALUES)
        if rng.random() < 0.5
        else rng.choice(
            [
                "ai",
                "1",
                json.dumps({"q": "ai", "o": 5}),
                json.dumps({"l": 1}),
                json.dumps({"m": "reuters.com"}),
                json.dumps({"c": "C2", "t": "robots"}),
            ]
        )
    )
    payload: dict[str, Any] = {
        "type": kind,
        "team": {"id": "T1"},
        "user": {"id": rng.choice(["U1", "U3", "UADMIN"])},  # not U2
        "channel": {"id": rng.choice(["C1", "C2", "D1"])},
        "api_app_id": "A1",
        "response_url": bot.slack.response_url(f"fz{rng.randint(0, 10**6)}"),
        "actions": [
            {
                "action_id": action_id,
                "value": value,
                "type": "button",
                "selected_option": {"value": value},
                "selected_time": value,
            }
        ],
        "view": {
            "type": "home",
            "id": "V1",
            "private_metadata": rng.choice(
                ['{"page": 1}', "x", "[" * 500, '{"page": 10000000000000000000000}']
            ),
        },
        "event": {
            "type": rng.choice(["app_home_opened", "message", "reaction_added"]),
            "user": rng.choice(["U1", None, 5, ""]),
            "tab": rng.choice(["home", "messages"]),
            "channel": "D1",
        },
        "challenge": "c",
    }
    parts = [payload, payload["actions"][0], payload["event"], payload["view"]]
    for _ in range(rng.randint(0, 4)):
        target = rng.choice(parts)
        if not target:
            continue
        key = rng.choice(list(target))
        if rng.random() < 0.3:
            del target[key]
        else:
            target[key] = odd(rng)
    if rng.random() < 0.1:
        payload["actions"] = odd(rng)
    return payload


def build(rng: random.Random, bot: Bot) -> tuple[bytes, dict[str, str], bool]:
    """(body, headers, signed) of one request."""
    pick = rng.random()
    if pick < 0.45:
        payload = shape(rng, bot)
        if rng.random() < 0.5:
            body = urlencode({"payload": json.dumps(payload)})
            ctype = "application/x-www-form-urlencoded"
        else:
            body, ctype = json.dumps(payload), "application/json"
    elif pick < 0.6:  # slash commands with odd fields
        fields = {
            "team_id": "T1",
            "channel_id": rng.choice(["C1", "", "D1", "x y"]),
            "user_id": rng.choice(["U1", "", "U3"]),
            "command": rng.choice(["/news", "/x"]),
            "text": rng.choice(["help", "settings items ²", "subscribe ai", "", "\x00"]),
            "response_url": bot.slack.response_url(f"fz{rng.randint(0, 10**6)}"),
        }
        for key in rng.sample(list(fields), rng.randint(0, 2)):
            del fields[key]
        body, ctype = urlencode(fields), "application/x-www-form-urlencoded"
    elif pick < 0.8:  # raw odd bodies
        body = rng.choice(
            [
                "[1]",
                "null",
                "1",
                '"s"',
                "{",
                "payload=%5B%5D",
                "payload=null",
                "payload=" + "%5B" * 3000,
                "a=b&c",
                "\ufeff{}",
                "{}" * 1000,
                json.dumps({"type": "block_actions", "actions": None}),
                json.dumps({"type": "event_callback", "event": []}),
                json.dumps({"type": "event_callback", "event": {"type": 5}}),
                "[" * 5000 + "]" * 5000,
            ]
        )
        ctype = rng.choice(CONTENT_TYPES)
    else:  # bytes that are not UTF-8, or nothing
        body_bytes = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 300)))
        headers = {"Content-Type": rng.choice(CONTENT_TYPES)}
        signed = rng.random() < 0.5
        if signed:
            headers.update(sign(body_bytes.decode("latin-1")))
        return body_bytes, headers, signed
    headers = {"Content-Type": ctype}
    signed = rng.random() < 0.7
    if signed:
        headers.update(sign(body))
    elif rng.random() < 0.5:
        headers.update(
            {
                "X-Slack-Request-Timestamp": rng.choice(
                    ["abc", "", "1" * 40, "-1", "١٢٣", str(int(time.time()))]
                ),
                "X-Slack-Signature": rng.choice(["v0=00", "", "\xe9", "v0=" + "0" * 64]),
            }
        )
    return body.encode("utf-8"), headers, signed


def send(bot: Bot, body: bytes, headers: dict[str, str], rng: random.Random) -> tuple[int, bytes]:
    host, port = bot.url.split("/")[2].split(":")
    length = str(len(body))
    if rng.random() < 0.05:
        length = rng.choice(["abc", "-1", "", "99999999999999999999", "１２"])
    head = {"Content-Length": length, **headers}
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items() if v != "" or k != "Content-Length")
    with socket.create_connection((host, int(port)), timeout=15) as conn:
        try:
            conn.sendall(
                f"POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{lines}"
                "\r\n".encode("latin-1", "replace")
                + body
            )
        except OSError:
            pass  # refused before the body was read: the status tells
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except OSError:
            pass
    try:
        return int(data.split(b" ", 2)[1]), data
    except (IndexError, ValueError):
        return 0, data


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


def run(seed: int, count: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    failures: list[str] = []
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    slack = FakeSlack()
    slack.add_user("U1", tz="Europe/London")
    slack.add_user("UADMIN", tz="UTC", is_admin=True)
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_bot(Path(tmp), slack, lambda: NOW)
        bot.store.subscribe("T1", "C2", "robots", user_id="U2", hour=8, minute=0, tz="UTC", now=NOW)
        try:
            for _ in range(count):
                body, headers, signed = build(rng, bot)
                status, answer = send(bot, body, headers, rng)
                if status >= 500 or status == 0 or b"Traceback" in answer:
                    failures.append(f"HTTP {status} for {body[:120]!r} {headers}")
            slack.wait_idle(10)
            time.sleep(0.5)
            sorry = [r for r in slack.responses if "Sorry, that did not work" in str(r.get("text"))]
            failures += [f"answered 'Sorry': {r['url_name']}" for r in sorry]
            if "robots" not in [s["topic"] for s in bot.store.subscriptions("T1", "C2")]:
                failures.append("a forged value removed C2's subscription")
            if bot.store._rows("SELECT * FROM subscriptions WHERE channel_id = ''"):
                failures.append("a subscription stored for channel ''")
        finally:
            bot.close()
            slack.close()
            logging.getLogger().removeHandler(errors)
    return count, failures + [f"logged ERROR: {r}" for r in errors.records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    began = time.monotonic()
    tried, failures = run(args.seed, args.count)
    for failure in failures[:50]:
        print(failure)
    print(
        f"fuzz_http seed={args.seed}: {tried} requests tried, {len(failures)} failures, "
        f"{time.monotonic() - began:.0f} s"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
