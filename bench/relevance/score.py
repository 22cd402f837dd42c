"""Relevance yardstick for search (issue 12, item 6): nDCG@5 and P@5 of newsbot's search and
of a plain FTS5 bm25 baseline on our own judged queries.

    python bench/relevance/score.py --db /tmp/rel.db            # the figures
    python bench/relevance/score.py --db /tmp/rel.db --pool 10  # the pools to judge, as text

The database is one loaded with ``newsbot load`` from the Azure corpus moved to recent dates
plus ``tests/fixtures/seed``. Queries are ``queries.json`` (id, text, class), grades are
``judgments.json`` ({query: {article url: grade}}, graded by GUIDELINES.md).

Systems:

- newsbot: ``bot.core.search.search`` with the clock fixed at the newest article's date in the
  database, so freshness does not drift with the day the bench is run;
- baseline: one entry per article, ``SELECT rowid, bm25(articles_fts) FROM articles_fts WHERE
  articles_fts MATCH '"w1" AND "w2" ...' ORDER BY bm25 LIMIT k`` (the query's words, quoted).

Scoring (per query, then the mean over queries):

- a result's grade is its url's judgment; an unjudged url takes the grade of a judged article of
  the same story (same ``story_id`` in the database: "same story = same grade"), else counts 0
  and is reported as unjudged;
- a story already shown higher in the same top 5 gains 0 again (a repeat tells the reader
  nothing new), so a system that lists one story twice is not rewarded for it;
- nDCG@5: DCG = sum of grade / log2(rank + 1); the ideal is the best 5 of the query's judged
  stories (one grade per story); queries with no judged story above 0 are left out of the mean
  (and counted);
- P@5: results of grade >= 1 among the 5 slots (an empty slot counts as not relevant);
- dup: the share of queries whose top 5 holds one story twice; empty: queries with no result.

Deterministic: no randomness, a fixed clock, ties in bm25 broken by rowid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bot.core.search import search  # noqa: E402
from storage.store import Store  # noqa: E402

K = 5
CLASSES = ("one-word", "multi-word", "misspelled", "question", "seed")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Result:
    url: str
    story_id: int | None


# ---------------------------------------------------------------- arithmetic (pure, tested)


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: gain at rank r (from 1) divided by log2(r + 1)."""
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg(gains: Sequence[float], judged: Sequence[float], k: int = K) -> float | None:
    """nDCG@k of ``gains`` (in rank order) against the ideal ordering of ``judged`` (every judged
    grade of the query, one per story); None when the ideal is 0 (nothing relevant judged)."""
    ideal = dcg(sorted(judged, reverse=True)[:k])
    if ideal <= 0:
        return None
    return dcg(list(gains)[:k]) / ideal


def precision(gains: Sequence[float], k: int = K) -> float:
    """P@k: results of grade >= 1 among the first k, out of k (empty slots are not relevant)."""
    return sum(1 for g in list(gains)[:k] if g >= 1) / k


def has_repeat(results: Sequence[Result], k: int = K) -> bool:
    """Whether one story appears twice among the first k results."""
    ids = [r.story_id for r in results[:k] if r.story_id is not None]
    return len(ids) != len(set(ids))


