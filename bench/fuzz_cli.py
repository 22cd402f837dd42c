"""Command-line fuzzer (issue 14, item 5): ``newsbot`` processes started the way a person
mistypes them, each a random draw of the Slack variables (absent, empty, right, of the wrong
kind, garbage; a fake Slack that accepts, refuses, fails or is not there), of ``--db`` (fresh,
in folders that do not exist, a folder, /dev/null, garbage, SQLite's header then garbage, empty,
unicode or newline in the name, a loaded database), of the configuration (``--config`` and
``NEWSBOT_*``: missing, a folder, garbage, a list, unknown keys, bad values) and of the command.

The oracle, for every process: it ends within the timeout, unless it serves Slack (then
SIGTERM ends it with exit 0); no "Traceback" or "Exception" in what it printed; its exit status
is 0, 1, 2 or 130; on exit 2 stderr holds at most 2 lines and no log line (logs the input asked
for with -v/-vv or log_level are not counted); no secret the fuzzer set appears in its output;
stdout never holds a log line; a database path in a folder that does not exist creates nothing,
and an exit 2 that names the database leaves no new file there.

Prints the inputs run and the failures by class, each with the command line, the environment
and the stdin to reproduce it (``--only N --keep`` runs input N alone and keeps its folder);
exit 1 on any failure.

    python bench/fuzz_cli.py [--seed N] [--count N] [--jobs N] [--only N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakeslack import FakeSlack  # noqa: E402

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ", re.M
)
SERVING = ("serving Slack over HTTP on", "connected to Slack in Socket Mode")
SEED_FIXTURE = ROOT / "tests" / "fixtures" / "seed"
GOOD_CONFIG = ROOT / "config" / "newsbot.yaml"
BOT_TOKEN = "xoxb-1-fzgood-bot-9f3e2a"  # the one the fake Slack accepts
SLACK_NAMES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
SECRET_NAMES = set(SLACK_NAMES)
# apps.connections.open, by the app token's third part: xapp-1-<how>-<n>
APP_ANSWERS = ("deadws", "refused", "http500", "drop")
WORDS = ["facial", "recognition", "ai", "OR", "NOT", '"', "²", "\u202e", "ñ", "--json", "*", "-"]
GARBAGE_UNITS = [" ", "\t", "é", "☃", "\u202e", "\x01", "\x1b[31m", "\r", "\n", "x", "🙂"]


class CliSlack(FakeSlack):
    """The fake Web API, answering ``apps.connections.open`` (Socket Mode's first call) as the
    app token says: a WebSocket address where nothing listens, a refusal, a 500, or a dropped
    connection (the rest is :class:`FakeSlack`'s, which accepts :data:`BOT_TOKEN` alone)."""

    dead_port = 9

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, params: Any, headers, outcome):
        if method != "apps.connections.open":
            return super()._answer(handler, method, params, headers, outcome)
        token = str(headers.get("authorization", "")).removeprefix("Bearer ")
        parts = token.split("-")
        how = parts[2] if len(parts) > 3 and token.startswith("xapp-1-") else "refused"
        if how == "deadws":
            return self._reply(handler, {"ok": True, "url": f"ws://127.0.0.1:{self.dead_port}/l"})
        if how == "http500":
            return self._reply(handler, {"ok": False, "error": "fatal_error"}, 500)
        if how == "drop":
            return self._drop(handler)
        return self._reply(handler, {"ok": False, "error": "invalid_auth"})


@dataclass
class Input:
    """One process to start, and what the oracle needs to know about it."""

    index: int
    cwd: Path
    argv: list[str]
    env: dict[str, str]  # the SLACK_*, NEWSBOT_* and PORT variables this input sets
    stdin: str | None  # None: stdin closed
    kinds: dict[str, str]  # what was drawn, by part (for the summary and the report)
    guards: list[Path] = field(default_factory=list)  # must not exist afterwards
    db_path: Path | None = None  # the database path, to check that an exit 2 made nothing
    db_existed: bool = False
    asks_logs: bool = False  # -v, -vv or a log_level below WARNING: log lines are wanted

    def secrets(self) -> list[str]:
        return [
            v
            for k, v in self.env.items()
            if k in SECRET_NAMES and len(v.strip()) > 5 and len(set(v)) > 2
        ]


@dataclass
class Outcome:
    status: int | None
    stdout: str
    stderr: str
    served: bool  # reached a serving line and was stopped with SIGTERM
    seconds: float


# -- drawing an input --------------------------------------------------------------------------


def garbage(rng: random.Random) -> str:
    unit = "".join(rng.choice(GARBAGE_UNITS) for _ in range(rng.randint(1, 4)))
    size = rng.choice([1, 3, 40, 10240 // max(1, len(unit))])
    return unit * size


GOOD_IN_PROFILE = {
    ("SLACK_BOT_TOKEN", "http"),
    ("SLACK_BOT_TOKEN", "socket"),
    ("SLACK_SIGNING_SECRET", "http"),
}


def draw_slack(rng: random.Random, env: dict[str, str], kinds: dict[str, str], fake: str) -> None:
    n = rng.randint(0, 10**6)
    choices: dict[str, list[tuple[str, Any]]] = {
        "SLACK_BOT_TOKEN": [
            ("absent", None),
            ("empty", ""),
            ("good", BOT_TOKEN),
            ("good", BOT_TOKEN),
            ("refused", f"xoxb-1-fzrefused-{n}"),
            ("user", f"xoxp-1-fzuser-{n}"),
            ("app", f"xapp-1-fzapp-{n}"),
            ("garbage", None),
        ],
        "SLACK_APP_TOKEN": [
            ("absent", None),
            ("absent", None),
            ("empty", ""),
            *[(f"good-{how}", f"xapp-1-{how}-{n}") for how in APP_ANSWERS],
            ("bot", f"xoxb-1-fzbot-{n}"),
            ("garbage", None),
        ],
        "SLACK_SIGNING_SECRET": [
            ("absent", None),
            ("empty", ""),
            ("good", f"fzsigning{n:08d}"),
            ("good", f"fzsigning{n:08d}"),
            ("garbage", None),
        ],
    }
    # Half the inputs set one of the three ways to start (none, HTTP, Socket Mode) with good
    # values; the others draw each variable on its own.
    profile = rng.choice(["none", "http", "socket", "each", "each", "each"])
    kinds["slack"] = profile
    for name, options in choices.items():
        if profile == "each":
            kind, value = rng.choice(options)
        elif (name, profile) in GOOD_IN_PROFILE:
            kind, value = options[2]
        elif name == "SLACK_APP_TOKEN" and profile == "socket":
            kind, value = rng.choice(options[3:7])
        else:
            kind, value = "absent", None
        kinds[name] = kind
        if kind == "garbage":
            value = f"fz{n}" + garbage(rng)
        if value is not None:
            env[name] = value
    kind, url = rng.choice(
        [("fake", fake)] * 5 + [("closed", "closed"), ("not-a-url", "not a url")]
    )
    kinds["SLACK_API_URL"] = kind
    env["SLACK_API_URL"] = url  # never absent: nothing may reach the real Slack


def draw_db(rng: random.Random, cwd: Path, good_db: Path, item: Input) -> list[str]:
    kind = rng.choice(
        [
            "fresh",
            "missing-folders",
            "missing-folders",
            "folder",
            "/dev/null",
            "garbage-file",
            "sqlite-header-garbage",
            "empty-file",
            "unicode",
            "newline",
            *["good"] * 6,
            "fresh",
            "default",
        ]
    )
    item.kinds["db"] = kind
    path: Path | None
    if kind == "fresh":
        path = cwd / "fresh.db"
    elif kind == "missing-folders":
        top = cwd / rng.choice(["no", "typo dir", "ñ"])
        path = top / "such" / "x.db"
        item.guards.append(top)
    elif kind == "folder":
        path = cwd / "a-folder"
        path.mkdir()
    elif kind == "/dev/null":
        path = Path("/dev/null")
    elif kind == "garbage-file":
        path = cwd / "garbage.db"
        path.write_bytes(bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 4096))))
    elif kind == "sqlite-header-garbage":
        path = cwd / "header.db"
        tail = bytes(rng.randint(0, 255) for _ in range(rng.choice([1, 84, 4096])))
        path.write_bytes(b"SQLite format 3\x00" + tail)
    elif kind == "empty-file":
        path = cwd / "empty.db"
        path.touch()
    elif kind == "unicode":
        path = cwd / rng.choice(["ñews ☃.db", "\u202egnp.db", "新闻.db"])
    elif kind == "newline":
        path = cwd / "two\nlines.db"
    elif kind == "good":
        path = cwd / "good.db"
        shutil.copyfile(good_db, path)
    else:  # no --db: ./newsbot.db in the process's folder
        path = cwd / "newsbot.db"
    item.db_path = path
    item.db_existed = os.path.lexists(path)
    if kind == "default":
        return []
    if rng.random() < 0.2:  # the same path through the environment
        item.env["NEWSBOT_DB"] = str(path)
        return []
    return ["--db", str(path)]


