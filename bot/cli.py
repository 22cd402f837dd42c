"""The ``newsbot`` command: load, search, regroup, shell (and, with Slack tokens, the bot
itself)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from bot.config import Config, ConfigError, load_config
from bot.core.loader import Clock, Loader, LoadReport, iter_files, utc_now
from bot.core.regroup import WRITE_BATCH, RegroupReport, needs_regroup, regroup
from bot.core.regroup import Progress as GroupingProgress
from bot.core.search import hit_to_json, search
from bot.digests.cli import add_digest_parser, cmd_digest
from bot.digests.scheduler import DigestScheduler
from bot.feeds.cli import add_sources_parser, cmd_sources
from bot.render.common import json_terminal, one_line
from bot.render.text import render
from bot.runtime import Mode, Runtime, StartupError, choose_mode, say
from bot.stats import add_stats_parser, cmd_stats
from storage.store import Store

log = logging.getLogger("newsbot")


def parse_moment(moment: str, option: str = "--now") -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(moment)
    except ValueError:
        raise UsageError(
            f"{option} {moment!r} is not a time: ISO 8601, e.g. 2020-02-05T08:00"
        ) from None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def fixed_clock(moment: str, option: str = "--now") -> Clock:
    when = parse_moment(moment, option)
    return lambda: when


def running_clock(moment: str, option: str = "--start-at") -> Clock:
    """A clock that reads ``moment`` at start and then runs at real speed (fault trials: a
    frozen process's lease must expire by time while the day stays the one under test; the
    shell's ``--at``: old news read as that day's)."""
    start = parse_moment(moment, option)
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


class UsageError(Exception):
    """A mistake in how newsbot was called, said in one line (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="News digests for Slack.")
    parser.add_argument("--db", help="SQLite file (default: $NEWSBOT_DB, else ./newsbot.db)")
    parser.add_argument("--config", help="YAML config file (default: config/newsbot.yaml)")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more on stderr: -v at INFO, -vv at DEBUG (default: log_level)",
    )
    parser.add_argument("--now", help=argparse.SUPPRESS)  # a fixed clock, for tests and replays
    parser.add_argument("--start-at", help=argparse.SUPPRESS)  # a running clock from this moment
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("load", help="load article files and folders")
    p.add_argument("paths", nargs="+", metavar="PATH")

    p = sub.add_parser("search", help="search the loaded articles")
    p.add_argument("query", nargs="*")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("regroup", help="group every story again (after a rule change)")
    p.add_argument("--batch", type=int, default=WRITE_BATCH, help=argparse.SUPPRESS)  # per write

    p = sub.add_parser("shell", help="the /news command language on this terminal")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="the shell as of TIME (ISO 8601, e.g. 2020-02-05T08:00; UTC unless it says), its "
        "clock running from there: old articles, like the bundled sample, read as that day's news",
    )
    p = sub.add_parser("serve", help="the Slack app over HTTP (POST /slack/events, GET /healthz)")
    p.add_argument("--port", type=int, help="port (default: $PORT, else server.port)")
    p.add_argument("--host", default="0.0.0.0")
    sub.add_parser("run", help="the bot: Socket Mode, HTTP or the local shell, by what is set")
    add_digest_parser(sub)
    add_sources_parser(sub)
    add_stats_parser(sub)
    return parser


def cmd_serve(runtime: Runtime, host: str, port: int) -> int:
    from bot.server import serve_http

    app = runtime.build_app(http=True)
    running: list[DigestScheduler] = []

    def started(bound: int) -> None:  # the digests start once the port is the bot's
        say(f"serving Slack over HTTP on {host}:{bound} (POST /slack/events, GET /healthz)")
        running.append(runtime.start_digests())

    try:
        serve_http(app, runtime.store, host, port, started=started)
    finally:
        for digests in running:
            runtime.stop(digests)
    return 0


def cmd_shell(runtime: Runtime) -> int:
    from bot.shell import run_shell

    digests = runtime.start_digests(local=True)
    try:
        return run_shell(runtime.service)
    finally:
        digests.shutdown()


def cmd_run(runtime: Runtime, mode: Mode) -> int:
    """The mode :func:`choose_mode` picked, said first with the variables that picked it."""
    config = runtime.config
    say(mode.why)
    if mode.name == "socket":
        from bot.server import serve_socket_mode

        assert config.slack_app_token
        app = runtime.build_app(http=False)
        running: list[DigestScheduler] = []

        def connected(line: str) -> None:  # the digests start once Slack has the bot
            say(line)
            running.append(runtime.start_digests())

        try:
            serve_socket_mode(app, config.slack_app_token, started=connected)
        finally:
            for digests in running:
                runtime.stop(digests)
        return 0
    if mode.name == "http":
        return cmd_serve(runtime, "0.0.0.0", _port(config))
    return cmd_shell(runtime)


