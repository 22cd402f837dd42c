"""Benchmark: search latency at 100k, 200k and 1M articles, in every class of query (issues 2
and 12).

Builds (or reuses, under bench/out/) databases of synthetic articles (bench/synth.py) through
``Store.insert_articles``, then times each class of query through newsbot's
``bot.core.search.search()``, the fallbacks included:

- common: a word in ~99% of the articles ("apps"); 1%: a word in ~1% ("copilot"); rare: words
  in a handful each (synth.RARE_WORDS); two words: frequent words found together;
- typo near a common word, near a rare word, near nothing (each matches nothing, so it is
  corrected, :mod:`bot.core.correct`; near nothing scans the largest two-letter ranges of the
  vocabulary and finds no term near enough);
- question: "how to <word> <word> on azure", its stop words not required;
- some words: words never found together (outlets: an article has one), two and five of them,
  and frequent words with outlets: the stories with some of the words follow;
- rarely together: two words found together in 1 to 4 articles (picked on each database), so
  fewer than a page have both and those with some follow.

The single-word and two-word classes are also timed through a raw
``SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 10``.
Prints p50/p99 per class and size, what search did for the class (all words, corrected, some
words), and the classes over the target: newsbot p99 <= 20 ms in every class at up to 1M
articles, <= 30 ms beyond (3M) (issue 15, item 2).
``--fts5vocab`` corrects as before m012 (to compare): candidates from m009's fts5vocab ranges,
each word checked with a ranked ``match_newest`` (bm25() first counts all its articles).
Not a test: prints figures only. One heavy job: run it alone on a shared machine, and compare
only runs made back to back (a load of 4 on 2 cores doubles wall times: the figures are wall).

    python bench/search.py [--sizes 100000,1000000,3000000] [--runs 200] [--seed 1] [--rebuild]
        [--only CLASS] [--fts5vocab]
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
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import COMMON_WORD, OUTLETS, PERCENT_WORD, RARE_WORDS, Corpus, article_rows  # noqa: E402

from bot.core.search import SearchResult, search, to_fts  # noqa: E402
from storage.store import Store  # noqa: E402

TARGET_MS = 20.0  # p99 at up to 1M articles (issue 15, item 2)
TARGET_3M_MS = 30.0  # p99 beyond 1M (3M articles)


def target(n: int) -> float:
    return TARGET_MS if n <= 1_000_000 else TARGET_3M_MS


RAW_SQL = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT 10"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FILES_PER_ARTICLE = 1 / 1.18  # a file brings ~1.18 articles (its related entries)
# Outlets' first names: each article has one outlet, so no two are ever found together.
OUTLET_WORDS = [name.split()[0].lower() for name, _ in OUTLETS[:8]]
NOWHERE = "xqzjwy"  # letters no synthetic word has: a word made with them is near nothing


@dataclass
class QueryClass:
    name: str
    queries: list[str]
    raw: bool = False  # also timed through the raw FTS5 query


def build(path: Path, n: int, seed: int, console: Console) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    start = time.perf_counter()
    store = Store(path)
    files = int(n * FILES_PER_ARTICLE) + 1000
    with console.status(f"building {path.name}: {n:,} articles"):
        inserted = store.insert_articles(itertools.islice(article_rows(files, seed), n))
        store.optimize()
        store.refresh_search_terms()  # as a load would, once it has written
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


# -- the classes of query ----------------------------------------------------------------------


def matches(store: Store, query: str) -> int:
    """Articles holding every word of ``query``."""
    expression = to_fts(query)
    row = store.db.conn.execute(
        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (expression,)
    ).fetchone()
    return int(row[0])


def typos(store: Store, words: list[str], k: int) -> list[str]:
    """Up to ``k`` misspellings (a letter doubled) of ``words`` that match nothing."""
    out = []
    for word in words:
        for i in range(2, len(word)):
            typo = word[: i + 1] + word[i:]
            if matches(store, typo) == 0:
                out.append(typo)
                break
        if len(out) == k:
            break
    return out


def widest_prefixes(store: Store, k: int) -> list[str]:
    """The ``k`` two-letter ranges of the vocabulary holding the most articles' terms."""
    rows = store.db.conn.execute(
        "SELECT substr(term, 1, 2) AS p, sum(docs) FROM search_terms GROUP BY p "
        "ORDER BY 2 DESC LIMIT ?",
        (k,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def rarely_together(store: Store, total: int, k: int) -> list[str]:
    """Up to ``k`` pairs of words (no word twice), each in 0.05-2% of the articles, found
    together in 1 to 4."""
    rows = store.db.conn.execute(
        "SELECT term FROM search_terms WHERE docs BETWEEN ? AND ? AND length(term) >= 4 "
        "AND term GLOB '[a-z]*' ORDER BY docs DESC",
        (total // 2000, total // 50),
    ).fetchall()
    words = [str(r[0]) for r in rows]
    found: list[str] = []
    used: set[str] = set()
    for a, b in itertools.combinations(words[:: max(1, len(words) // 60)], 2):
        if a in used or b in used:
            continue
        if 1 <= matches(store, f"{a} {b}") <= 4:
            found.append(f"{a} {b}")
            used |= {a, b}
            if len(found) == k:
                break
    return found


def query_classes(store: Store, total: int, seed: int) -> list[QueryClass]:
    vocab = Corpus(1000, seed).vocab  # the synthetic words, the most frequent first
    common = vocab[:30]
    questions = [
        f"how to {a} {b} on azure" for a, b in zip(vocab[20:26], vocab[60:66], strict=True)
    ]
    never = [" ".join(OUTLET_WORDS[i : i + 2]) for i in range(0, len(OUTLET_WORDS), 2)] + [
        " ".join(OUTLET_WORDS[i : i + 5]) for i in range(3)
    ]
    many = [
        f"{COMMON_WORD} {' '.join(common[i : i + 3])} {OUTLET_WORDS[i]} {OUTLET_WORDS[i + 1]}"
        for i in range(4)
    ]
    classes = [
        QueryClass("common (~99%)", [COMMON_WORD], raw=True),
        QueryClass("1% word", [PERCENT_WORD], raw=True),
        QueryClass("rare (a handful)", list(RARE_WORDS), raw=True),
        QueryClass(
            "two words",
            [f"{COMMON_WORD} {PERCENT_WORD}"]
            + [f"{a} {b}" for a, b in zip(common[:5], common[5:10], strict=True)],
            raw=True,
        ),
        QueryClass("typo near a common word", typos(store, [COMMON_WORD, *common], 8)),
        QueryClass("typo near a rare word", typos(store, list(RARE_WORDS), 5)),
        QueryClass("typo near nothing", [p + NOWHERE for p in widest_prefixes(store, 6)]),
        QueryClass("question (stop words)", questions),
        QueryClass("some words: never together", never),
        QueryClass("some words: 6 frequent, never all", many),
        QueryClass("some words: rarely together", rarely_together(store, total, 5)),
    ]
    return [c for c in classes if c.queries]


def outcome(result: SearchResult) -> str:
    """What search did: corrected a word, added stories with some words, found nothing."""
    if result.note and result.note.startswith("Showing results for"):
        return "corrected" + (" + some" if any(h.partial for h in result.hits) else "")
    if any(h.partial for h in result.hits):
        return "some words"
    return "all words" if result.hits else "nothing"


# -- timing ----------------------------------------------------------------------------------


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


def fts5vocab_range(self: Store, prefix: str, shortest: int, longest: int) -> list[tuple[str, int]]:
    """``Store.vocabulary`` as it was before m012: a range of m009's fts5vocab table."""
    hi = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    cur = self.db.conn.execute(
        "SELECT term, doc FROM articles_fts_vocab WHERE term >= ? AND term < ? "
        "AND length(term) BETWEEN ? AND ?",
        (prefix, hi, shortest, longest),
    )
    return [(str(r[0]), int(r[1])) for r in cur.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="100000,200000,1000000", help="articles, comma-separated"
    )
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
    parser.add_argument("--only", default="", help="time only the classes whose name has this")
    parser.add_argument(
        "--fts5vocab",
        action="store_true",
        help="correct as before m012: fts5vocab ranges, words checked by a ranked match",
    )
    args = parser.parse_args()
    if args.fts5vocab:  # corrections as before m012 and Store.matches_any
        Store.vocabulary = fts5vocab_range  # type: ignore[method-assign]
        Store.matches_any = lambda self, e: bool(self.match_newest(e, 1))  # type: ignore[method-assign]
    console = Console(width=150)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    table = Table(title="Search latency, ms (newsbot search() vs raw FTS5 ORDER BY rank LIMIT 10)")
    for col in (
        "articles",
        "class",
        "queries",
        "search did",
        "newsbot p50",
        "newsbot p99",
        "raw p50",
        "raw p99",
        "runs",
    ):
        table.add_column(col, justify="left" if col in ("class", "search did") else "right")
    misses: list[str] = []
    for n in sizes:
        path = database(out, n, args.seed, args.rebuild, console)
        store = Store(path)
        start = time.perf_counter()
        pending = store.refresh_search_terms()
        if pending:
            console.print(
                f"search_terms took in {pending:,} articles in {time.perf_counter() - start:.1f} s"
            )
        conn = store.db.conn
        total = store.count_articles()
        for qc in query_classes(store, total, args.seed):
            if args.only not in qc.name:
                continue
            console.print(f"{total:,} {qc.name}: " + " | ".join(qc.queries), highlight=False)
            did = sorted({outcome(search(store, q, now=NOW)) for q in qc.queries})
            bot = timings(
                lambda q, store=store: search(store, q, now=NOW),
                qc.queries,
                args.runs,
                args.budget,
            )
            raw50 = raw99 = "-"
            if qc.raw:
                exprs = {q: to_fts(q) for q in qc.queries}
                raw = timings(
                    lambda q, c=conn, e=exprs: c.execute(RAW_SQL, (e[q],)).fetchall(),
                    qc.queries,
                    args.runs,
                    args.budget,
                )
                raw50, raw99 = f"{pct(raw, 50):.2f}", f"{pct(raw, 99):.2f}"
            bot99 = pct(bot, 99)
            if bot99 > target(total):
                misses.append(f"{total:,} articles: {qc.name} (p99 {bot99:.1f} ms)")
            style = "green" if bot99 <= target(total) else "red"
            table.add_row(
                f"{total:,}",
                qc.name,
                str(len(qc.queries)),
                ", ".join(did),
                f"{pct(bot, 50):.2f}",
                f"[{style}]{bot99:.2f}[/]",
                raw50,
                raw99,
                str(len(bot)),
            )
        store.close()
    console.print(table)
    if misses:
        console.print("[red]over the target at p99:[/] " + "; ".join(misses))
    else:
        console.print(
            f"[green]every class at p99 within {TARGET_MS:.0f} ms (<= 1M), "
            f"{TARGET_3M_MS:.0f} ms (beyond)[/]"
        )


if __name__ == "__main__":
    main()
