"""``newsbot sources add|list|remove|import|export``: the feeds and folders newsbot polls, by
hand.

- ``add URL|PATH [--topic T ...]``: a feed (anything written ``scheme://...``: http or https
  only) or a folder that exists; one source per address (``storage.sources``);
- ``list [--json]``: every source with its health (last success, last error, items in the
  last 7 days);
- ``remove ID``: forget a source (the articles it brought stay);
- ``import FILE.opml [--topic T ...]``: every feed an OPML file lists (``bot.feeds.opml``);
- ``export``: the feeds as OPML 2.0 on standard output (folders are not feeds: left out).

Bad input (an address that cannot be a source, a folder that does not exist, one already
there, an unknown id, a file that is not OPML) is one line on standard error and exit 1; the
database failing is one line and exit 2.

``bot.cli`` adds it with :func:`add_sources_parser` and :func:`cmd_sources`. Each action is a
parser added in ``add_sources_parser`` and a handler in ``ACTIONS``; ``poll`` (one round now,
the scheduler's job) belongs to the poller and is added the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.config import Config
from bot.feeds.opml import OpmlError, OpmlFeed, read_opml, write_opml
from bot.render.common import json_terminal, one_line
from storage.sources import BadAddress, Source, kind_of, normalise_address
from storage.store import Store

log = logging.getLogger("newsbot")
Clock = Callable[[], dt.datetime]
ADDED_BY = "cli"


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    store: Store
    clock: Clock
    config: Config
    out: TextIO
    err: TextIO

    def fail(self, message: str, code: int = 1) -> int:
        print(f"newsbot sources {self.args.sources_action}: {message}", file=self.err)
        return code


Handler = Callable[[Context], int]


def add_sources_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sources", help="the feeds and folders newsbot takes news from")
    actions = p.add_subparsers(dest="sources_action", metavar="ACTION")
    a = actions.add_parser("add", help="add a feed URL or a folder of article files")
    a.add_argument("address", metavar="URL|PATH")
    _topic_option(a)
    a = actions.add_parser("list", help="every source and its health")
    a.add_argument("--json", action="store_true", help="print JSON")
    a = actions.add_parser("remove", help="remove a source (its articles stay)")
    a.add_argument("id", metavar="ID")
    a = actions.add_parser("import", help="add every feed an OPML file lists")
    a.add_argument("file", metavar="FILE.opml")
    _topic_option(a)
    actions.add_parser("export", help="print the feeds as OPML 2.0")
    a = actions.add_parser("poll", help="poll the due sources now (or one, due or not)")
    a.add_argument("id", metavar="ID", nargs="?")
    return p


def _topic_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="T",
        help="a topic given to every article it brings (again for more)",
    )


def cmd_sources(
    args: argparse.Namespace,
    store: Store,
    clock: Clock,
    config: Config,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    ctx = Context(args, store, clock, config, out or sys.stdout, err or sys.stderr)
    handler = ACTIONS.get(args.sources_action or "")
    if handler is None:
        print(f"usage: newsbot sources {{{','.join(ACTIONS)}}} ...", file=ctx.err)
        return 2
    try:
        return handler(ctx)
    except Exception as exc:  # the database failing, or a bug: one line, no traceback
        log.debug("newsbot sources failed", exc_info=True)
        return ctx.fail(f"failed: {one_line(type(exc).__name__)}: {one_line(exc)}", 2)


def interval_seconds(config: Config) -> int:
    """A new source's interval: ``sources.poll_minutes``, never below the floor."""
    return 60 * max(config.sources.poll_minutes, config.sources.min_poll_minutes)


# -- actions ---------------------------------------------------------------------------------


def cmd_add(ctx: Context) -> int:
    address: str = ctx.args.address
    kind = kind_of(address)
    try:
        normal = normalise_address(kind, address)
    except BadAddress as exc:
        return ctx.fail(one_line(exc))
    if kind == "folder":
        folder = Path(normal)
        if not folder.exists():
            return ctx.fail(f"no such folder: {one_line(address)}")
        if not folder.is_dir():
            return ctx.fail(f"not a folder: {one_line(address)}")
    source, created = ctx.store.add_source(
        kind, normal, ctx.args.topic, ADDED_BY, ctx.clock(), interval_seconds(ctx.config)
    )
    if not created:
        return ctx.fail(f"already a source: {_describe(source)}")
    print(f"added {_describe(source)}", file=ctx.out)
    return 0


def cmd_list(ctx: Context) -> int:
    now = ctx.clock()
    sources = ctx.store.sources()
    counts = ctx.store.recent_item_counts(now)
    if ctx.args.json:
        rows = [_json_row(s, counts.get(s.id, 0)) for s in sources]
        print(json_terminal(json.dumps(rows, ensure_ascii=False, indent=2)), file=ctx.out)
        return 0
    if not sources:
        print("no sources yet: newsbot sources add URL|PATH", file=ctx.out)
        return 0
    for source in sources:
        print(_list_line(source, counts.get(source.id, 0)), file=ctx.out)
    return 0