def _port(config: Config, given: int | None = None) -> int:
    if given is not None:  # 0 too: any free port (the line says which)
        return given
    env_port = os.environ.get("PORT")
    return int(env_port) if env_port and env_port.isdigit() else config.server.port


def cmd_load(args: argparse.Namespace, store: Store, clock: Clock, config: Config) -> int:
    """Exit 0 when every file loaded, 1 when some were bad (each named, with why), 2 when the
    load itself failed (the database, not a file: one line says why; what was committed before
    stays, and loading again goes on from there)."""
    loader = Loader(store, clock, max_bytes=config.loader.max_file_bytes)

    def load(files: list[Path], **kw: Any) -> LoadReport | None:
        try:
            return loader.load(files, **kw)
        except Exception as exc:  # the database failing, or a bug: no traceback, one line
            print(
                f"newsbot load: the load failed: {one_line(type(exc).__name__)}: {one_line(exc)}",
                file=sys.stderr,
            )
            log.debug("the load failed", exc_info=True)
            return None

    try:
        files = list(iter_files(args.paths))
    except OSError as exc:
        print(f"newsbot load: cannot list the files: {one_line(exc)}", file=sys.stderr)
        return 2
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if err.is_terminal and len(files) > 1:
        # Refreshed by hand, not by rich's refresh thread: the loader forks parse workers only
        # from a single-threaded process.
        with _progress(err) as progress:
            task = progress.add_task("loading", total=len(files))
            done = [0]

            def step(_: Path) -> None:
                progress.advance(task)
                done[0] += 1
                if done[0] % 50 == 0:
                    progress.refresh()

            report = load(files, on_file=step, on_grouping=_grouping_steps(progress))
    else:
        report = load(files)
    if report is None:
        return 2
    for path, reason in report.bad:  # one line each, whatever the name or the reason holds
        err.print(f"bad file: {one_line(path)}: {one_line(reason)}", markup=False)
    print(report.summary())
    grouping = report.grouping
    if grouping is not None and (grouping.busy or grouping.reason == "rule"):
        # said only when out of the ordinary: another process groups, or the rule changed
        err.print(grouping.summary(), markup=False)
    return 0 if report.ok else 1


def _progress(console: Console) -> Progress:
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True, auto_refresh=False)


def _grouping_steps(progress: Progress) -> GroupingProgress:
    """A progress callback for grouping: a bar per phase ("grouping", "writing")."""
    tasks: dict[str, Any] = {}

    def step(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=total)
        progress.update(tasks[phase], completed=done, total=total)
        progress.refresh()

    return step


def cmd_regroup(args: argparse.Namespace, store: Store) -> int:
    """Every story made again from the articles, by the current rule: exit 0 when done, 1 when
    another process is grouping now (nothing done), 2 when it failed (one line says why;
    what it wrote is undone by running it again)."""
    if args.batch < 1:
        print("newsbot regroup: --batch must be 1 or more", file=sys.stderr)
        return 2
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if err.is_terminal:
            with _progress(err) as progress:
                report = regroup(
                    store, full=True, progress=_grouping_steps(progress), batch=args.batch
                )
        else:
            report = regroup(store, full=True, batch=args.batch)
    except Exception as exc:  # the database failing, or a bug: one line
        print(
            f"newsbot regroup: failed: {one_line(type(exc).__name__)}: {one_line(exc)}",
            file=sys.stderr,
        )
        log.debug("the regroup failed", exc_info=True)
        return 2
    if report.busy:
        print(
            f"newsbot regroup: another newsbot process is grouping stories now "
            f"({one_line(report.busy)}); run it again when it is done",
            file=sys.stderr,
        )
        return 1
    print(_regroup_summary(report))
    return 0


def _regroup_summary(report: RegroupReport) -> str:
    per_10k = report.seconds / report.articles * 10_000 if report.articles else 0.0
    return (
        f"{report.articles} articles grouped in {report.seconds:.1f} s ({per_10k:.1f} s per "
        f"10k articles): {report.stories} stories of several articles, {report.changed} "
        "articles moved to another story"
    )


def warn_if_stale(store: Store) -> None:
    """Say so at start when the stored stories are not the current rule's (a database grouped
    by an older newsbot, or a load cut short): the bot serves them as they are meanwhile."""
    why = needs_regroup(store)
    if why:
        say(
            f"{why}: run `newsbot regroup` to group the stories again (a few seconds per "
            "10,000 articles); until then they are served as they are"
        )


