"""Draw candidate article pairs from the azure corpus for judging, and build the judged set.

Two steps, both reproducible:

``draw``  reads the corpus, builds the candidate pairs a story grouping must decide, in strata,
          and draws each stratum in a seeded random order (skipping set B's pairs and capping how
          often one article is used). It prints the strata counts and writes the ordered draw,
          with titles and excerpts for reading, to a file outside the repository (the corpus's
          text is not committed).
``build`` joins the draw with ``judgments.json`` (judged by a person reading each pair: same
          event or not, and why) into ``azure-own-pairs.json`` and prints the counts by stratum
          and the hardness figure (same-story pairs whose headlines share no 3 consecutive words).

A further, held-out set is drawn the same way with another seed: ``--exclude`` names judged
sets whose pairs are skipped too, and ``--fresh`` prefers articles in none of them (set B's
included); ``build`` then takes ``--judgments`` and ``--output`` for that set's files.

The strata use only the articles' own text, times and outlets, nothing from newsbot's grouping
rule or any grouping code, so the set stays independent of the algorithm it measures. Strata
are drawn in the order of ``STRATA``; a pair goes to the first stratum that draws it.

    python bench/judged/sample_pairs.py draw --corpus /work/corpus/azure/_news --seed 11
    python bench/judged/sample_pairs.py build --corpus /work/corpus/azure/_news

    # the held-out set
    python bench/judged/sample_pairs.py draw --seed 12 --fresh \
        --exclude bench/judged/azure-own-pairs.json --out /tmp/judged-heldout-draw.json
    python bench/judged/sample_pairs.py build --seed 12 --fresh \
        --exclude bench/judged/azure-own-pairs.json \
        --judgments bench/judged/heldout-judgments.json \
        --output bench/judged/azure-heldout-pairs.json
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus import Article, load, normalise_url

HERE = Path(__file__).resolve().parent
SET_B = Path("/work/shared/judged/azure-story-pairs-dev.json")
DRAW_OUT = Path("/tmp/judged-draw.json")
JUDGMENTS = HERE / "judgments.json"
OUTPUT = HERE / "azure-own-pairs.json"

DAY = 86400.0
RARE_DF = 40  # a headline word in fewer than 40 of ~4.9k headlines is rare
COSINE_MIN = 0.35  # stratum b: TF-IDF cosine of title + excerpt
MAX_USES = 1  # one article in at most this many drawn pairs
PER_OUTLETS = 3  # per stratum, pairs from one pair of outlets (Microsoft with itself excepted)
HOME = "microsoft"  # the corpus's own outlet: half the articles, exempt from PER_OUTLETS
_WORD = re.compile(r"[a-z0-9]+(?:[.'+#-][a-z0-9]+)*")
_STOP_TEXT = (
    "a an and are as at be by for from has have how in into is it its new now of on or our "
    "over s the their this to up via was we what when why will with you your"
)
STOP = frozenset(_STOP_TEXT.split())
# Titles of the near-miss kinds the set must hold where the corpus has them.
OUTAGE = re.compile(
    r"\boutages?\b|\b(?:is|are|were|went|goes) down\b|azure down|\bdisrupted\b|"
    r"disruptions\b|service issues|taken offline",
    re.I,
)
EARNINGS = re.compile(
    r"\bearnings\b|\bquarter(?:ly)?\b|\bresults\b|\bq[1-4]\b|\bfiscal\b|"
    r"\brevenue\b",
    re.I,
)
PREVIEW = re.compile(r"\bpreview\b", re.I)
RELEASED = re.compile(r"generally available|general availability|\bga\b|now available", re.I)
ROUNDUP = re.compile(
    r"round-?up|recap|everything|announcements|this week|highlights|"
    r"what.s new|news:|top \d+|\d+ (?:big|top)|week in|digest|briefing",
    re.I,
)
OUTAGE_OUT = re.compile(r"planning|disruptive|supply chain|avoid service", re.I)


def words(text: str) -> list[str]:
    """Lower-case words of a text, possessive 's dropped, stop words removed."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out = []
    for word in _WORD.findall(text):
        word = word[:-2] if word.endswith("'s") else word
        if word and word not in STOP:
            out.append(word)
    return out