@dataclass
class Grader:
    """Grades of one query's results: by url, else by story, else unjudged (0)."""

    by_url: dict[str, int]
    story_of: dict[str, int]  # url -> story_id, for the judged urls found in the database
    by_story: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.by_story = {}
        for url, grade in self.by_url.items():
            sid = self.story_of.get(url)
            if sid is not None:
                self.by_story[sid] = max(grade, self.by_story.get(sid, 0))

    def grade(self, r: Result) -> int | None:
        if r.url in self.by_url:
            return self.by_url[r.url]
        if r.story_id is not None and r.story_id in self.by_story:
            return self.by_story[r.story_id]
        return None

    def gains(self, results: Sequence[Result], k: int = K) -> tuple[list[int], int]:
        """Gains of the first k results (a story's repeat gains 0) and how many were unjudged."""
        out: list[int] = []
        seen: set[int] = set()
        unjudged = 0
        for r in results[:k]:
            g = self.grade(r)
            if g is None:
                unjudged += 1
                g = 0
            if r.story_id is not None:
                if r.story_id in seen:
                    g = 0
                seen.add(r.story_id)
            out.append(g)
        return out, unjudged

    def ideal(self) -> list[int]:
        """One grade per judged story (urls not in the database count as stories of their own)."""
        loose = [g for u, g in self.by_url.items() if u not in self.story_of]
        return list(self.by_story.values()) + loose


# ---------------------------------------------------------------- the two systems


def baseline_expression(query: str) -> str | None:
    words = [w.lower() for w in _WORD.findall(query)]
    return " AND ".join(f'"{w}"' for w in words) if words else None


def run_baseline(conn: sqlite3.Connection, query: str, k: int) -> list[Result]:
    expression = baseline_expression(query)
    if expression is None:
        return []
    rows = conn.execute(
        "SELECT f.rowid, bm25(articles_fts) AS b FROM articles_fts f WHERE articles_fts MATCH ? "
        "ORDER BY b, f.rowid LIMIT ?",
        (expression, k),
    ).fetchall()
    return [_result(conn, int(r[0])) for r in rows]