def cmd_search(args: argparse.Namespace, store: Store, clock: Clock) -> int:
    query = " ".join(args.query).strip()
    if not query:
        print("usage: newsbot search QUERY [--limit N] [--json]", file=sys.stderr)
        return 2
    if args.limit < 1 or args.offset < 0:
        print("newsbot search: --limit must be 1 or more, --offset 0 or more", file=sys.stderr)
        return 2
    result = search(store, query, limit=args.limit, offset=args.offset, now=clock())
    if args.json:
        # JSON escapes C0 controls itself; the others (C1, reordering marks) as \\u escapes too
        text = json.dumps([hit_to_json(h) for h in result.hits], ensure_ascii=False, indent=2)
        print(json_terminal(text))
    else:
        from bot.core.answers import SearchAnswer

        print(render(SearchAnswer(result), clock()))
    return 0


TERMINAL_COMMANDS = ("load", "search", "regroup", "shell", "digest", "sources")
# Commands that only read: on a database file that does not exist they say so and create
# nothing (a typo in --db must not answer "no stories" from a new empty file).
READING_COMMANDS = ("search", "stats")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_level_for(setting: str, verbose: int, serving: bool) -> int:
    """The level the logs go to stderr at: ``-v`` INFO and ``-vv`` DEBUG; else ``log_level``;
    and its default, AUTO, is WARNING for a terminal command (stdout holds its answers and
    nothing else) and INFO for the bot serving Slack (a line per digest and per source polled,
    none per request)."""
    if verbose:
        return logging.DEBUG if verbose > 1 else logging.INFO
    if setting != "AUTO":
        return int(logging.getLevelName(setting))
    return logging.INFO if serving else logging.WARNING


def setup_logging(level: int) -> None:
    from bot import logsafe

    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    # APScheduler says at INFO each job added, started and done (the source poll's every
    # minute): the bot's own line says what a job did, once. Its warnings (a missed run) stay.
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level <= logging.DEBUG else max(level, logging.WARNING)
    )
    logsafe.install(level)


def main(argv: Sequence[str] | None = None) -> int:
    """``newsbot``: the exit status. No traceback reaches a person: a closed pipe, Ctrl-C and
    every failure they can cause end in one line at most (a bug still shows its traceback)."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # inside the try: a reader gone (| head) is found here, not at exit
        return status
    except BrokenPipeError:
        # The reader has all it wanted (`newsbot search ai | head -2`): stop quietly, and keep
        # Python from failing again on flushing stdout at exit. Exit 0, as the answer given
        # was the one asked for: a pipeline under `set -o pipefail` must not fail for it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(file=sys.stderr)  # Ctrl-C: off the ^C, no traceback
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config, overrides={"db": args.db})
    except ConfigError as exc:  # one line naming the key, the value and what is allowed
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    command = args.command or "run"
    try:
        mode = choose_mode(config) if command == "run" else None
        clock = _clock(args)
    except (StartupError, UsageError) as exc:
        say(str(exc))
        return 2
    serving = command == "serve" or (mode is not None and mode.name != "shell")
    setup_logging(log_level_for(config.log_level, args.verbose, serving))
    if command in READING_COMMANDS and not Path(config.db).exists():
        say(
            f"no database at {one_line(config.db)}: `newsbot load PATH` makes one, or give the "
            "right --db (or $NEWSBOT_DB)"
        )
        return 2
    try:
        store = Store(config.db)
    except Exception as exc:  # a locked, unreadable or foreign file: one line, no traceback
        say(f"cannot open the database {one_line(config.db)}: {one_line(exc)}")
        return 2
    if command == "load":
        return cmd_load(args, store, clock, config)
    if command == "search":
        return cmd_search(args, store, clock)
    if command == "digest":
        return cmd_digest(args, store, clock, config)
    if command == "regroup":
        return cmd_regroup(args, store)
    if command == "sources":
        return cmd_sources(args, store, clock, config)
    if command == "stats":
        return cmd_stats(args, store)
    warn_if_stale(store)
    runtime = Runtime(config, store, clock)
    try:
        if command == "serve":
            return cmd_serve(runtime, args.host, _port(config, args.port))
        if command == "run":
            assert mode is not None
            return cmd_run(runtime, mode)
        return cmd_shell(runtime)
    except StartupError as exc:
        say(str(exc))
        return 2
    except KeyboardInterrupt:
        return 0


def _clock(args: argparse.Namespace) -> Clock:
    if args.now:
        return fixed_clock(args.now)
    at = getattr(args, "at", None) if args.command == "shell" else None
    if at:
        return running_clock(at, "--at")
    if args.start_at:
        return running_clock(args.start_at)
    return utc_now


if __name__ == "__main__":
    sys.exit(main())
