"""Stories in the database, grouped by :mod:`bot.core.grouping` as articles arrive.

**What the stories are.** One run of :class:`~bot.core.grouping.Grouper` over every dated
article in publication order (time, then address), the corpus statistics counting, at each
article, the articles before it. That is a function of the articles alone: the same articles
give the same stories whatever order their files were loaded in, in one load or many. (An
article without a date is a story of its own and counts in no statistics.)

**Keeping them so, cheaply.** Triggers (m008) note each article written: new, or changed in
its headline, excerpt, outlet or date (it must be grouped again), or only in what chooses a
story's lead (quality, outlet name, parent). After a load, :func:`regroup` works them off:

1. From the earliest article to group again, ``t``, it goes back to a *cut* ``c``: no article
   after ``t`` can link to one before ``c`` (``c <= t -`` the grouping's longest reach, and
   no first publication of a re-published article lies before ``c``), and no stored story
   has articles on both sides of ``c``. Before ``t`` nothing changed, so the stories cut there
   are final; a run of the grouper started at ``c``, with the statistics as they were at
   ``c`` (the stored ones minus what the articles from ``c`` on counted), makes exactly the
   stories a run over everything would: a story it could not see would have to cross ``c``.
2. It groups the articles from ``c`` on (all that come after: the statistics of every later
   article changed), and writes the story ids that changed, the stories' rows (lead,
   independent outlets, outlets), the statistics and the rule.

A new day's articles regroup about a week (the reach, plus the stories crossing it); a file
of old articles regroups from its date to now. ``regroup(full=True)`` (``newsbot regroup``)
starts from nothing: the statistics too. So does any regroup when the stored stories were
made by another rule (:func:`rule_version`: a fingerprint of the grouping code).

**Safe to interrupt, one at a time.** All reads are one snapshot. The writes end with one
transaction holding the last story ids, the stories' rows, the statistics, the pending notes
and the rule (a load's regroup is that one transaction); a regroup with more story ids to write
writes the others before it, in short transactions. Killed half-way, it leaves its pending
notes (and the rule) as they were, and the next one does the same work again, to the same
result. One process regroups at a time, under a lease
(a process known dead loses it at once); one that finds it held leaves its articles to the
holder, which goes on until nothing is pending.

The grouping package is used through its public API, plus three names of its modules this one
depends on (imported in one place below): ``text.features`` (to take an article's counts out
of the statistics), ``cluster.publication_keys`` (to find what an article may re-publish) and
``cluster.LONG_WINDOW`` and ``cluster.REPUBLISHED_WINDOW`` (how far back an article reaches).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bot.core.grouping as grouping_package
from bot.core.grouping import CorpusStats, Grouper, Item
from bot.core.grouping.cluster import LONG_WINDOW, REPUBLISHED_WINDOW, publication_keys
from bot.core.grouping.prominence import independent_outlets, lead
from bot.core.grouping.text import Features, features
from bot.core.owners import owner_gone, process_owner
from storage.store import Store
from storage.stories import GroupingBusy, LeaseLost, Pending, StoryRow

# Bump when what this module makes of articles and stories changes (the Items it builds, the
# rows it writes): every stored story is then made again.
RULE_FORMAT = 1
LEASE_SECONDS = 60.0  # a regroup renews it every third of that
WRITE_BATCH = 2000  # story ids per transaction
TURN_SECONDS = 0.01  # the write lock left free between two of them
MAX_ROUNDS = 5  # regroups in a row while other processes add articles meanwhile
NO_SPAN = 1 << 62  # the cut when only stories' leads are to be chosen again: no article after it

Progress = Callable[[str, int, int], None]  # (phase, done, total): "grouping", "writing"


# -- the rule -----------------------------------------------------------------------------------


@functools.cache
def rule_version() -> str:
    """The fingerprint of the grouping rule: the grouping package's code (its syntax tree,
    docstrings and comments aside, so rewording or formatting it changes nothing), the
    stemmer's version and :data:`RULE_FORMAT`. Stories stored under another one are made
    again."""
    digest = hashlib.sha256(f"format {RULE_FORMAT}".encode())
    try:
        digest.update(importlib.metadata.version("PyStemmer").encode())
    except importlib.metadata.PackageNotFoundError:
        pass
    folder = Path(grouping_package.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        digest.update(path.name.encode() + b"\0" + ast.dump(_without_docstrings(tree)).encode())
    return f"{RULE_FORMAT}-{digest.hexdigest()[:16]}"


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[0] = ast.Pass()
    return tree


def needs_regroup(store: Store) -> str | None:
    """Why the stored stories are not those of the current rule and articles (None: they
    are): made by another rule, or articles are waiting to be grouped (a load cut short, or
    articles written by other code)."""
    state = store.grouping_state()
    grouped_before = state["dated"] > state["pending"]
    if state["rule"] != rule_version() and grouped_before:
        if state["rule"] is None:
            return "the stories were made by an older rule"
        return "the stories were made by another version of the rule"
    if state["pending"]:
        return f"{state['pending']} articles are waiting to be grouped"
    return None


class _Lease:
    """The grouping lease held by this process: renewed when a third of it has passed."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store, self.owner = store, owner
        store.claim_grouping(owner, time.time(), LEASE_SECONDS, owner_gone)
        self.renewed = time.monotonic()

    def keep(self) -> None:
        if time.monotonic() - self.renewed > LEASE_SECONDS / 3:
            self.store.renew_grouping(self.owner, time.time(), LEASE_SECONDS)
            self.renewed = time.monotonic()