BAD_CONFIGS = {
    "garbage-yaml": "digest: [unclosed\n  : : :\n",
    "list": "- db\n- log_level\n",
    "unknown-key": "colour: blue\n",
    "unknown-nested": "digest:\n  itemz: 3\n",
    "log_level-LOUD": "log_level: LOUD\n",
    "port-0": "server:\n  port: 0\n",
    "port-70000": "server:\n  port: 70000\n",
    "tz-mars": "digest:\n  default_tz: Mars/Base\n",
    "db-missing-folder": "db: cfg-no-such/dir/x.db\n",
    "scalar": "42\n",
}
BAD_ENV = [
    ("NEWSBOT_LOG_LEVEL", "LOUD"),
    ("NEWSBOT_LOG_LEVEL", "debug"),  # a good value: logs wanted
    ("NEWSBOT_LOG_LEVEL", "info"),
    ("NEWSBOT_SERVER_PORT", "70000"),
    ("NEWSBOT_DIGEST_ITEMS_PER_TOPIC", "abc"),
    ("NEWSBOT_DIGEST_DEFAULT_TIME", "25:99"),
    ("NEWSBOT_CONFIG", "/no/such/newsbot.yaml"),
    ("NEWSBOT_SOURCES_CONCURRENCY", "-1"),
    ("NEWSBOT_DIGEST_GRACE_HOURS", "nan"),
]


