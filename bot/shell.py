"""``newsbot shell``: the /news command language on a terminal or a pipe.

Like Errbot's text backend or Hubot's shell adapter: the same parser and core as Slack, with
answers rendered as text. Lines may start with ``/news`` or not; ``quit`` or end of input ends.
"""

from __future__ import annotations

import sys
from importlib import resources
from typing import TextIO

from rich.console import Console

from bot.core.loader import Loader
from bot.core.service import Context, NewsService
from bot.render.text import render

PROMPT = "/news> "


def ensure_sample(service: NewsService, err: Console) -> None:
    """On an empty database, load the sample articles shipped with the package."""
    if service.store.count_articles():
        return
    sample = resources.files("bot.sample").joinpath("seed.txt")
    with resources.as_file(sample) as path:
        report = Loader(service.store, service.clock).load([path])
    err.print(f"Empty database: loaded the bundled sample ({report.summary()}).", highlight=False)


def run_shell(
    service: NewsService, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    out = Console(file=stdout or sys.stdout, highlight=False, soft_wrap=True)
    err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
    ensure_sample(service, err)
    interactive = stdin.isatty()
    ctx = Context()
    if interactive:
        out.print("newsbot shell: type a search, `help`, or `quit`.")
    while True:
        if interactive:
            try:
                line = out.input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                out.print()
                return 0
        else:
            line = stdin.readline()
            if not line:
                return 0
        line = line.strip()
        if not line:
            continue
        if line.lower() in ("quit", "exit", "/quit"):
            return 0
        answer = service.handle_text(line, ctx)
        out.print(render(answer, service.clock()), markup=False)
        if not interactive:
            out.print()