# -- regrouping ---------------------------------------------------------------------------------


@dataclass
class RegroupReport:
    full: bool = False  # every story made again (asked, or the rule changed)
    since_ts: int | None = None  # the cut: articles published from then on were grouped
    articles: int = 0  # articles grouped
    changed: int = 0  # articles whose story id changed
    stories: int = 0  # stories of two articles or more written
    rounds: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    busy: str | None = None  # another process held the lease: the work is left to it
    reason: str | None = None  # "rule": the stored stories were another rule's; "asked"

    def summary(self) -> str:
        if self.busy:
            return "stories: another newsbot process is grouping; it groups these articles too"
        what = "every story" if self.full else "the stories touched"
        return (
            f"stories: regrouped {what}: {self.articles} articles, {self.changed} moved, "
            f"{self.stories} stories of several articles, in {self.seconds:.1f} s"
        )


def regroup(
    store: Store,
    *,
    full: bool = False,
    progress: Progress | None = None,
    batch: int = WRITE_BATCH,
) -> RegroupReport:
    """Bring the stored stories up to date with the articles (see the module docstring);
    ``full``: make every story again. Nothing to do costs two reads."""
    report = RegroupReport()
    started, cpu = time.monotonic(), time.process_time()
    rule = rule_version()
    state = store.grouping_state()
    stale = state["rule"] != rule
    if not (full or state["pending"] or (stale and state["dated"])):
        if stale:  # no article yet: nothing to make again
            store.adopt_grouping_rule(rule)
        return report
    if stale and state["dated"] > state["pending"]:
        report.reason = "rule"  # stories made before, by another rule
    elif full:
        report.reason = "asked"
    owner = process_owner()
    try:
        lease = _Lease(store, owner)
    except GroupingBusy as exc:
        report.busy = str(exc)
        return report
    try:
        for _ in range(MAX_ROUNDS):
            report.rounds += 1
            state = store.grouping_state()
            whole = full or state["rule"] != rule
            _one_round(store, lease, rule, whole, report, progress, batch)
            full = False
            if store.release_grouping(owner):
                break
        else:
            store.abandon_grouping(owner)
    except LeaseLost as exc:  # presumed dead and taken over: the new holder does it all
        report.busy = str(exc)
        return report
    except BaseException:
        store.abandon_grouping(owner)
        raise
    report.seconds = time.monotonic() - started
    report.cpu_seconds = time.process_time() - cpu
    return report


@dataclass
class _Plan:
    """What one round read, in one snapshot."""

    cut: int | None  # None: from the beginning (and statistics from nothing)
    rows: list[dict[str, Any]]  # the articles grouped, in grouping order
    pending: list[Pending]
    current: dict[int, dict[str, Any]]  # the pending articles as they are now
    stats: CorpusStats
    stored_counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    lead_only: list[dict[str, Any]] = field(default_factory=list)  # members of stories whose
    # lead fields changed, away from the regrouped span