@dataclass
class Index:
    """What the strata are computed from: articles in time order, headline words, vectors."""

    arts: list[Article]
    heads: list[frozenset[str]]
    rare: list[frozenset[str]]
    vecs: list[dict[str, float]]
    times: list[float]


def _tfidf(docs: list[list[str]]) -> list[dict[str, float]]:
    """Unit TF-IDF vectors (sublinear tf, smoothed idf): a plain vectoriser, no library needed."""
    df: collections.Counter[str] = collections.Counter()
    for doc in docs:
        df.update(set(doc))
    n = len(docs)
    vecs = []
    for doc in docs:
        tf = collections.Counter(doc)
        vec = {w: (1 + math.log(c)) * math.log((1 + n) / (1 + df[w])) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vecs.append({w: v / norm for w, v in vec.items()})
    return vecs


def build_index(articles: Iterable[Article]) -> Index:
    arts = sorted(articles, key=lambda a: (a.date, a.url))
    heads = [frozenset(words(a.title)) for a in arts]
    df: collections.Counter[str] = collections.Counter()
    for head in heads:
        df.update(head)
    rare = [frozenset(w for w in head if df[w] < RARE_DF) for head in heads]
    vecs = _tfidf([words(a.title + " " + a.excerpt) for a in arts])
    return Index(arts, heads, rare, vecs, [a.date.timestamp() for a in arts])


def cosine(u: dict[str, float], v: dict[str, float]) -> float:
    if len(u) > len(v):
        u, v = v, u
    return sum(x * v.get(w, 0.0) for w, x in u.items())


def pairs_within(ix: Index, days: float) -> Iterator[tuple[int, int, float]]:
    """Every pair (i, j), i < j, published at most ``days`` apart, with the gap in days."""
    n = len(ix.arts)
    for i in range(n):
        j = i + 1
        while j < n and ix.times[j] - ix.times[i] <= days * DAY:
            yield i, j, (ix.times[j] - ix.times[i]) / DAY
            j += 1


def outlet(a: Article) -> str:
    return (a.outlet or a.domain).strip().lower()


def _jaccard(x: frozenset[str], y: frozenset[str]) -> float:
    return len(x & y) / len(x | y) if x | y else 0.0


def _one_each(pattern: re.Pattern[str], other: re.Pattern[str], a: str, b: str) -> bool:
    return bool((pattern.search(a) and other.search(b)) or (pattern.search(b) and other.search(a)))


Rule = Callable[[Index, int, int, float], bool]
Only = Callable[[Article], bool] | None


@dataclass(frozen=True)
class Stratum:
    """Pairs at most ``days`` apart, both passing ``only`` (if set), that satisfy ``rule``."""

    days: float
    rule: Rule
    what: str
    only: Only = None


def _same_outlet(ix: Index, i: int, j: int) -> bool:
    return outlet(ix.arts[i]) == outlet(ix.arts[j])


def _rare_shared(ix: Index, i: int, j: int) -> int:
    return len(ix.rare[i] & ix.rare[j])


def _is_outage(a: Article) -> bool:
    return bool(OUTAGE.search(a.title)) and not OUTAGE_OUT.search(a.title)


def _not_roundup(title: str) -> bool:
    return not ROUNDUP.search(title)


STRATA: dict[str, Stratum] = {
    "c-same-outlet": Stratum(
        3,
        lambda ix, i, j, gap: _same_outlet(ix, i, j) and _rare_shared(ix, i, j) >= 2,
        "same outlet, within 3 days, headlines share 2+ rare words",
    ),
    "t-template": Stratum(
        7,
        lambda ix, i, j, gap: (
            _same_outlet(ix, i, j)
            and _jaccard(ix.heads[i], ix.heads[j]) >= 0.5
            and ix.rare[i] != ix.rare[j]
        ),
        "same outlet, within 7 days, headline word sets overlap (Jaccard) >= 0.5 but their "
        "rare words differ: template press releases, series",
    ),
    "d-late": Stratum(
        10,
        lambda ix, i, j, gap: gap > 3 and _rare_shared(ix, i, j) >= 2,
        "3-10 days apart, headlines share 2+ rare words",
    ),
    "k-outage": Stratum(
        30, lambda ix, i, j, gap: True, "both headlines about an outage, within 30 days", _is_outage
    ),
    "k-earnings": Stratum(
        120,
        lambda ix, i, j, gap: bool(ix.heads[i] & ix.heads[j] - {"azure", "microsoft"}),
        "both headlines about results or earnings, within 120 days, sharing a word other "
        "than azure/microsoft",
        lambda a: bool(EARNINGS.search(a.title)),
    ),
    "k-preview-ga": Stratum(
        400,
        lambda ix, i, j, gap: (
            _rare_shared(ix, i, j) >= 2
            and _one_each(PREVIEW, RELEASED, ix.arts[i].title, ix.arts[j].title)
        ),
        "one headline says preview, the other general availability, 2+ rare words shared",
        lambda a: bool(PREVIEW.search(a.title) or RELEASED.search(a.title)),
    ),
    "k-roundup": Stratum(
        3,
        lambda ix, i, j, gap: (
            bool(ROUNDUP.search(ix.arts[i].title)) != bool(ROUNDUP.search(ix.arts[j].title))
            and cosine(ix.vecs[i], ix.vecs[j]) >= 0.15
        ),
        "a roundup headline and a non-roundup one within 3 days, TF-IDF cosine >= 0.15",
    ),
    "b-cosine": Stratum(
        7,
        lambda ix, i, j, gap: cosine(ix.vecs[i], ix.vecs[j]) >= COSINE_MIN,
        f"within 7 days, TF-IDF cosine of title + excerpt >= {COSINE_MIN}",
    ),
    "a-rare-word": Stratum(
        3,
        lambda ix, i, j, gap: _rare_shared(ix, i, j) >= 1,
        f"within 3 days, headlines share a rare word (one in < {RARE_DF} headlines)",
    ),
}
# How many pairs each stratum draws, in this order (later strata lose pairs already drawn).
QUOTA = {
    "c-same-outlet": 25,
    "t-template": 15,
    "d-late": 25,
    "k-outage": 8,
    "k-earnings": 8,
    "k-preview-ga": 10,
    "k-roundup": 8,
    "b-cosine": 45,
    "a-rare-word": 70,
}


def members(ix: Index, stratum: Stratum) -> list[tuple[int, int, float]]:
    """Every pair of the stratum, in time order."""
    keep = [k for k, a in enumerate(ix.arts) if stratum.only is None or stratum.only(a)]
    out = []
    for x, i in enumerate(keep):
        for j in keep[x + 1 :]:
            gap = (ix.times[j] - ix.times[i]) / DAY
            if gap > stratum.days:
                break
            if stratum.rule(ix, i, j, gap):
                out.append((i, j, gap))
    return out


def judged_pairs(path: Path, main_of: dict[str, str]) -> set[frozenset[str]]:
    """A judged set's pairs as pairs of addresses.

    Set B names files (a file's main article's address stands for it); the own sets name
    addresses, which are normalised here as the corpus reader normalises them.
    """
    pairs = set()
    for pair in json.loads(path.read_text(encoding="utf-8")):
        a, b = (
            main_of.get(pair[side]) or (normalise_url(pair[side]) if "://" in pair[side] else None)
            for side in ("a", "b")
        )
        if a and b:
            pairs.add(frozenset((a, b)))
    return pairs


def set_b_pairs(main_of: dict[str, str]) -> set[frozenset[str]]:
    """Set B's pairs as pairs of addresses (set B names files; a file names its main article)."""
    return judged_pairs(SET_B, main_of)


@dataclass
class _Take:
    """One stratum's draw in progress: what it has taken so far, within the draw's state."""

    name: str
    quota: int
    taken: set[frozenset[str]]
    uses: collections.Counter[str]
    got: int = 0
    stale: int = 0  # pairs with an article of an excluded set (the fresh draw's fallback)
    outlets: collections.Counter[tuple[str, ...]] = field(default_factory=collections.Counter)


def _take(
    ix: Index,
    pool: list[tuple[int, int, float]],
    state: _Take,
    avoid: frozenset[str],
    drawn: list[dict[str, Any]],
) -> None:
    """Take the pool's pairs in order until the quota is met, skipping ``avoid``'s articles."""
    for i, j, gap in pool:
        if state.got >= state.quota:
            break
        a, b = ix.arts[i], ix.arts[j]
        key = frozenset((a.url, b.url))
        pair_of = tuple(sorted((outlet(a), outlet(b))))
        if key in state.taken or state.uses[a.url] >= MAX_USES or state.uses[b.url] >= MAX_USES:
            continue
        if pair_of != (HOME, HOME) and state.outlets[pair_of] >= PER_OUTLETS:
            continue
        if a.url in avoid or b.url in avoid:
            continue
        state.taken.add(key)
        state.uses.update((a.url, b.url))
        state.outlets[pair_of] += 1
        state.got += 1
        drawn.append(_entry(state.name, state.got, a, b, gap, cosine(ix.vecs[i], ix.vecs[j])))


def draw(
    ix: Index,
    skip: set[frozenset[str]],
    seed: int,
    quota: dict[str, int],
    avoid: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Each stratum's members in a seeded random order, taken until its quota is met.

    With ``avoid`` (the articles of the sets excluded), a first pass takes only pairs of
    other articles; where that leaves a stratum short, a second pass over the same order lets
    avoided articles in (never a pair in ``skip``). Without it the draw is one plain pass.
    """
    uses: collections.Counter[str] = collections.Counter()
    taken: set[frozenset[str]] = set(skip)
    drawn: list[dict[str, Any]] = []
    print(f"{'stratum':16} {'members':>8} {'drawn':>6}  definition")
    for name, stratum in STRATA.items():
        pool = members(ix, stratum)
        random.Random(f"{seed}:{name}").shuffle(pool)
        state = _Take(name, quota.get(name, 0), taken, uses)
        _take(ix, pool, state, avoid, drawn)
        if avoid and state.got < state.quota:
            before = state.got
            _take(ix, pool, state, frozenset(), drawn)
            state.stale = state.got - before
        note = f" ({state.stale} with an excluded set's article)" if state.stale else ""
        print(f"{name:16} {len(pool):>8} {state.got:>6}  {stratum.what}{note}")
    return drawn


def _entry(name: str, rank: int, a: Article, b: Article, gap: float, cos: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stratum": name,
        "rank": rank,
        "gap_days": round(gap, 2),
        "cosine": round(cos, 3),
    }
    for side, art in (("a", a), ("b", b)):
        out[side] = art.url
        out[f"{side}_title"] = art.title
        out[f"{side}_date"] = art.date.strftime("%Y-%m-%dT%H:%M:%SZ")
        out[f"{side}_outlet"] = art.outlet or art.domain
        out[f"{side}_excerpt"] = art.excerpt
    return out


def trigrams(title: str) -> set[tuple[str, ...]]:
    toks = _WORD.findall(title.lower().replace("\u2019", "'"))
    return {tuple(toks[k : k + 3]) for k in range(len(toks) - 2)}


def differently_worded(a_title: str, b_title: str) -> bool:
    """No 3 consecutive words in common (the hardness figure)."""
    return not trigrams(a_title) & trigrams(b_title)


def _load(corpus: Path) -> tuple[Index, dict[str, str]]:
    arts, main_of = load(corpus)
    return build_index(arts.values()), main_of


def _draw(ix: Index, main_of: dict[str, str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The draw the arguments name: set B and every ``--exclude`` set skipped."""
    skip = set_b_pairs(main_of)
    for path in args.exclude:
        excluded = judged_pairs(path, main_of)
        print(f"excluding {len(excluded)} pairs of {path}")
        skip |= excluded
    avoid = frozenset(url for pair in skip for url in pair) if args.fresh else frozenset()
    if avoid:
        print(f"preferring articles other than their {len(avoid)}")
    return draw(ix, skip, args.seed, QUOTA, avoid)


def cmd_draw(args: argparse.Namespace) -> int:
    ix, main_of = _load(args.corpus)
    print(f"{len(ix.arts)} distinct articles; seed {args.seed}")
    drawn = _draw(ix, main_of, args)
    args.out.write_text(json.dumps(drawn, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{len(drawn)} pairs drawn -> {args.out}")
    return 0


def _judged(drawn: list[dict[str, Any]], judgments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {frozenset((d["a"], d["b"])): d for d in drawn}
    out = []
    for j in judgments:
        key = frozenset((normalise_url(j["a"]), normalise_url(j["b"])))
        if key not in by_key:
            raise SystemExit(f"judged pair not in the draw: {j['a']} {j['b']}")
        d = by_key.pop(key)
        row = {
            k: d[k]
            for k in ("a", "b", "a_title", "b_title", "a_date", "b_date", "a_outlet", "b_outlet")
        }
        row.update(same=bool(j["same"]), why=j["why"], stratum=d["stratum"])
        if j.get("unsure"):
            row["unsure"] = True
        out.append(row)
    if by_key:
        print(f"{len(by_key)} drawn pairs not judged", file=sys.stderr)
    return out


def report(
    rows: list[dict[str, Any]],
    set_b_titles: list[tuple[str, str]],
    others: Iterable[Path] = (),
) -> None:
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in rows:
        verdict = "unsure" if r.get("unsure") else ("same" if r["same"] else "different")
        table[r["stratum"]][verdict] += 1
        table["all"][verdict] += 1
    print(f"| {'stratum':14} | same | different | unsure |")
    print("|---|---:|---:|---:|")
    for name in [*STRATA, "all"]:
        c = table.get(name)
        if c:
            print(f"| {name:14} | {c['same']} | {c['different']} | {c['unsure']} |")
    own = [(r["a_title"], r["b_title"]) for r in rows if r["same"] and not r.get("unsure")]
    compared = [("set B", set_b_titles)]
    for path in others:
        judged = json.loads(path.read_text(encoding="utf-8"))
        titles = [(r["a_title"], r["b_title"]) for r in judged if r["same"] and not r.get("unsure")]
        compared.append((path.name, titles))
    for label, pairs in (*compared, ("this set", own)):
        hard = sum(differently_worded(a, b) for a, b in pairs)
        print(
            f"{label}: {hard} of {len(pairs)} same-story pairs have headlines sharing "
            "no 3 consecutive words"
        )


def cmd_build(args: argparse.Namespace) -> int:
    ix, main_of = _load(args.corpus)
    drawn = _draw(ix, main_of, args)
    rows = _judged(drawn, json.loads(args.judgments.read_text(encoding="utf-8")))
    args.output.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    title = {a.url: a.title for a in ix.arts}
    set_b = [
        (title[main_of[p["a"]]], title[main_of[p["b"]]])
        for p in json.loads(SET_B.read_text(encoding="utf-8"))
        if p["same"]
    ]
    report(rows, set_b, args.exclude)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("draw", "build"))
    parser.add_argument("--corpus", type=Path, default=Path("/work/corpus/azure/_news"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=DRAW_OUT, help="draw: where to write it")
    parser.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        help="a judged set (addresses or set B's file names) whose pairs are skipped too; "
        "repeatable (set B is always skipped)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="prefer articles in no excluded pair (set B's included): others only where a "
        "stratum runs short",
    )
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS, help="build: the verdicts")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="build: the set written")
    args = parser.parse_args(argv)
    return cmd_draw(args) if args.command == "draw" else cmd_build(args)


if __name__ == "__main__":
    raise SystemExit(main())