def cmd_remove(ctx: Context) -> int:
    text = ctx.args.id.strip().lstrip("#")
    if not text.isdigit():
        return ctx.fail(f"{one_line(ctx.args.id)!r} is not a source id (newsbot sources list)")
    source = ctx.store.source(int(text))
    if source is None or not ctx.store.remove_source(source.id):
        return ctx.fail(f"no source #{int(text)} (newsbot sources list)")
    print(f"removed {_describe(source)} (its articles stay)", file=ctx.out)
    return 0


def cmd_import(ctx: Context) -> int:
    path = Path(ctx.args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ctx.fail(f"cannot read {one_line(path)}: {one_line(exc.strerror or exc)}")
    try:
        feeds = read_opml(data)
    except OpmlError as exc:
        return ctx.fail(f"{one_line(path)}: {one_line(exc)}")
    added = known = 0
    refused: list[str] = []
    now = ctx.clock()
    with ctx.store.transaction():
        for feed in feeds:
            topics = [*feed.topics, *ctx.args.topic]
            try:
                _, created = ctx.store.add_source(
                    "feed",
                    feed.url,
                    topics,
                    ADDED_BY,
                    now,
                    interval_seconds(ctx.config),
                    title=feed.title,
                )
            except BadAddress as exc:
                refused.append(one_line(exc))
                continue
            added += created
            known += not created
    for reason in refused:
        print(f"refused: {reason}", file=ctx.err)
    print(
        f"{len(feeds)} feeds in {one_line(path.name)}: {added} added, {known} already sources, "
        f"{len(refused)} refused",
        file=ctx.out,
    )
    return 1 if refused else 0


def cmd_export(ctx: Context) -> int:
    feeds = [
        OpmlFeed(s.address, s.title, s.topics) for s in ctx.store.sources() if s.kind == "feed"
    ]
    ctx.out.write(write_opml(feeds, ctx.clock()) + "\n")
    return 0


def cmd_poll(ctx: Context) -> int:
    """One round now: what the scheduler's ``sources-poll`` job runs every minute."""
    # httpx and feedparser: imported only when polling
    from bot.feeds.ingest import finish
    from bot.feeds.poller import Poller, PollSettings

    only = None
    if ctx.args.id is not None:
        text = ctx.args.id.strip().lstrip("#")
        if not text.isdigit() or ctx.store.source(int(text)) is None:
            return ctx.fail(f"no source {one_line(ctx.args.id)!r} (newsbot sources list)")
        only = int(text)
    poller = Poller(ctx.store, ctx.clock, PollSettings.from_config(ctx.config))
    try:
        done = poller.run_round(only)
    finally:
        poller.close()
    if done.new or any(p.updated for p in done.polled):
        finish(ctx.store)  # the stories now (the bot's scheduler does it every few minutes)
    for polled in done.polled:
        print(one_line(polled.line()), file=ctx.out)
    failed = sum(p.outcome in ("failed", "throttled", "gone") for p in done.polled)
    print(
        f"{len(done.polled)} sources polled, {done.new} new articles, {failed} failed",
        file=ctx.out,
    )
    return 1 if failed else 0


ACTIONS: dict[str, Handler] = {
    "add": cmd_add,
    "list": cmd_list,
    "remove": cmd_remove,
    "import": cmd_import,
    "export": cmd_export,
    "poll": cmd_poll,
}


# -- wording ---------------------------------------------------------------------------------


def _describe(source: Source) -> str:
    topics = f" (topics: {', '.join(source.topics)})" if source.topics else ""
    return one_line(f"source #{source.id}: {source.kind} {source.address}{topics}")


def _list_line(source: Source, recent: int) -> str:
    parts = [f"#{source.id}", source.kind, source.state, source.address]
    if source.title:
        parts.append(f"“{source.title}”")
    if source.topics:
        parts.append(f"topics: {', '.join(source.topics)}")
    parts.append(f"{recent} new in 7 days")
    parts.append(f"last success {_when(source.last_success_at)}")
    if source.failing:
        parts.append(
            f"failing: {source.last_error} ({source.consecutive_failures} in a row since "
            f"{_when(source.failing_since)})"
        )
    elif source.state == "gone" and source.last_error:
        parts.append(source.last_error)
    return one_line(" · ".join(parts))


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _json_row(source: Source, recent: int) -> dict[str, Any]:
    def iso(moment: dt.datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": source.id,
        "kind": source.kind,
        "address": source.address,
        "title": source.title,
        "topics": list(source.topics),
        "state": source.state,
        "added_by": source.added_by,
        "added_at": iso(source.added_at),
        "interval_seconds": source.interval_seconds,
        "next_poll_at": iso(source.next_poll_at),
        "last_success_at": iso(source.last_success_at),
        "last_error": source.last_error,
        "last_error_at": iso(source.last_error_at),
        "consecutive_failures": source.consecutive_failures,
        "last_new_item_at": iso(source.last_new_item_at),
        "items_last_7_days": recent,
    }