def _one_round(
    store: Store,
    lease: _Lease,
    rule: str,
    full: bool,
    report: RegroupReport,
    progress: Progress | None,
    batch: int,
) -> None:
    plan = _read(store, full)
    if plan is None:  # the stored statistics do not add up: make everything again
        full = True
        plan = _read(store, True)
        assert plan is not None
    report.full = report.full or full
    report.since_ts = plan.cut if plan.cut != NO_SPAN else None
    grouper = Grouper(plan.stats)
    total = len(plan.rows)
    for i, row in enumerate(plan.rows):
        grouper.add(_item(row))
        if i % 500 == 0:
            lease.keep()
            if progress:
                progress("grouping", i, total)
    if progress:
        progress("grouping", total, total)
    report.articles += total
    changes, stories = _stories(grouper, plan)
    replaced, lead_stories = _lead_only(plan)
    stories += lead_stories
    last = max(0, len(changes) - batch)  # the last batch goes with the rest: a small regroup
    for start in range(0, last, batch):  # is one transaction
        lease.keep()
        store.write_story_ids(lease.owner, changes[start : min(start + batch, last)])
        if progress:
            progress("writing", min(start + batch, last), len(changes))
        time.sleep(TURN_SECONDS)
    report.changed += len(changes)
    report.stories += len(stories)
    lease.keep()
    store.commit_grouping(
        lease.owner,
        story_ids=changes[last:],
        cut=plan.cut,
        stories=stories,
        replaced=replaced,
        n=grouper.stats.n,
        words=_changed_counts(plan.stored_counts, grouper.stats),
        done=plan.pending,
        counted_now=_counted_now(plan),
        rule=rule,
    )
    if progress and changes:
        progress("writing", len(changes), len(changes))


# -- reading ------------------------------------------------------------------------------------


def _read(store: Store, full: bool) -> _Plan | None:
    """The round's articles and statistics, read in one snapshot; None when the stored
    statistics turn out not to count what they should (then a full regroup is the way)."""
    with store.snapshot():
        pending = store.pending_grouping()
        current = {r["id"]: r for r in store.grouping_rows_by_id([p.article_id for p in pending])}
        if full:
            rows = store.grouping_rows(None)
            return _Plan(None, rows, pending, current, CorpusStats(), _stored(store))
        start = _earliest_change(pending, current)
        cut = NO_SPAN if start is None else _cut(store, start, pending, current)
        rows = store.grouping_rows(cut) if cut != NO_SPAN else []
        stored = _stored(store)
        stats = _prefix_stats(store, stored, cut, rows, pending, current)
        if stats is None:
            return None
        regrouped = {r["id"] for r in rows}
        lead_only = _stories_to_relead(store, pending, current, regrouped)
    return _Plan(cut, rows, pending, current, stats, stored, lead_only)


def _stored(store: Store) -> dict[str, tuple[int, int, int]]:
    n, words = store.corpus_counts()
    counts = {w: (df, cap, low) for w, df, cap, low in words}
    counts[""] = (n, 0, 0)  # the article count rides along under a name no word has
    return counts


def _earliest_change(pending: Sequence[Pending], current: dict[int, dict[str, Any]]) -> int | None:
    """The earliest date, before or after the change, of the articles to group again."""
    times = []
    for p in pending:
        if not p.regroup:
            continue
        now = current.get(p.article_id)
        for ts in (p.was_ts if p.counted else None, now["published_ts"] if now else None):
            if ts is not None:
                times.append(int(ts))
    return min(times) if times else None


def _cut(
    store: Store, start: int, pending: Sequence[Pending], current: dict[int, dict[str, Any]]
) -> int:
    """The latest time, at or before ``start`` minus the grouping's reach, that no stored
    story crosses and before which no changed article's first publication lies."""
    cut = start - LONG_WINDOW - 1
    while True:
        crossing = store.crossing_story_start(cut)
        if crossing is not None:
            cut = crossing
            continue
        first = _first_publication_before(store, cut, pending, current)
        if first is not None:
            cut = first
            continue
        return cut