def draw_config(rng: random.Random, cwd: Path, item: Input) -> list[str]:
    kind = rng.choice(
        ["absent"] * 6
        + ["good"] * 3
        + ["good-default-place"] * 2
        + ["folder", "missing", "non-utf8", "bad", "bad"]
    )
    args: list[str] = []
    if kind == "good":
        shutil.copyfile(GOOD_CONFIG, cwd / "newsbot.yaml")
        args = ["--config", str(cwd / "newsbot.yaml")]
    elif kind == "good-default-place":  # config/newsbot.yaml under the folder it runs in
        (cwd / "config").mkdir()
        shutil.copyfile(GOOD_CONFIG, cwd / "config" / "newsbot.yaml")
    elif kind == "folder":
        (cwd / "conf-folder").mkdir()
        args = ["--config", str(cwd / "conf-folder")]
    elif kind == "missing":
        args = ["--config", str(cwd / "missing.yaml")]
    elif kind == "non-utf8":
        (cwd / "latin.yaml").write_bytes(b"log_level: caf\xe9\n")
        args = ["--config", str(cwd / "latin.yaml")]
    elif kind == "bad":
        kind = rng.choice(sorted(BAD_CONFIGS))
        (cwd / "bad.yaml").write_text(BAD_CONFIGS[kind], encoding="utf-8")
        if kind == "db-missing-folder":
            item.guards.append(cwd / "cfg-no-such")
        args = ["--config", str(cwd / "bad.yaml")]
    if args and rng.random() < 0.2:  # the same file through the environment
        item.env["NEWSBOT_CONFIG"] = args[1]
        args = []
    item.kinds["config"] = kind
    if rng.random() < 0.15:
        name, value = rng.choice(BAD_ENV)
        item.env[name] = value
        item.kinds["NEWSBOT_*"] = f"{name}={value}"
        if name == "NEWSBOT_LOG_LEVEL" and value in ("debug", "info"):
            item.asks_logs = True
    return args


