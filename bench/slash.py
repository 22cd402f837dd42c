"""Slash-command latency: signed ``/news <query>`` requests from 20 concurrent clients (each
waits for its answer before asking again) against a running ``newsbot serve`` holding 100k
articles, and the same against a bare Bolt app (its handler only
acks, then answers a fixed text through response_url) served the same way.

Prints p50/p99 of the ack (the HTTP answer to Slack's request) and of the time to the reply
(the response_url post, received by a fake Slack on 127.0.0.1). Targets: newsbot's p99 ack
under 300 ms and within 1.5x of the bare app's; its p99 reply within 3x of the bare app's
(issue 15). ``--workers 2,4,8`` runs newsbot once per worker count (``server.workers``: the
threads doing the work after acks), to choose it by measurement. Every server binds a free
port (``--port 0``).

    python bench/slash.py [--articles 100000] [--requests 600] [--concurrency 20]
        [--workers 4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.synth import COMMON_WORD, PERCENT_WORD, RARE_WORDS, article_rows  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackhttp import SIGNING_SECRET, post, sign  # noqa: E402

OUT = ROOT / "bench" / "out"

BARE_APP = r"""
import sys
from slack_bolt import App
from bot.server import serve_http
from bot.slack.client import make_client
from storage.store import Store

client = make_client(sys.argv[2], sys.argv[3])
app = App(client=client, signing_secret=sys.argv[4], token_verification_enabled=False)

@app.command("/news")
def news(ack, respond):
    ack()
    respond(text="ok", response_type="ephemeral")

serve_http(app, Store(sys.argv[5]), "127.0.0.1", int(sys.argv[1]),
           started=lambda port: print(f"serving on {port}", file=sys.stderr, flush=True))
"""


def build_db(n: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"slash-{n}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    store = Store(tmp)
    store.insert_articles(itertools.islice(article_rows(n), n))
    store.optimize()
    store.close()
    tmp.rename(path)
    return path


def start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "serving" in line and " on " in line:
            port = int(line.split(" on ")[1].split()[0].rsplit(":", 1)[-1])
            threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
            return proc, port
    raise SystemExit(f"server did not start: {proc.wait()}")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_load(
    slack: FakeSlack, url: str, queries: list[str], requests: int, concurrency: int, tag: str
) -> tuple[list[float], list[float]]:
    sent: dict[str, float] = {}
    acks: list[float] = []

    def one(i: int) -> None:
        name = f"{tag}{i}"
        body = urlencode(
            {
                "token": "x",
                "team_id": "T1",
                "team_domain": "acme",
                "channel_id": "C1",
                "channel_name": "general",
                "user_id": "U1",
                "user_name": "ada",
                "command": "/news",
                "text": queries[i % len(queries)],
                "api_app_id": "A1",
                "response_url": slack.response_url(name),
                "trigger_id": f"t{i}",
            }
        )
        headers = sign(body)
        start_at = time.monotonic()
        sent[name] = start_at
        reply = post(url, body, headers)
        acks.append((time.monotonic() - start_at) * 1000)
        if reply.status != 200:
            raise SystemExit(f"{tag}: HTTP {reply.status}: {reply.body[:200]}")
        # Like a person, each of the concurrent clients waits for its answer before the next.
        slack.wait_for(lambda: any(r["url_name"] == name for r in reversed(slack.responses)), 60)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    names = set(sent)
    slack.wait_for(lambda: len({r["url_name"] for r in slack.responses} & names) >= len(names), 120)
    replies = [
        (r["received_at"] - sent[r["url_name"]]) * 1000
        for r in slack.responses
        if r["url_name"] in names
    ]
    return acks, replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", default="", help="newsbot's server.workers, e.g. 2,4,8")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()] or [0]
    console = Console()
    with console.status(f"building a {args.articles:,}-article database"):
        db = build_db(args.articles)
    slack = FakeSlack()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "NEWSBOT_LOG_LEVEL": "WARNING",
    }
    queries = [
        COMMON_WORD,
        PERCENT_WORD,
        RARE_WORDS[0],
        f"{COMMON_WORD} {PERCENT_WORD}",
        f"{COMMON_WORD} OR {RARE_WORDS[1]}",
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        copy.write_bytes(db.read_bytes())
        newsbot = [
            sys.executable,
            "-m",
            "bot.cli",
            "--db",
            str(copy),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ]
        servers: dict[str, tuple[list[str], dict[str, str]]] = {
            (f"newsbot serve, {w} workers" if w else "newsbot serve"): (
                newsbot,
                {**env, "NEWSBOT_SERVER_WORKERS": str(w)} if w else env,
            )
            for w in workers
        }
        servers["bare Bolt app (ack only)"] = (
            [
                sys.executable,
                "-c",
                BARE_APP,
                "0",
                slack.bot_token,
                slack.base_url,
                SIGNING_SECRET,
                str(copy),
            ],
            env,
        )
        for n, (label, (cmd, server_env)) in enumerate(servers.items()):
            proc, port = start(cmd, server_env)
            try:
                url = f"http://127.0.0.1:{port}/slack/events"
                # each run's own response names: a later run never finds an earlier's answers
                run_load(slack, url, queries, 40, args.concurrency, f"warm{n}x")  # warm-up
                results[label] = run_load(
                    slack, url, queries, args.requests, args.concurrency, f"run{n}x"
                )
            finally:
                proc.terminate()
                proc.wait()
    slack.close()

    table = Table(
        title=f"/news at {args.concurrency} concurrent, {args.requests} requests, "
        f"{args.articles:,} articles"
    )
    for col in ("server", "ack p50 ms", "ack p99 ms", "reply p50 ms", "reply p99 ms"):
        table.add_column(col, justify="right" if "ms" in col else "left")
    for label, (acks, replies) in results.items():
        table.add_row(
            label,
            f"{statistics.median(acks):.1f}",
            f"{pct(acks, 0.99):.1f}",
            f"{statistics.median(replies):.1f}",
            f"{pct(replies, 0.99):.1f}",
        )
    console.print(table)
    bare_acks, bare_replies = results["bare Bolt app (ack only)"]
    for label, (acks, replies) in results.items():
        if label.startswith("newsbot"):
            ack, reply = pct(acks, 0.99), pct(replies, 0.99)
            console.print(
                f"{label}: p99 ack {ack:.1f} ms ({ack / pct(bare_acks, 0.99):.2f}x the bare "
                f"app's; targets < 300 ms, <= 1.5x), p99 reply {reply:.1f} ms "
                f"({reply / pct(bare_replies, 0.99):.2f}x; target <= 3x)"
            )


if __name__ == "__main__":
    main()
