"""Benchmark: search latency at 100k and 1M articles (issue 2).

Builds (or reuses, under bench/out/) databases of synthetic articles (bench/synth.py) through
``Store.insert_articles``, then times three classes of query:

- common: a word in ~99% of the articles ("apps");
- 1%: a word in ~1% of them ("copilot");
- rare: words in a handful of articles each (rotating through synth.RARE_WORDS);

each through newsbot's ``bot.core.search.search()`` and, on the same database and the same
FTS5 expressions, through a raw
``SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 10``.
Prints p50/p99 per class and size; the target is newsbot p99 < 50 ms in every class at 1M.
Not a test: prints figures only.

    python bench/search.py [--sizes 100000,1000000] [--runs 200] [--seed 1] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import COMMON_WORD, PERCENT_WORD, RARE_WORDS, article_rows  # noqa: E402

from bot.core.search import search, to_fts  # noqa: E402
from storage.store import Store  # noqa: E402

TARGET_MS = 50.0
RAW_SQL = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 10"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CLASSES = {
    "common (~99%)": [COMMON_WORD],
    "1% word": [PERCENT_WORD],
    "rare (a handful)": list(RARE_WORDS),
}
FILES_PER_ARTICLE = 1 / 1.18  # a file brings ~1.18 articles (its related entries)


def build(path: Path, n: int, seed: int, console: Console) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    start = time.perf_counter()
    store = Store(path)
    files = int(n * FILES_PER_ARTICLE) + 1000
    with console.status(f"building {path.name}: {n:,} articles"):
        inserted = store.insert_articles(itertools.islice(article_rows(files, seed), n))
        store.optimize()
    store.close()
    took = time.perf_counter() - start
    Path(str(path) + ".json").write_text(
        json.dumps({"articles": inserted, "seed": seed, "build_seconds": round(took, 1)})
    )
    console.print(f"built {path} ({inserted:,} articles) in {took:.0f} s")


def database(out: Path, n: int, seed: int, rebuild: bool, console: Console) -> Path:
    path = out / f"search-{n}-seed{seed}.db"
    meta = Path(str(path) + ".json")
    if rebuild or not path.exists() or not meta.exists():
        build(path, n, seed, console)
    else:
        console.print(f"reusing {path} ({json.loads(meta.read_text())['articles']:,} articles)")
    return path


def timings(fn: Callable[[str], object], words: list[str], runs: int, budget: float) -> list[float]:
    """Milliseconds per call, ``runs`` calls (fewer if over ``budget`` seconds, at least 10)."""
    for word in words:  # warm up: page cache and statement cache
        fn(word)
    out: list[float] = []
    spent = 0.0
    for i in range(runs):
        word = words[i % len(words)]
        start = time.perf_counter()
        fn(word)
        took = time.perf_counter() - start
        out.append(took * 1000)
        spent += took
        if spent > budget and len(out) >= 10:
            break
    return out


def pct(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="articles, comma-separated")
    parser.add_argument("--runs", type=int, default=200, help="timed queries per class")
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds at most per class and contender (then >= 10 runs)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "out"), help="where databases are kept")
    parser.add_argument("--rebuild", action="store_true", help="build even if cached")
    args = parser.parse_args()
    console = Console(width=130)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    table = Table(title="Search latency, ms (newsbot search() vs raw FTS5 ORDER BY rank LIMIT 10)")
    for col in (
        "articles",
        "class",
        "matches",
        "newsbot p50",
        "newsbot p99",
        "raw p50",
        "raw p99",
        "runs (bot/raw)",
    ):
        table.add_column(col, justify="left" if col == "class" else "right")
    worst: dict[int, float] = {}
    for n in sizes:
        path = database(out, n, args.seed, args.rebuild, console)
        store = Store(path)
        conn = store.db.conn
        total = store.count_articles()
        for name, words in CLASSES.items():
            exprs = {w: to_fts(w) for w in words}
            matches = statistics.mean(
                conn.execute(
                    "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (exprs[w],)
                ).fetchone()[0]
                for w in words
            )
            bot = timings(
                lambda w, store=store: search(store, w, now=NOW), words, args.runs, args.budget
            )
            raw = timings(
                lambda w, c=conn, e=exprs: c.execute(RAW_SQL, (e[w],)).fetchall(),
                words,
                args.runs,
                args.budget,
            )
            bot99 = pct(bot, 99)
            worst[total] = max(worst.get(total, 0.0), bot99)
            style = "green" if bot99 < TARGET_MS else "red"
            table.add_row(
                f"{total:,}",
                name,
                f"{matches:,.0f} ({matches / total:.2%})",
                f"{pct(bot, 50):.2f}",
                f"[{style}]{bot99:.2f}[/]",
                f"{pct(raw, 50):.2f}",
                f"{pct(raw, 99):.2f}",
                f"{len(bot)}/{len(raw)}",
            )
        store.close()
    console.print(table)
    for total, ms in worst.items():
        verdict = "[green]met[/]" if ms < TARGET_MS else "[red]NOT met[/]"
        console.print(
            f"{total:,} articles: worst newsbot p99 {ms:.2f} ms "
            f"(target < {TARGET_MS:.0f} ms at 1M: {verdict})"
        )


if __name__ == "__main__":
    main()
