"""Offline evaluation of story grouping against hand-judged pairs of a real corpus (issue 11).

Loads a corpus of article files (default: the azure corpus, read-only, not in the repository)
into articles, main and ``related`` entries alike, one per canonical ``webUrl`` (the main
article's own fields win over a related mention's; ``is_main`` if any file has it as its main
article), feeds them in date order through :class:`bot.core.grouping.Grouper`, and reports
for a judged file (a JSON list of ``{"a", "b", "same"}``; ``a``/``b`` are file names under
the corpus, whose main articles are compared, or article addresses; a pair marked
``"unsure": true`` is left out):

- grouped: the share of same-story pairs that end in one story;
- merged: the share of different-story pairs that end in one story;
- every error, with both headlines, outlets and dates;
- CPU ms per article (``time.process_time`` around the grouping only), comparisons per
  article, and the story size distribution with the largest stories' headlines (to eyeball
  chaining).

The former rule (``bot.core.stories.same_story`` with its ``title_keys`` candidates, stories
merged as the loader merged them) runs through the same harness for a baseline figure, while
that module exists (the loader now groups with this package, and the module goes away).

    python bench/stories_eval.py [--judged PATH] [--corpus DIR] [--cache FILE] [--top 15]
                                 [--no-baseline] [--quiet]

``--cache`` keeps the parsed corpus in a pickle (parsing takes about 35 s of the run).
Not a test: prints figures only.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import pickle
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.articles import Article, BadFile, canonical_url, parse_file
from bot.core.grouping import Grouper, Item
from bot.core.grouping.prominence import independent_outlets, lead

CORPUS = Path("/work/corpus/azure/_news")
JUDGED = Path("/work/shared/judged/azure-story-pairs-dev.json")


@dataclass
class Corpus:
    items: list[Item]  # in date order
    main_of_file: dict[str, str]  # file name -> key of its main article
    bad: int


def _item(article: Article, is_main: bool) -> Item | None:
    if article.published_ts is None:
        return None
    return Item(
        key=article.url,
        title=article.title,
        excerpt=article.excerpt,
        domain=article.domain,
        published_ts=article.published_ts,
        quality=article.quality,
        is_main=is_main,
    )


def load_corpus(folder: Path) -> Corpus:
    items: dict[str, Item] = {}
    main_of_file: dict[str, str] = {}
    bad = 0
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        try:
            article = parse_file(path)
        except BadFile:
            bad += 1
            continue
        main_of_file[path.name] = article.url
        main = _item(article, True)
        if main is not None:
            items[main.key] = main  # a main article's own fields win
        for entry in article.related:
            related = _item(entry, False)
            if related is not None and related.key not in items:
                items[related.key] = related
    ordered = sorted(items.values(), key=lambda i: (i.published_ts, i.key))
    return Corpus(ordered, main_of_file, bad)


def cached_corpus(folder: Path, cache: Path | None) -> Corpus:
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            items, main_of_file, bad = pickle.load(fh)  # plain values: any script can read it
        return Corpus(items, main_of_file, bad)
    corpus = load_corpus(folder)
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump((corpus.items, corpus.main_of_file, corpus.bad), fh)
    return corpus


# -- the two groupings -----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    story_of: dict[str, int]
    members: dict[int, list[str]]
    cpu_seconds: float
    comparisons: int


def run_grouper(items: list[Item]) -> tuple[Result, Grouper]:
    grouper = Grouper()
    cpu = 0.0
    for item in items:
        start = time.process_time()
        grouper.add(item)
        cpu += time.process_time() - start
    story_of = {item.key: grouper.story_of(item.key) for item in items}
    members = {s.id: list(s.keys) for s in grouper.stories()}
    return Result("grouping", story_of, members, cpu, grouper.comparisons), grouper


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def run_baseline(items: list[Item]) -> Result | None:
    """bot.core.stories as the loader used it: candidates share two title keys (one for a
    one-key headline) within the window; every matching story is merged. None once the module
    is gone."""
    try:
        from bot.core.stories import (  # type: ignore[import-not-found, unused-ignore]
            WINDOW_SECONDS,
            StoryText,
            same_story,
            title_keys,
        )
    except ImportError:
        return None
    index: dict[str, list[Item]] = collections.defaultdict(list)
    uf = _UnionFind()
    comparisons = 0
    cpu = 0.0
    for item in items:
        start = time.process_time()
        keys = title_keys(item.title)
        uf.find(item.key)
        shared: collections.Counter[str] = collections.Counter()
        for key in keys:
            for other in index[key]:
                if abs(other.published_ts - item.published_ts) <= WINDOW_SECONDS:
                    shared[other.key] += 1
        need = min(2, len(keys))
        mine = StoryText(item.title, item.excerpt, item.published_ts)
        by_key = {o.key: o for k in keys for o in index[k]}
        for other_key, count in shared.items():
            if count < need:
                continue
            comparisons += 1
            other = by_key[other_key]
            if same_story(mine, StoryText(other.title, other.excerpt, other.published_ts)):
                uf.union(item.key, other_key)
        for key in keys:
            index[key].append(item)
        cpu += time.process_time() - start
    story_of: dict[str, int] = {}
    roots: dict[str, int] = {}
    members: dict[int, list[str]] = collections.defaultdict(list)
    for item in items:
        sid = roots.setdefault(uf.find(item.key), len(roots) + 1)
        story_of[item.key] = sid
        members[sid].append(item.key)
    return Result("current rule (stories.same_story)", story_of, dict(members), cpu, comparisons)


# -- the report ------------------------------------------------------------------------------


@dataclass
class Pair:
    a: str
    b: str
    same: bool
    why: str


def load_pairs(path: Path, corpus: Corpus, by_key: dict[str, Item]) -> list[Pair]:
    pairs = []
    for entry in json.loads(path.read_text()):
        if entry.get("unsure"):
            continue  # a pair its judge could not decide counts for neither figure
        keys = []
        for side in ("a", "b"):
            name = str(entry[side])
            key = corpus.main_of_file.get(name) or corpus.main_of_file.get(Path(name).name)
            if key is None and name.startswith("http"):
                key = canonical_url(name)
            if key is None or key not in by_key:
                raise SystemExit(f"{path}: {side}={name!r} is no article of the corpus")
            keys.append(key)
        pairs.append(Pair(keys[0], keys[1], bool(entry["same"]), str(entry.get("why", ""))))
    return pairs


def _when(item: Item) -> str:
    return dt.datetime.fromtimestamp(item.published_ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _line(item: Item) -> str:
    return f"[{_when(item)}] ({item.domain}) {item.title}"


def score(result: Result, pairs: list[Pair]) -> tuple[float, float, list[Pair], list[Pair]]:
    same = [p for p in pairs if p.same]
    different = [p for p in pairs if not p.same]
    missed = [p for p in same if result.story_of[p.a] != result.story_of[p.b]]
    wrong = [p for p in different if result.story_of[p.a] == result.story_of[p.b]]
    grouped = 1 - len(missed) / len(same) if same else 0.0
    merged = len(wrong) / len(different) if different else 0.0
    return grouped, merged, missed, wrong


def report(
    result: Result,
    pairs: list[Pair],
    by_key: dict[str, Item],
    top: int,
    quiet: bool,
    explain: Callable[[Pair], str] | None = None,
) -> None:
    n = len(by_key)
    grouped, merged, missed, wrong = score(result, pairs)
    same_n = sum(p.same for p in pairs)
    print(f"\n== {result.name}")
    print(
        f"grouped {grouped:.2f} ({same_n - len(missed)}/{same_n} same pairs in one story)   "
        f"merged {merged:.2f} ({len(wrong)}/{len(pairs) - same_n} different pairs in one story)"
    )
    print(
        f"CPU {1000 * result.cpu_seconds / n:.3f} ms/article ({result.cpu_seconds:.2f} s for "
        f"{n} articles); {result.comparisons / n:.2f} comparisons/article"
    )
    sizes = collections.Counter(len(m) for m in result.members.values())
    buckets = {"1": 0, "2": 0, "3-5": 0, "6-10": 0, "11-20": 0, ">20": 0}
    for size, count in sizes.items():
        label = (
            "1"
            if size == 1
            else "2"
            if size == 2
            else "3-5"
            if size <= 5
            else "6-10"
            if size <= 10
            else "11-20"
            if size <= 20
            else ">20"
        )
        buckets[label] += count
    print(
        "stories by size: "
        + ", ".join(f"{k}: {v}" for k, v in buckets.items())
        + f" ({len(result.members)} stories)"
    )
    if quiet:
        return
    for title, errors in (
        ("missed (same story, apart)", missed),
        ("merged (different stories, together)", wrong),
    ):
        print(f"-- {title}: {len(errors)}")
        for p in errors:
            print(f"   {p.why}")
            print(f"     a {_line(by_key[p.a])}")
            print(f"     b {_line(by_key[p.b])}")
            if explain is not None:
                print(f"     {explain(p)}")
    print(f"-- the {top} largest stories")
    largest = sorted(result.members.values(), key=len, reverse=True)[:top]
    for keys in largest:
        items = [by_key[k] for k in keys]
        span = (max(i.published_ts for i in items) - min(i.published_ts for i in items)) / 86400
        print(
            f"   {len(items)} articles over {span:.1f} days, "
            f"{independent_outlets(items)} independent outlets; lead: {lead(items).title}"
        )
        for item in sorted(items, key=lambda i: i.published_ts)[:12]:
            print(f"     {_line(item)}")
        if len(items) > 12:
            print(f"     ... {len(items) - 12} more")


def explainer(grouper: Grouper) -> Callable[[Pair], str]:
    """Why a pair ended where it did: its evidence and veto, as the grouper sees it now."""
    from bot.core.grouping.evidence import evidence
    from bot.core.grouping.vetoes import veto

    def explain(p: Pair) -> str:
        a, b = grouper.docs[p.a], grouper.docs[p.b]
        ev = evidence(a, b, grouper.stats)
        line = (
            f"title {ev.title_cosine:.2f} cover {ev.cover_a:.2f}/{ev.cover_b:.2f} "
            f"text {ev.text_cosine:.2f} name {int(ev.shared_name)} kind {int(ev.same_kind)} "
            f"score {ev.score:.2f}; "
            f"veto {veto(a, b, grouper.stats)}; "
            f"{abs(a.ts - b.ts) / 3600:.0f} h apart"
        )
        sa, sb = grouper.story_of(p.a), grouper.story_of(p.b)
        if sa == sb:
            return line
        ka, kb = grouper.story(sa).keys, grouper.story(sb).keys
        cross = [
            (reason, x, y)
            for x in ka
            for y in kb
            if (reason := veto(grouper.docs[x], grouper.docs[y], grouper.stats)) is not None
        ]
        stamps = [grouper.docs[k].ts for k in ka + kb]
        line += (
            f"; stories of {len(ka)} and {len(kb)}, together over "
            f"{(max(stamps) - min(stamps)) / 86400:.1f} days, {len(cross)} cross vetoes"
        )
        for reason, x, y in cross[:2]:
            line += (
                f"\n       {reason}: {grouper.docs[x].item.title[:70]!r} / "
                f"{grouper.docs[y].item.title[:70]!r}"
            )
        return line

    return explain


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--judged", type=Path, default=JUDGED)
    parser.add_argument(
        "--cache", type=Path, default=None, help="pickle of the parsed corpus (made if missing)"
    )
    parser.add_argument("--top", type=int, default=15, help="largest stories shown")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="figures only")
    args = parser.parse_args(list(argv) if argv is not None else None)

    start = time.process_time()
    corpus = cached_corpus(args.corpus, args.cache)
    parse_cpu = time.process_time() - start
    by_key = {item.key: item for item in corpus.items}
    pairs = load_pairs(args.judged, corpus, by_key)
    print(
        f"{len(corpus.items)} articles ({sum(i.is_main for i in corpus.items)} main) from "
        f"{len(corpus.main_of_file)} files ({corpus.bad} bad), parsed in {parse_cpu:.1f} s "
        f"CPU; {len(pairs)} judged pairs from {args.judged}"
    )
    result, grouper = run_grouper(corpus.items)
    report(result, pairs, by_key, args.top, args.quiet, explainer(grouper))
    if not args.no_baseline:
        baseline = run_baseline(corpus.items)
        if baseline is None:
            print("\n(no baseline: bot.core.stories, the former rule, is gone)")
        else:
            report(baseline, pairs, by_key, args.top, quiet=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
