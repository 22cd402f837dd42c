"""Slash-command latency: signed ``/news <query>`` requests from 20 concurrent clients (each
waits for its answer before asking again) against a running ``newsbot serve`` holding 100k
articles, and the same against a bare Bolt app (its handler only
acks, then answers a fixed text through response_url) served the same way.

Prints p50/p99 of the ack (the HTTP answer to Slack's request) and of the time to the reply
(the response_url post, received by a fake Slack on 127.0.0.1). Targets: newsbot's p99 ack
under 300 ms and within 1.5x of the bare app's; its p99 reply within 3x of the bare app's
(issue 15). ``--workers 2,4,8`` runs newsbot once per worker count (``server.workers``: the
threads doing the work after acks), to choose it by measurement. Every server binds a free
port (``--port 0``) and is asked the same requests. ``--queries fixed`` (the default) asks
bench/synth.py's five in turn; ``--queries varied`` draws each request's query, with a seeded
rng, from 200 words and phrases of the database's own headlines (search keeps what it scored
for a query: the five are all repeats after the warm-up, the 200 mostly not).

    python bench/slash.py [--articles 100000] [--requests 600] [--concurrency 20]
        [--workers 4] [--queries fixed|varied]
    python bench/slash.py --profile 200 [--queries varied]
    python bench/slash.py --tls 50

``--profile N`` serves no port: it sends N requests, one after another, through newsbot's WSGI
application in this process with Bolt's and newsbot's executors made inline, so one thread
does a request's whole path (guard, signature, Bolt, listener, search, render, the
response_url post), and prints that thread's CPU per request, split by component (the time in
a component's own code, not in the components it calls). The HTTP server (waitress) is not in
it: the full run prints each server process's CPU per request, which is.

``--tls N`` measures what the fake Slack (plain HTTP) cannot show: N response_url posts over
TLS to 127.0.0.1 (a throwaway certificate, ``openssl``, added to the system's CA bundle),
through Bolt's ``respond`` as newsbot's client sets it up and as slack_sdk's default (a new
TLS context, the CA bundle loaded again, for each post).
"""

from __future__ import annotations

import argparse
import io
import itertools
import logging
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
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
VARIED = 200  # queries in the varied pool
SEED = 1

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


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far (user + system, all threads), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def command_body(slack: FakeSlack, name: str, text: str, i: int) -> str:
    """A ``/news`` request's form body, as Slack sends it; ``name`` names its response_url."""
    return urlencode(
        {
            "token": "x",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": "U1",
            "user_name": "ada",
            "command": "/news",
            "text": text,
            "api_app_id": "A1",
            "response_url": slack.response_url(name),
            "trigger_id": f"t{i}",
        }
    )


FIXED = [
    COMMON_WORD,
    PERCENT_WORD,
    RARE_WORDS[0],
    f"{COMMON_WORD} {PERCENT_WORD}",
    f"{COMMON_WORD} OR {RARE_WORDS[1]}",
]


def varied_queries(db: Path, count: int = VARIED, seed: int = SEED) -> list[str]:
    """``count`` queries drawn from the database's own headlines with a seeded rng (the same
    database gives the same list): mostly one word, some two words, some quoted phrases."""
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = [row[0] for row in con.execute("SELECT id FROM articles ORDER BY id")]
        pool: list[str] = []
        seen: set[str] = set()
        for article in rng.sample(ids, min(len(ids), count * 4)):
            if len(pool) >= count:
                break
            found = con.execute("SELECT title FROM articles WHERE id = ?", (article,)).fetchone()
            words = re.findall(r"\w+", found[0].lower()) if found else []
            if len(words) < 2:
                continue
            at = rng.randrange(len(words) - 1)
            kind = rng.random()
            if kind < 0.7:
                query = words[at]
            elif kind < 0.9:
                query = f"{words[at]} {words[at + 1]}"
            else:
                query = f'"{words[at]} {words[at + 1]}"'
            if query not in seen:
                seen.add(query)
                pool.append(query)
    finally:
        con.close()
    return pool


class Answered:
    """The response_url names answered so far, for the clients' waits. FakeSlack wakes every
    waiting client on every answer, under its lock: each check reads only the answers that came
    since the last one, where a scan of them all per client per answer cost this process ~1 ms
    of its GIL per answer at the end of a run (slowing the fake Slack that stamps the replies)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.names: set[str] = set()
        self.read = 0

    def has(self, name: str) -> bool:
        """Called under FakeSlack's lock (a ``wait_for`` predicate), so one at a time."""
        responses = self.slack.responses
        for response in itertools.islice(responses, self.read, None):
            self.names.add(response["url_name"])
        self.read = len(responses)
        return name in self.names