def draw_command(rng: random.Random, item: Input) -> tuple[list[str], str | None]:
    """The command's words and the stdin script (None: closed)."""
    kind = rng.choice(
        [
            "run",
            "run",
            "run",
            "serve",
            "serve",
            "shell",
            "search",
            "search",
            "search-none",
            "load",
            "load-missing",
            "digest-dry-run",
            "digest-at-garbage",
            "shell-at",
            "sources-list",
            "regroup",
            "unknown",
        ]
    )
    item.kinds["command"] = kind
    script = rng.choice(
        [None, "quit\n", "/news search facial recognition\nquit\n", "/news list\n", "help\n\x04"]
    )
    bad_time = rng.choice(["garbage", "2020-13-45", "", "²", "2020-02-05T08:00+99:00", "now"])
    words: list[str]
    if kind == "run":
        words = ["run"]
    elif kind == "serve":
        words = ["serve", "--port", "0"]
    elif kind == "shell":
        words = ["shell"]
    elif kind == "search":
        words = ["search", *rng.sample(WORDS, rng.randint(1, 3))]
        if rng.random() < 0.2:
            words += rng.choice([["--limit", "0"], ["--offset", "-1"], ["--limit", "x"]])
    elif kind == "search-none":
        words = ["search"]
    elif kind == "load":
        words = ["load", str(SEED_FIXTURE)]
    elif kind == "load-missing":
        words = ["load", str(item.cwd / "no-such-folder")]
    elif kind == "digest-dry-run":
        words = ["digest", "--dry-run"]
    elif kind == "digest-at-garbage":
        words = ["digest", "--dry-run", "--at", bad_time]
    elif kind == "shell-at":
        words = ["shell", "--at", rng.choice([bad_time, "2020-02-05T08:00", "2020-02-05"])]
    elif kind == "sources-list":
        words = ["sources", "list"]
    elif kind == "regroup":
        words = ["regroup"]
    else:
        words = [rng.choice(["srch", "Run", "--", "ñ", "\u202e"])]
    return words, script if kind in ("run", "shell", "shell-at") else rng.choice([None, script])


def draw(
    seed: int, index: int, base: Path, good_db: Path, fake: str, ports: dict[str, int]
) -> Input:
    rng = random.Random(f"{seed}:{index}")  # each input on its own: --only N draws it again
    cwd = base / f"in{index:05d}"
    cwd.mkdir()
    item = Input(index, cwd, [], {}, None, {})
    draw_slack(rng, item.env, item.kinds, fake)
    if item.env["SLACK_API_URL"] == "closed":
        item.env["SLACK_API_URL"] = f"http://127.0.0.1:{ports['closed']}/api/"
    port_kind = rng.choice(["0", "0", "0", "busy"])
    item.env["PORT"] = str(ports["busy"]) if port_kind == "busy" else "0"
    item.kinds["PORT"] = port_kind
    options = draw_db(rng, cwd, good_db, item) + draw_config(rng, cwd, item)
    if rng.random() < 0.2:
        verbose = rng.choice(["-v", "-vv"])
        options.append(verbose)
        item.asks_logs = True
        item.kinds["verbose"] = verbose
    if rng.random() < 0.1:
        options += ["--now", rng.choice(["garbage", "2020-02-30", "²"])]
        item.kinds["--now"] = "garbage"
    words, item.stdin = draw_command(rng, item)
    item.argv = options + words if rng.random() < 0.95 else words + options  # misplaced
    return item


# -- running one -------------------------------------------------------------------------------


def child_env(item: Input) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    base.pop("PORT", None)
    base["PYTHONPATH"] = str(ROOT)  # this checkout's newsbot, whatever the folder it runs in
    return {**base, **item.env}