def _first_publication_before(
    store: Store, cut: int, pending: Sequence[Pending], current: dict[int, dict[str, Any]]
) -> int | None:
    """The earliest article before ``cut`` of which a changed article may be a re-publication
    (the same outlet and publication key, within the grouping's re-publication window), or
    None."""
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for p in pending:
        row = current.get(p.article_id)
        if (
            p.regroup
            and row is not None
            and row["published_ts"] is not None
            and row["published_ts"] - REPUBLISHED_WINDOW < cut
        ):
            by_domain.setdefault(row["domain"] or "", []).append(row)
    found: list[int] = []
    for domain, rows in by_domain.items():
        earliest: dict[str, int] = {}  # publication key -> the earliest changed article's time
        for r in rows:
            for key in _publication_keys(r):
                earliest[key] = min(earliest.get(key, r["published_ts"]), r["published_ts"])
        if not earliest:
            continue
        lo = min(r["published_ts"] for r in rows) - REPUBLISHED_WINDOW
        for earlier in store.same_outlet_before(domain, lo, cut):
            ts = int(earlier["published_ts"])
            if any(
                k in earliest and earliest[k] - ts <= REPUBLISHED_WINDOW
                for k in _publication_keys(earlier)
            ):
                found.append(ts)
                break  # rows come in time order: the first is the earliest
    return min(found) if found else None


def _publication_keys(row: dict[str, Any]) -> list[str]:
    return publication_keys(_features(row["title"], row["excerpt"]))


def _features(title: str | None, excerpt: str | None) -> Features:
    return features(title or "", excerpt or "")


def _prefix_stats(
    store: Store,
    stored: dict[str, tuple[int, int, int]],
    cut: int | None,
    rows: Sequence[dict[str, Any]],
    pending: Sequence[Pending],
    current: dict[int, dict[str, Any]],
) -> CorpusStats | None:
    """The statistics as they were at ``cut``: the stored ones, less what the articles from
    ``cut`` on counted (as they were when counted). None when a count would go below zero:
    the stored statistics do not count what they should."""
    by_id = {p.article_id: p for p in pending}
    counted: list[tuple[str | None, str | None]] = []
    if cut is not None:
        for row in rows:
            p = by_id.get(row["id"])
            if p is None:
                counted.append((row["title"], row["excerpt"]))
            elif p.counted:
                counted.append((p.was_title, p.was_excerpt))
        in_rows = {r["id"] for r in rows}
        for p in pending:  # counted once, and no longer dated (or gone)
            out_of_rows = p.article_id not in in_rows
            if p.counted and out_of_rows and p.was_ts is not None and p.was_ts >= cut:
                counted.append((p.was_title, p.was_excerpt))
    n = stored.get("", (0, 0, 0))[0] - len(counted)
    df = {w: c[0] for w, c in stored.items() if w and c[0]}
    capitals = {w: c[1] for w, c in stored.items() if w and c[1]}
    lower = {w: c[2] for w, c in stored.items() if w and c[2]}
    for title, excerpt in counted:
        f = _features(title, excerpt)
        for table, words in ((df, f.words), (capitals, f.capitals), (lower, f.lower)):
            for w in words:
                left = table.get(w, 0) - 1
                if left < 0:
                    return None
                if left:
                    table[w] = left
                else:
                    del table[w]
    if n < 0:
        return None
    return CorpusStats.from_dict({"n": n, "df": df, "capitals": capitals, "lower": lower})


def _stories_to_relead(
    store: Store,
    pending: Sequence[Pending],
    current: dict[int, dict[str, Any]],
    regrouped: set[int],
) -> list[dict[str, Any]]:
    """The members of the stories, away from the regrouped span, of articles whose lead
    fields (quality, outlet name, parent) changed."""
    story_ids = {
        current[p.article_id]["story_id"]
        for p in pending
        if not p.regroup and p.article_id in current and p.article_id not in regrouped
    }
    return store.grouping_rows_of_stories(sorted(story_ids)) if story_ids else []


# -- working out stories ------------------------------------------------------------------------


def _item(row: dict[str, Any]) -> Item:
    return Item(
        key=row["url"],
        title=row["title"] or "",
        excerpt=row["excerpt"] or "",
        domain=row["domain"] or "",
        published_ts=int(row["published_ts"]),
        quality=row["quality"],
        is_main=bool(row["is_main"]),
    )