def sequence(pool: list[str], count: int, rng: random.Random | None) -> list[str]:
    """``count`` requests' queries: the pool in turn (fixed), or each drawn from it with ``rng``
    (varied: the same seed, the same requests, so runs compare)."""
    if rng is None:
        return [pool[i % len(pool)] for i in range(count)]
    return [rng.choice(pool) for _ in range(count)]


def run_load(
    slack: FakeSlack, url: str, queries: list[str], requests: int, concurrency: int, tag: str
) -> tuple[list[float], list[float]]:
    sent: dict[str, float] = {}
    acks: list[float] = []
    answered = Answered(slack)

    def one(i: int) -> None:
        name = f"{tag}{i}"
        body = command_body(slack, name, queries[i % len(queries)], i)
        headers = sign(body)
        start_at = time.monotonic()
        sent[name] = start_at
        reply = post(url, body, headers)
        acks.append((time.monotonic() - start_at) * 1000)
        if reply.status != 200:
            raise SystemExit(f"{tag}: HTTP {reply.status}: {reply.body[:200]}")
        # Like a person, each of the concurrent clients waits for its answer before the next.
        slack.wait_for(lambda: answered.has(name), 60)

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


class Inline:
    """An executor that runs what it is given at once, on the caller's thread: with it as
    Bolt's listener executor and newsbot's work executor, one thread does a request's whole
    path, so that thread's CPU clock measures it all (the profile only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the future, as an executor does
            done.set_exception(exc)
        return done

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        pass


class Split:
    """This thread's CPU time by component, each counted without the components it calls
    (their own wrappers subtract it): a few clock reads per request, where cProfile's hook on
    every call would count its own cost several times over (and by wall time, by default)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._inner: list[float] = []

    def timed(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            self._inner.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.thread_time() - began
                inner = self._inner.pop()
                self.totals[label] = self.totals.get(label, 0.0) + spent - inner
                if self._inner:
                    self._inner[-1] += spent

        return wrapper

    @contextmanager
    def wrapping(self, parts: list[tuple[Any, str, str]]) -> Iterator[None]:
        saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in parts]
        for (owner, attr, label), (_, _, original) in zip(parts, saved, strict=True):
            setattr(owner, attr, self.timed(label, original))
        try:
            yield
        finally:
            for owner, attr, original in saved:
                setattr(owner, attr, original)


def components() -> list[tuple[Any, str, str]]:
    """(owner, attribute, label): what the profile times, outermost first."""
    import slack_bolt.adapter.wsgi.handler as bolt_wsgi
    from slack_bolt.context.respond.respond import Respond
    from slack_sdk.signature import SignatureVerifier

    import bot.core.service.search as service_search
    import bot.listeners.commands.news as news
    import bot.listeners.deps as deps
    from bot.slack import guard

    return [
        (guard, "read_request", "guard: body read, parsed, shape checked (bot/slack/guard.py)"),
        (SignatureVerifier, "is_valid", "signature check (slack_sdk)"),
        (bolt_wsgi.SlackRequestHandler, "__call__", "Bolt: request, middleware, matching, ack"),
        (deps.Deps, "after_ack", "after_ack: the job run, its errors (bot/listeners/deps.py)"),
        (news, "answer", "listener: command parsed, context (news.py)"),
        (deps.Deps, "handle", "service: dispatch, answer around the search (bot/core/service)"),
        (service_search, "search", "search (bot.core.search.search)"),
        (deps, "render", "render: Block Kit (bot/render/blocks.py)"),
        (Respond, "__call__", "reply: the response_url post (Bolt Respond, slack_sdk webhook)"),
        (logging.Logger, "handle", "logging (records emitted)"),
    ]