def start(item: Input, timeout: float) -> Outcome:
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *item.argv],
        cwd=item.cwd,
        env=child_env(item),
        stdin=subprocess.PIPE if item.stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    serving = threading.Event()
    lines: queue.Queue[None] = queue.Queue()

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if any(m.encode() in line for m in SERVING):
                serving.set()
                lines.put(None)

    readers = [
        threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True),
        threading.Thread(target=read_err, daemon=True),
    ]
    for reader in readers:
        reader.start()
    if item.stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(item.stdin.encode())
            proc.stdin.close()
        except OSError:
            pass  # it ended before reading: its exit says why
    status: int | None = None
    served = False
    deadline = began + timeout
    while time.monotonic() < deadline:
        try:
            status = proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if serving.is_set():
                served = True
                proc.send_signal(signal.SIGTERM)
                try:
                    status = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    status = None
                break
    if status is None:
        proc.kill()
        proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    decode = lambda chunks: b"".join(chunks).decode("utf-8", "replace")  # noqa: E731
    return Outcome(status, decode(out), decode(err), served, time.monotonic() - began)


def argparse_as_one(lines: list[str]) -> list[str]:
    """argparse's usage, wrapped over several lines, counted as the one line it is, and its
    error as one line too (it quotes the arguments as given: a path may hold a newline)."""
    if lines and lines[0].startswith("usage: "):
        rest = 1
        while rest < len(lines) and lines[rest].startswith(" "):
            rest += 1
        error = lines[rest:]
        if error and error[0].startswith("newsbot: error: "):
            error = [" ".join(error)]
        return [" ".join(x.strip() for x in lines[:rest]), *error]
    return lines


def judge(item: Input, got: Outcome) -> list[tuple[str, str]]:
    """The oracle: (class, detail) of each thing wrong."""
    wrong: list[tuple[str, str]] = []
    both = got.stdout + got.stderr
    if got.status is None:
        what = "did not stop on SIGTERM" if got.served else "did not end"
        wrong.append(("timeout", f"{what} within the timeout"))
    elif got.served and got.status != 0:
        wrong.append(("serving-exit", f"exit {got.status} after SIGTERM (0 expected)"))
    elif got.status not in (0, 1, 2, 130):
        wrong.append(("exit-status", f"exit {got.status}"))
    for word in ("Traceback", "Exception"):
        if word in both:
            wrong.append(("traceback", f"{word!r} in the output"))
    if LOG_LINE.search(got.stdout):
        wrong.append(("log-on-stdout", "a log line on stdout"))
    if got.status == 2:
        said = argparse_as_one(got.stderr.strip().splitlines())
        logs = [x for x in said if LOG_LINE.match(x)]
        own = [x for x in said if not LOG_LINE.match(x)]
        if len(own) > 2:
            wrong.append(("exit-2-lines", f"{len(own)} lines on stderr (at most 2)"))
        if logs and not item.asks_logs:
            wrong.append(("exit-2-log-line", f"{len(logs)} log lines on stderr"))
    for secret in item.secrets():
        if secret in both:
            wrong.append(("secret-echoed", "a token or secret the fuzzer set was printed"))
    for guard in item.guards:
        if os.path.lexists(guard):
            wrong.append(("db-created", f"{guard} was created (its folder did not exist)"))
    names_db = re.search(r"database|--db|NEWSBOT_DB|\bdb\b", got.stderr)
    if (
        got.status == 2
        and names_db
        and item.db_path is not None
        and not item.db_existed
        and os.path.lexists(item.db_path)
    ):
        wrong.append(("db-created", f"exit 2 naming the database, yet {item.db_path} was made"))
    return wrong


# -- reporting ---------------------------------------------------------------------------------


