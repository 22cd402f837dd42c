"""Command fuzzer (issue 9, item 6): hostile ``/news`` texts through the shell's path
(``NewsService.handle_text`` and the text renderer) and through signed HTTP to a running bot.

A failure: an exception out of the shell's path; over HTTP, a status other than 200, no answer
through response_url, the "Sorry, that did not work" answer (an exception in the listener), or
an ERROR logged. Prints the inputs tried and the failures (target 0).

    python bench/fuzz_commands.py [--seed N] [--count N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.service import Context, NewsService  # noqa: E402
from bot.render.text import render  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackhttp import start_bot  # noqa: E402

NOW = dt.datetime(2020, 2, 6, 9, 0, tzinfo=dt.UTC)
WORDS = [
    "subscribe",
    "unsubscribe",
    "source",
    "sources",
    "follow",
    "unfollow",
    "mute",
    "unmute",
    "settings",
    "list",
    "preview",
    "resume",
    "help",
    "items",
    "time",
    "weekends",
    "at",
    "tz",
    "here",
    "OR",
    "NOT",
    "AND",
    "NEAR",
    "facial",
    "recognition",
    "reuters.com",
    "skip",
    "send",
    "add",
    "remove",
    "https://example.com/feed.xml",
    "<https://example.com/feed.xml|feed>",
    "file:///etc/passwd",
    "http://169.254.169.254/latest",
    "/etc",
    "#1",
]
ODD = [
    "²",
    "①",
    "٣",
    "۷",
    "\u202e",
    "\u200f",
    "\x00",
    "\x1b[31m",
    "\n",
    "\r",
    "\t",
    "\u2028",
    "\ufeff",
    '"',
    "'",
    "*",
    "-",
    "^",
    ":",
    "(",
    ")",
    "{",
    "}",
    "<!channel>",
    "<@U1>",
    "&lt;",
    "&amp;",
    "%s",
    "{0}",
    "\\",
    "/",
    "..",
    "\U0001f600",
    "ﬁ",
    "İ",
    "\ud7ff",
    "NEAR(",
    "+",
]
TIMES = ["8", "08:00", "7pm", "25:00", "99:99", "12am", "0:60", "1" * 30, "-1", "７", "٠٨:٠٠"]
ZONES = ["UTC", "Europe/London", "../../etc/passwd", "Mars/Base", "utc", "\x00", "A" * 300]


def hostile(rng: random.Random) -> str:
    kind = rng.random()
    parts: list[str] = []
    if kind < 0.6:
        parts.append(rng.choice(WORDS[:14]))  # the leading words
    for _ in range(rng.randint(0, 6)):
        pick = rng.random()
        if pick < 0.35:
            parts.append(rng.choice(WORDS))
        elif pick < 0.6:
            parts.append(rng.choice(ODD))
        elif pick < 0.7:
            parts.append("at " + rng.choice(TIMES))
        elif pick < 0.78:
            parts.append("tz " + rng.choice(ZONES))
        elif pick < 0.9:
            parts.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 8))))
        else:
            parts.append(rng.choice(ODD) * rng.randint(1, 300))
    if rng.random() < 0.02:
        parts.append("x" * rng.randint(1900, 2100))
    text = " ".join(parts)
    if rng.random() < 0.1:
        text = "/news " + text
    return text.replace("\ud7ff", "")


def fuzz_shell(texts: list[str], db: Path) -> list[str]:
    from bot.core.loader import Loader
    from storage.store import Store
    from tests.slackhttp import SEED

    store = Store(db)
    Loader(store, lambda: NOW).load([SEED])
    service = NewsService(store, lambda: NOW)
    failures = []
    for i, text in enumerate(texts):
        ctx = Context(is_dm=i % 3 == 0, channel_id="D1" if i % 3 == 0 else "shell")
        try:
            render(service.handle_text(text, ctx), NOW)
        except Exception as exc:
            failures.append(f"shell: {text!r}: {type(exc).__name__}: {exc}")
    store.close()
    return failures


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


def fuzz_http(texts: list[str], tmp: Path) -> list[str]:
    slack = FakeSlack()
    slack.add_user("U1", tz="Europe/London")
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    bot = start_bot(tmp, slack, lambda: NOW)
    failures = []
    try:
        for i, text in enumerate(texts):
            channel = ("D9", "directmessage") if i % 4 == 0 else ("C1", "general")
            count = len(slack.responses)
            reply = bot.command(text, channel=channel[0], channel_name=channel[1])
            name = f"cmd{bot._counter}"
            if reply.status != 200:
                failures.append(f"http: {text!r}: HTTP {reply.status}")
                continue

            # waited for at once, inside this iteration: the loop variables cannot move under it
            def answered(count: int = count, name: str = name) -> bool:
                return len(slack.responses) > count and any(
                    r["url_name"] == name for r in slack.responses[count:]
                )

            if not slack.wait_for(answered, 10):
                failures.append(f"http: {text!r}: no answer")
                continue
            answer = next(r for r in slack.responses[count:] if r["url_name"] == name)
            if "Sorry, that did not work" in str(answer.get("text")):
                failures.append(f"http: {text!r}: answered 'Sorry'")
    finally:
        bot.close()
        slack.close()
        logging.getLogger().removeHandler(errors)
    return failures + [f"logged ERROR: {r}" for r in errors.records]


def run(seed: int, count: int, http_count: int | None = None) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    texts = [hostile(rng) for _ in range(count)]
    http_texts = texts[: count if http_count is None else http_count]
    with tempfile.TemporaryDirectory() as tmp:
        failures = fuzz_shell(texts, Path(tmp) / "shell.db")
        failures += fuzz_http(http_texts, Path(tmp))
    return len(texts) + len(http_texts), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=2000, help="texts (each through both paths)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    began = time.monotonic()
    tried, failures = run(args.seed, args.count)
    for failure in failures[:50]:
        print(failure)
    print(
        f"fuzz_commands seed={args.seed}: {tried} inputs tried ({args.count} texts through the "
        f"shell and through signed HTTP), {len(failures)} failures, "
        f"{time.monotonic() - began:.0f} s"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