def _result(conn: sqlite3.Connection, article_id: int) -> Result:
    row = conn.execute(
        "SELECT COALESCE(web_url, url), story_id FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    return Result(row[0], row[1])


def run_newsbot(store: Store, query: str, k: int, now: dt.datetime) -> list[Result]:
    res = search(store, query, limit=k, now=now)
    return [Result(_url(h.article), h.story_id) for h in res.hits]


def _url(article: dict[str, object]) -> str:
    return str(article.get("web_url") or article.get("url"))


def corpus_end(conn: sqlite3.Connection) -> dt.datetime:
    ts = conn.execute("SELECT MAX(published_ts) FROM articles").fetchone()[0]
    return dt.datetime.fromtimestamp(int(ts), dt.UTC)


# ---------------------------------------------------------------- reporting


@dataclass
class Tally:
    ndcgs: list[float] = field(default_factory=list)
    precisions: list[float] = field(default_factory=list)
    queries: int = 0
    no_ideal: int = 0
    repeats: int = 0
    empty: int = 0
    unjudged: int = 0
    shown: int = 0

    def add(self, gains: list[int], ideal: list[int], results: list[Result], unjudged: int) -> None:
        self.queries += 1
        n = ndcg(gains, ideal)
        if n is None:
            self.no_ideal += 1
        else:
            self.ndcgs.append(n)
        self.precisions.append(precision(gains))
        self.repeats += has_repeat(results)
        self.empty += not results
        self.unjudged += unjudged
        self.shown += len(results[:K])


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def load_json(name: str) -> object:
    return json.loads((HERE / name).read_text())


def story_map(conn: sqlite3.Connection, urls: set[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for url in urls:
        row = conn.execute(
            "SELECT story_id FROM articles WHERE web_url = ? OR url = ? LIMIT 1", (url, url)
        ).fetchone()
        if row is not None and row[0] is not None:
            out[url] = int(row[0])
    return out


def evaluate(
    queries: list[dict[str, str]],
    judgments: dict[str, dict[str, int]],
    systems: dict[str, Callable[[str], list[Result]]],
    story_of: dict[str, int],
) -> dict[str, dict[str, Tally]]:
    """Tallies per system, per class ("all" for every query)."""
    tallies: dict[str, dict[str, Tally]] = {s: {} for s in systems}
    for q in queries:
        judged = judgments.get(q["text"], {})
        grader = Grader(judged, {u: story_of[u] for u in judged if u in story_of})
        for name, run in systems.items():
            results = run(q["text"])
            gains, unjudged = grader.gains(results)
            for cls in ("all", q["class"]):
                tallies[name].setdefault(cls, Tally()).add(gains, grader.ideal(), results, unjudged)
    return tallies


def print_report(tallies: dict[str, dict[str, Tally]]) -> None:
    print(
        f"{'system':<9} {'class':<11} {'n':>3} {'nDCG@5':>7} {'P@5':>6} "
        f"{'dup':>5} {'empty':>5} {'unjudged':>9} {'no-ideal':>8}"
    )
    for name, by_class in tallies.items():
        for cls in ("all", *CLASSES):
            t = by_class.get(cls)
            if t is None:
                continue
            print(
                f"{name:<9} {cls:<11} {t.queries:>3} {_mean(t.ndcgs):>7.3f} "
                f"{_mean(t.precisions):>6.3f} {t.repeats / t.queries:>5.2f} {t.empty:>5} "
                f"{t.unjudged:>4}/{t.shown:<4} {t.no_ideal:>8}"
            )


def print_pool(
    queries: list[dict[str, str]], conn: sqlite3.Connection, store: Store, now: dt.datetime, k: int
) -> None:
    """The union of both systems' top k per query, grouped by story, every member named."""
    for q in queries:
        ids: list[int] = []
        for h in search(store, q["text"], limit=k, now=now).hits:
            ids.append(int(h.article["id"]))
        expression = baseline_expression(q["text"])
        if expression:
            ids += [
                int(r[0])
                for r in conn.execute(
                    "SELECT f.rowid, bm25(articles_fts) AS b FROM articles_fts f "
                    "WHERE articles_fts MATCH ? ORDER BY b, f.rowid LIMIT ?",
                    (expression, k),
                )
            ]
        print(f"\n=== {q['id']} [{q['class']}] {q['text']}")
        stories: dict[int, list[int]] = {}
        for i in ids:
            sid = conn.execute("SELECT story_id FROM articles WHERE id=?", (i,)).fetchone()[0]
            stories.setdefault(sid, [])
            if i not in stories[sid]:
                stories[sid].append(i)
        for sid, members in stories.items():
            print(f"  -- story {sid}")
            for i in members:
                t, e, p, pub, u = conn.execute(
                    "SELECT title, excerpt, provider, published, COALESCE(web_url, url) "
                    "FROM articles WHERE id=?",
                    (i,),
                ).fetchone()
                excerpt = " ".join((e or "").split())[:220]
                print(f"     {i} | {(pub or '')[:10]} | {p} | {t}\n        {excerpt}\n        {u}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a database loaded with newsbot load")
    ap.add_argument("--pool", type=int, default=0, help="print each query's pool of top N")
    ap.add_argument("--only", default="", help="comma-separated query ids (with --pool)")
    args = ap.parse_args(argv)
    queries = load_json("queries.json")
    assert isinstance(queries, list)
    if args.only:
        keep = set(args.only.split(","))
        queries = [q for q in queries if q["id"] in keep]
    store = Store(args.db)
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    now = corpus_end(conn)
    if args.pool:
        print_pool(queries, conn, store, now, args.pool)
        return 0
    judgments = load_json("judgments.json")
    assert isinstance(judgments, dict)
    urls = {u for grades in judgments.values() for u in grades}
    systems: dict[str, Callable[[str], list[Result]]] = {
        "newsbot": lambda text: run_newsbot(store, text, K, now),
        "baseline": lambda text: run_baseline(conn, text, K),
    }
    tallies = evaluate(queries, judgments, systems, story_of=story_map(conn, urls))
    n_judged = sum(len(g) for g in judgments.values())
    print(
        f"clock {now.isoformat()}; {len(queries)} queries, {n_judged} judgments; "
        f"repeats of a story gain 0; unjudged results count 0"
    )
    print_report(tallies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