def profile(console: Console, db: Path, pool: list[str], rng: random.Random | None, n: int) -> None:
    """N requests through newsbot's WSGI app in this thread: CPU per request by component."""
    import bot.app
    from bot.cli import setup_logging
    from bot.config import load_config
    from bot.core.loader import utc_now
    from bot.runtime import Runtime
    from bot.server import wsgi_app

    slack = FakeSlack()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        copy.write_bytes(db.read_bytes())
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
        }
        config = load_config(path=None, env=env, overrides={"db": str(copy)})
        setup_logging(logging.WARNING)  # newsbot serve's level under the bench
        store = Store(config.db)
        runtime = Runtime(config, store, utc_now)
        executor = bot.app.ThreadPoolExecutor
        bot.app.ThreadPoolExecutor = Inline  # type: ignore[misc,assignment]
        try:
            app = runtime.build_app(http=True)
        finally:
            bot.app.ThreadPoolExecutor = executor  # type: ignore[misc]
        served = wsgi_app(app, store)
        application = served
        sent = itertools.count()

        def one(text: str) -> None:
            i = next(sent)
            body = command_body(slack, f"p{i}", text, i).encode()
            headers = sign(body.decode())
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/slack/events",
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
                "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
                "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
            }
            status: list[str] = []
            b"".join(application(environ, lambda s, h, *exc: status.append(s)))
            if not status or not status[0].startswith("200"):
                raise SystemExit(f"profile: {status} for {text!r}")

        def run(label: str, texts: list[str]) -> float:
            began = time.thread_time()
            for text in texts:
                split.timed(label, one)(text)
            return (time.thread_time() - began) * 1000 / len(texts)

        split = Split()
        warm, first, timed = (sequence(pool, count, rng) for count in (40, n, n))
        run("warm-up", warm)  # caches, the first connections
        bare = run("(unwrapped)", first)
        split = Split()
        application = split.timed("server: WSGI app, guard's wrapper (server.py, guard.py)", served)
        with split.wrapping(components()):
            wrapped = run("bench: the request built and signed (not the server's)", timed)
        before = warm + first + timed
        repeats = sum(1 for i, text in enumerate(timed) if text in before[: 40 + n + i])
        answered = sum(1 for r in slack.responses if r["url_name"].startswith("p"))
        store.close()
    slack.close()
    if answered < 40 + 2 * n:
        raise SystemExit(f"profile: {answered} answers for {40 + 2 * n} requests")
    table = Table(title=f"one thread's CPU per /news request, {n} requests, {db.name}")
    table.add_column("component")
    table.add_column("ms/request", justify="right")
    table.add_column("share", justify="right")
    total = sum(v for k, v in split.totals.items() if not k.startswith("bench"))
    for label, spent in sorted(split.totals.items(), key=lambda kv: -kv[1]):
        share = "" if label.startswith("bench") else f"{spent / total:.0%}"
        table.add_row(label, f"{spent * 1000 / n:.2f}", share)
    table.add_row("total, the server's (with the timers)", f"{total * 1000 / n:.2f}", "")
    console.print(table)
    console.print(
        f"{repeats} of the {n} timed requests asked a query asked before in this run "
        f"(a pool of {len(pool)}); "
        f"without the timers: {bare:.2f} ms CPU per request, the bench's part included (with "
        f"them {wrapped:.2f}); the "
        "HTTP server's own work (waitress, threads) is not in these: see a full run's "
        "server CPU per request"
    )


def tls_replies(console: Console, n: int) -> None:
    """N response_url posts over TLS each way: the CPU of this thread per post. The last way is
    no newsbot code: a connection kept alive between posts, what a pooled poster would cost."""
    import http.client
    import json
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from slack_bolt.context.respond.respond import Respond

    from bot.slack import client

    class Ok(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps a connection open when the client asks
        disable_nagle_algorithm = True  # its answer's two writes, not 40 ms of delayed ACK

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with tempfile.TemporaryDirectory() as tmp:
        key, cert, bundle = (Path(tmp) / name for name in ("key.pem", "cert.pem", "ca.pem"))
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1"],
            check=True,
            capture_output=True,
        )
        paths = ssl.get_default_verify_paths()
        system = Path(paths.cafile or paths.openssl_cafile)
        bundle.write_bytes(system.read_bytes() + b"\n" + cert.read_bytes())
        os.environ["SSL_CERT_FILE"] = str(bundle)  # the default contexts trust the server too
        client.tls_context.cache_clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        served.load_cert_chain(cert, key)
        server.socket = served.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"https://127.0.0.1:{server.server_address[1]}/response/x"
        blocks = [section_block("x" * 300) for _ in range(12)]
        table = Table(title=f"{n} response_url posts over TLS, one after another")
        for col in ("post", "CPU ms/post", "wall ms/post"):
            table.add_column(col, justify="left" if col == "post" else "right")
        port = server.server_address[1]
        shared = client.make_client("xoxb-bench", f"https://127.0.0.1:{port}/api/").ssl
        kept = http.client.HTTPSConnection("127.0.0.1", port, context=shared, timeout=10)
        body = json.dumps({"text": "t", "blocks": blocks, "response_type": "ephemeral"}).encode()

        def bolt(context: ssl.SSLContext | None) -> Callable[[], int]:
            respond = Respond(response_url=url, ssl=context)
            return lambda: respond(text="t", blocks=blocks, response_type="ephemeral").status_code

        def kept_alive() -> int:
            kept.request("POST", "/response/x", body, {"Content-Type": "application/json"})
            answer = kept.getresponse()
            answer.read()
            return answer.status

        ways = {
            "Bolt respond, a context per post (slack_sdk's default: ssl=None)": bolt(None),
            "Bolt respond, newsbot's client's shared context": bolt(shared),
            "(a kept-alive http.client connection, shared context)": kept_alive,
        }
        for label, post in ways.items():
            for _ in range(3):  # warm-up
                post()
            cpu, wall = time.thread_time(), time.perf_counter()
            for _ in range(n):
                if post() != 200:
                    raise SystemExit("tls: the post failed")
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            table.add_row(label, f"{cpu * 1000 / n:.2f}", f"{wall * 1000 / n:.2f}")
        kept.close()
        server.shutdown()
        server.server_close()
    console.print(table)


