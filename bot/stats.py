"""``newsbot stats [--json]``: how big the database is, table by table.

Each table's rows and bytes (its indexes included), and the database file's, the WAL's and
the full-text index's sizes (``Store.sizes``). On a terminal a table (rich); on a pipe plain
lines, one per figure (``name rows bytes``), for ``grep`` and ``awk``; ``--json`` for
machines. Bytes come from SQLite's ``dbstat``, which reads every page: a few seconds on a
database of gigabytes.

``bot.cli`` adds it with :func:`add_stats_parser` and :func:`cmd_stats`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.render.common import json_terminal, one_line
from storage.housekeeping import Sizes
from storage.store import Store


def add_stats_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("stats", help="table sizes: rows and bytes, the file, WAL and FTS")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def cmd_stats(args: argparse.Namespace, store: Store, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    sizes = store.sizes()
    if args.json:
        print(json_terminal(json.dumps(dataclasses.asdict(sizes), indent=2)), file=out)
    elif out.isatty():
        console = Console(file=out, highlight=False)
        console.print(escape(one_line(sizes.path)), style="bold")
        console.print(
            f"file {_bytes(sizes.file_bytes)} · WAL {_bytes(sizes.wal_bytes)} · full-text "
            f"index {_bytes(sizes.fts_bytes)} · free {_bytes(sizes.free_pages * sizes.page_size)}"
        )
        console.print(_table(sizes))
    else:
        print("\n".join(plain_lines(sizes)), file=out)
    return 0


def _bytes(value: int | None) -> str:
    """A size in words: 1.5 MiB; '-' when unknown."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # unreachable: the loop returns at GiB


def plain_lines(sizes: Sizes) -> list[str]:
    """One line per figure: the files (``file``, ``wal``, ``fts``: bytes), then ``table NAME
    ROWS BYTES`` per table (bytes ``-`` when unknown)."""
    lines = [
        f"database {one_line(sizes.path)}",
        f"file {sizes.file_bytes}",
        f"wal {sizes.wal_bytes}",
        f"fts {sizes.fts_bytes if sizes.fts_bytes is not None else '-'}",
        f"free {sizes.free_pages * sizes.page_size}",
    ]
    for t in sizes.tables:
        lines.append(f"table {t.name} {t.rows} {t.bytes if t.bytes is not None else '-'}")
    return lines


def _table(sizes: Sizes) -> Table:
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("size", justify="right")
    for t in sizes.tables:
        table.add_row(t.name, f"{t.rows:,}", _bytes(t.bytes))
    return table