def quoted(value: str) -> str:
    """A shell word for ``value``: plain quoting, bash's $'...' for control characters, and a
    long repeat written as the Python that makes it."""
    if len(value) > 200:
        for size in range(1, 40):
            unit = value[:size]
            rest = value[len(unit) * (len(value) // size) :]
            if unit * (len(value) // size) + rest == value and len(rest) < size * 2 + 20:
                expr = f"{unit!r}*{len(value) // size}+{rest!r}"
                return f'"$(python3 -c {shlex.quote("print(" + expr + ", end=str())")})"'
    if value.isprintable():
        return shlex.quote(value)
    body = "".join(
        c if c.isprintable() and c not in "\\'" else f"\\x{ord(c):02x}" if ord(c) < 256 else c
        for c in value
    )
    return f"$'{body}'"


def reproduction(item: Input) -> str:
    env = " ".join(f"{k}={quoted(v)}" for k, v in item.env.items())
    args = " ".join(quoted(a) for a in item.argv)
    stdin = f" <<< {quoted(item.stdin)}" if item.stdin is not None else " < /dev/null"
    return (
        f"  cd {quoted(str(item.cwd))} && env $(env | grep -oE '^(SLACK|NEWSBOT)_[A-Z_]+' | "
        f"sed 's/^/-u /') PYTHONPATH={quoted(str(ROOT))} {env} "
        f"{quoted(sys.executable)} -m bot.cli {args}{stdin}"
    )


def describe(item: Input, got: Outcome, wrong: list[tuple[str, str]]) -> str:
    head = f"input {item.index}: " + "; ".join(f"[{c}] {d}" for c, d in wrong)
    drawn = ", ".join(f"{k}={v}" for k, v in item.kinds.items())

    def tail(text: str) -> str:
        lines = text.rstrip("\n").splitlines()
        shown = lines if len(lines) <= 14 else lines[:6] + ["..."] + lines[-7:]
        return "\n".join(f"    | {x[:300]}" for x in shown) or "    | (nothing)"

    return (
        f"{head}\n  drawn: {drawn}\n  exit {got.status} after {got.seconds:.1f} s"
        f"{' (served, then SIGTERM)' if got.served else ''}\n{reproduction(item)}\n"
        f"  stderr:\n{tail(got.stderr)}\n  stdout:\n{tail(got.stdout)}"
    )


# -- the campaign ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_good_db(base: Path) -> Path:
    db = base / "good-template.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NEWSBOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "load", str(SEED_FIXTURE)],
        cwd=base,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return db


@dataclass
class Report:
    tried: int = 0
    failures: list[str] = field(default_factory=list)
    by_class: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    served: int = 0


def run(
    seed: int,
    count: int,
    *,
    jobs: int = 2,
    timeout: float = 60.0,
    only: int | None = None,
    keep: bool = False,
) -> Report:
    report = Report()
    base = Path(tempfile.mkdtemp(prefix="fuzz_cli-"))
    slack = CliSlack(bot_token=BOT_TOKEN)
    busy = socket.socket()  # a port something already listens on: PORT=<busy>
    busy.bind(("0.0.0.0", 0))
    busy.listen(1)
    ports = {"closed": free_port(), "busy": int(busy.getsockname()[1])}
    slack.dead_port = free_port()
    lock = threading.Lock()
    try:
        good_db = make_good_db(base)
        indexes = [only] if only is not None else list(range(count))

        def one(index: int) -> None:
            item = draw(seed, index, base, good_db, slack.base_url, ports)
            got = start(item, timeout)
            wrong = judge(item, got)
            with lock:
                report.tried += 1
                report.statuses[f"exit {got.status}"] += 1
                report.served += got.served
                if wrong:
                    report.failures.append(describe(item, got, wrong))
                    report.by_class.update({c for c, _ in wrong})
            if not keep:
                shutil.rmtree(item.cwd, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for future in [pool.submit(one, i) for i in indexes]:
                future.result()
    finally:
        slack.close()
        busy.close()
        if keep:
            print(f"inputs kept under {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=2, help="processes at once (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per process")
    parser.add_argument("--only", type=int, help="run input N of this seed alone")
    parser.add_argument("--keep", action="store_true", help="keep the inputs' folders")
    args = parser.parse_args()
    began = time.monotonic()
    report = run(
        args.seed, args.count, jobs=args.jobs, timeout=args.timeout, only=args.only, keep=args.keep
    )
    for failure in sorted(report.failures, key=lambda f: int(f.split(":")[0].split()[1])):
        print(failure)
    classes = ", ".join(f"{c} {n}" for c, n in report.by_class.most_common()) or "none"
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(report.statuses.items()))
    print(
        f"fuzz_cli seed={args.seed}: {report.tried} inputs run ({statuses}; "
        f"{report.served} served until SIGTERM), {len(report.failures)} failures "
        f"(by class: {classes}), {time.monotonic() - began:.0f} s"
    )
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