def section_block(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", default="", help="newsbot's server.workers, e.g. 2,4,8")
    parser.add_argument(
        "--queries",
        choices=("fixed", "varied"),
        default="fixed",
        help=f"fixed: the {len(FIXED)} queries of bench/synth.py's words in turn (the default); "
        f"varied: each request's drawn (seeded) from {VARIED} words and phrases of the "
        "database's headlines",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="no server: N requests through newsbot in this process, CPU per component",
    )
    parser.add_argument(
        "--tls",
        type=int,
        metavar="N",
        help="no server: N response_url posts over TLS, with a shared context and without",
    )
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()] or [0]
    console = Console(width=max(Console().width, 110))
    if args.tls:
        tls_replies(console, args.tls)
        return
    with console.status(f"building a {args.articles:,}-article database"):
        db = build_db(args.articles)
    pool = FIXED if args.queries == "fixed" else varied_queries(db)
    rng = random.Random(SEED) if args.queries == "varied" else None
    console.print(
        f"queries: {args.queries} ({len(pool)}: "
        + ", ".join(repr(q) for q in pool[:6])
        + (", ..." if len(pool) > 6 else "")
        + (", each request's drawn from them, seeded)" if rng else ", in turn)")
    )
    if args.profile:
        profile(console, db, pool, rng, args.profile)
        return
    slack = FakeSlack()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "NEWSBOT_LOG_LEVEL": "WARNING",
    }
    # every server is asked the same requests
    warm, timed = sequence(pool, 40, rng), sequence(pool, args.requests, rng)
    results = {}
    cpu: dict[str, float] = {}  # each server's CPU (all its threads) per request, ms
    own: dict[str, float] = {}  # this process's (clients and fake Slack) per request, ms
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
                run_load(slack, url, warm, 40, args.concurrency, f"warm{n}x")  # warm-up
                cpu_before, own_before = cpu_seconds(proc.pid), time.process_time()
                results[label] = run_load(
                    slack, url, timed, args.requests, args.concurrency, f"run{n}x"
                )
                cpu_after = cpu_seconds(proc.pid)
                own[label] = (time.process_time() - own_before) * 1000 / args.requests
                if cpu_before is not None and cpu_after is not None:
                    cpu[label] = (cpu_after - cpu_before) * 1000 / args.requests
            finally:
                proc.terminate()
                proc.wait()
    slack.close()

    table = Table(
        title=f"/news at {args.concurrency} concurrent, {args.requests} requests, "
        f"{args.articles:,} articles, {args.queries} queries"
    )
    columns = (
        "server",
        "ack p50 ms",
        "ack p99 ms",
        "reply p50 ms",
        "reply p99 ms",
        "server CPU ms/req",
        "bench CPU ms/req",
    )
    for col in columns:
        table.add_column(col, justify="right" if "ms" in col else "left")
    for label, (acks, replies) in results.items():
        table.add_row(
            label,
            f"{statistics.median(acks):.1f}",
            f"{pct(acks, 0.99):.1f}",
            f"{statistics.median(replies):.1f}",
            f"{pct(replies, 0.99):.1f}",
            f"{cpu[label]:.2f}" if label in cpu else "-",
            f"{own[label]:.2f}",
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