def _stories(grouper: Grouper, plan: _Plan) -> tuple[list[tuple[int, int]], list[StoryRow]]:
    """The story id changes ((article id, story id), in id order) and the rows of the stories
    of several articles. A story's id is its earliest article's (the lowest id)."""
    by_url = {r["url"]: r for r in plan.rows}
    new_story: dict[int, int] = {}
    rows: list[StoryRow] = []
    for story in grouper.stories():
        members = [by_url[k] for k in story.keys if k in by_url]
        if not members:
            continue
        story_id = min(m["id"] for m in members)
        for m in members:
            new_story[m["id"]] = story_id
        if len(members) > 1:
            rows.append(_story_row(story_id, members))
    for row in plan.current.values():  # no date (any more): a story of its own
        if row["published_ts"] is None:
            new_story[row["id"]] = row["id"]
    stored = {r["id"]: r["story_id"] for r in plan.rows}
    stored.update((r["id"], r["story_id"]) for r in plan.current.values())
    changes = sorted((a, s) for a, s in new_story.items() if stored.get(a) != s)
    return changes, sorted(rows, key=lambda s: s.id)


def _story_row(story_id: int, members: Sequence[dict[str, Any]]) -> StoryRow:
    items = [_item(m) for m in members]
    by_key = {m["url"]: m for m in members}
    first = by_key[lead(items).key]
    ordered = [first] + sorted((m for m in members if m is not first), key=lambda m: _lead_order(m))
    return StoryRow(
        id=story_id,
        lead_id=int(first["id"]),
        articles=len(members),
        outlets=independent_outlets(items),
        outlet_names=tuple(outlet_names(ordered)),
        first_ts=min(int(m["published_ts"]) for m in members),
        last_ts=max(int(m["published_ts"]) for m in members),
    )


def _lead_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """prominence.lead's order, for the members after the lead."""
    quality = row["quality"] if row["quality"] is not None else -1
    return (not row["is_main"], -quality, row["published_ts"], row["url"])


def outlet_names(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Each outlet once (by name, any case; the domain when it has none), in the given order."""
    seen: dict[str, str] = {}
    for row in rows:
        name = (row.get("provider") or row.get("domain") or "").strip()
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


def _lead_only(plan: _Plan) -> tuple[list[int], list[StoryRow]]:
    """The stories to re-lead away from the regrouped span: their ids (their rows are
    replaced) and their new rows."""
    by_story: dict[int, list[dict[str, Any]]] = {}
    for row in plan.lead_only:
        if row["published_ts"] is not None:
            by_story.setdefault(row["story_id"], []).append(row)
    replaced = sorted({r["story_id"] for r in plan.lead_only})
    rows = [_story_row(s, m) for s, m in sorted(by_story.items()) if len(m) > 1]
    return replaced, rows


def _changed_counts(
    stored: dict[str, tuple[int, int, int]], stats: CorpusStats
) -> dict[str, tuple[int, int, int]]:
    """The words whose counts changed, with their new counts ((0, 0, 0): gone)."""
    changed: dict[str, tuple[int, int, int]] = {}
    words = set(stats.df) | set(stats.capitals) | set(stats.lower) | (set(stored) - {""})
    for w in words:
        now = (stats.df.get(w, 0), stats.capitals.get(w, 0), stats.lower.get(w, 0))
        if stored.get(w, (0, 0, 0)) != now:
            changed[w] = now
    return changed


def _counted_now(plan: _Plan) -> dict[int, tuple[str, str, int] | None]:
    """For each pending article, the version the new statistics count (None: none)."""
    grouped = {r["id"]: r for r in plan.rows}
    out: dict[int, tuple[str, str, int] | None] = {}
    for p in plan.pending:
        row = grouped.get(p.article_id)
        if row is not None:
            out[p.article_id] = (row["title"], row["excerpt"], int(row["published_ts"]))
        elif plan.cut is None or (p.regroup and (p.was_ts is None or p.was_ts >= plan.cut)):
            out[p.article_id] = None  # in the span, and not dated: not counted
        elif p.counted and p.was_ts is not None:
            out[p.article_id] = (p.was_title or "", p.was_excerpt or "", p.was_ts)
        else:
            out[p.article_id] = None
    return out
