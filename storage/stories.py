"""Stories and their grouping: SQL for ``stories``, ``grouping_words``, ``grouping_state`` and
``grouping_pending`` (m008). Part of :class:`Store`.

What each table holds is in m008 (``storage.migrations``); what is done with them, and why, in
``bot.core.regroup``. In short: triggers note every article written (new, or changed in what
grouping or a story's lead depends on) in ``grouping_pending``; a regroup reads those and the
articles they reach in one snapshot, works out the stories away from the database, and writes
them back under a lease (one regrouping process at a time): many story ids in short
transactions, then the last of them, the stories' rows, the statistics and the pending rows in
one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storage.base import StoreBase

GROUPING_COLUMNS = (
    "id, url, title, excerpt, domain, provider, published_ts, quality, "
    "coalesce(is_main, parent_id IS NULL) AS is_main, story_id"
)
# A story's members in the order their lead is chosen (bot.core.grouping.prominence.lead): a
# main article before a related entry, then quality (unknown last), then the earliest.
LEAD_ORDER = (
    "coalesce(is_main, parent_id IS NULL) DESC, coalesce(quality, -1) DESC, published_ts, url"
)


@dataclass(frozen=True)
class StoryRow:
    """A story of two articles or more, as ``stories`` keeps it."""

    id: int
    lead_id: int
    articles: int
    outlets: int  # independent outlets
    outlet_names: tuple[str, ...]
    first_ts: int
    last_ts: int


@dataclass(frozen=True)
class Pending:
    """An article to group again (a row of ``grouping_pending``)."""

    article_id: int
    regroup: bool  # its text, outlet or date changed (or it is new); else only its lead fields
    counted: bool  # the statistics count it, as ``was_title``/``was_excerpt``
    was_title: str | None
    was_excerpt: str | None
    was_ts: int | None
    touch: int


class GroupingBusy(Exception):
    """Another process holds the grouping lease."""


class LeaseLost(Exception):
    """This process's grouping lease was taken over (it was presumed dead): stop writing."""


class StoriesMixin(StoreBase):
    """Methods of Store (see storage.store) for stories and their grouping."""

    # -- what search and digests read ------------------------------------------------------------

    def story_rows(self, story_ids: Iterable[int]) -> dict[int, StoryRow]:
        """The stored stories among ``story_ids`` (one-article stories have no row)."""
        ids = list(dict.fromkeys(story_ids))
        found: dict[int, StoryRow] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self._rows(
                "SELECT id, lead_id, articles, outlets, outlet_names, first_ts, last_ts "
                f"FROM stories WHERE id IN ({marks})",
                chunk,
            ):
                found[r["id"]] = _story_row(r)
        return found

    def story_leads(self, story_ids: Iterable[int]) -> dict[int, int]:
        """Each stored story's lead article id, by story id."""
        return {s: row.lead_id for s, row in self.story_rows(story_ids).items()}

    def all_story_rows(self) -> list[StoryRow]:
        return [_story_row(r) for r in self._rows("SELECT * FROM stories ORDER BY id")]

    # -- the grouping's state ------------------------------------------------------------------

    def grouping_state(self) -> dict[str, Any]:
        """rule, articles (counted by the statistics), owner, owner_until; plus ``pending``
        (articles to group again) and ``dated`` (articles with a date)."""
        row = self._one("SELECT rule, articles, owner, owner_until FROM grouping_state")
        state = dict(row) if row else {"rule": None, "articles": 0}
        state["pending"] = int(self._scalar("SELECT count(*) FROM grouping_pending"))
        state["dated"] = int(
            self._scalar("SELECT count(*) FROM articles WHERE published_ts IS NOT NULL")
        )
        return state

    def claim_grouping(
        self, owner: str, now: float, lease: float, gone: Callable[[str], bool] = lambda _: False
    ) -> None:
        """Take the grouping lease, or raise :class:`GroupingBusy` when another live process
        holds it (its lease not over, and ``gone(holder)`` false)."""
        with self.transaction():
            holder, until = self._holder()
            held = holder is not None and holder != owner and until is not None and until > now
            if held and holder is not None and not gone(holder):
                raise GroupingBusy(str(holder))
            self._write(
                "UPDATE grouping_state SET owner = ?, owner_until = ?", (owner, now + lease)
            )

    def renew_grouping(self, owner: str, now: float, lease: float) -> None:
        """Extend the lease; :class:`LeaseLost` if another process holds it now."""
        with self.transaction():
            self._fence(owner)
            self._write("UPDATE grouping_state SET owner_until = ?", (now + lease,))

    def release_grouping(self, owner: str) -> bool:
        """Give the lease up, unless articles to regroup are pending (written by another
        process meanwhile): then keep it and say so (False), so the holder goes on with them.
        Checked and released in one transaction, so no pending article is left behind by a
        process that found the lease held."""
        with self.transaction():
            holder, _ = self._holder()
            if holder != owner:
                return True
            if self._scalar("SELECT 1 FROM grouping_pending LIMIT 1"):
                return False
            self._write("UPDATE grouping_state SET owner = NULL, owner_until = NULL")
            return True

    def abandon_grouping(self, owner: str) -> None:
        """Give the lease up whatever is pending (a regroup that failed)."""
        with self.transaction():
            self._write(
                "UPDATE grouping_state SET owner = NULL, owner_until = NULL WHERE owner = ?",
                (owner,),
            )

    def adopt_grouping_rule(self, rule: str) -> None:
        """Record ``rule`` as the stories' rule while there are no dated articles to group (a
        new database)."""
        self._write(
            "UPDATE grouping_state SET rule = ? WHERE NOT EXISTS "
            "(SELECT 1 FROM articles WHERE published_ts IS NOT NULL)",
            (rule,),
        )

    def _holder(self) -> tuple[str | None, float | None]:
        row = self._one("SELECT owner, owner_until FROM grouping_state")
        if row is None:
            return None, None
        return row["owner"], row["owner_until"]

    def _fence(self, owner: str) -> None:
        holder, _ = self._holder()
        if holder != owner:
            raise LeaseLost(str(holder))

    # -- reading, in one snapshot --------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every read inside sees the database as of its first read (WAL),
        whatever other processes commit meanwhile. Takes no lock."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:  # inside a write transaction: that is a snapshot already
                yield
                return
            self._retrying(lambda: conn.execute("BEGIN DEFERRED"))
            try:
                yield
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def pending_grouping(self) -> list[Pending]:
        return [
            Pending(
                r["article_id"],
                bool(r["regroup"]),
                bool(r["counted"]),
                r["was_title"],
                r["was_excerpt"],
                r["was_ts"],
                r["touch"],
            )
            for r in self._rows(
                "SELECT article_id, regroup, counted, was_title, was_excerpt, was_ts, touch "
                "FROM grouping_pending ORDER BY article_id"
            )
        ]

    def corpus_counts(self) -> tuple[int, list[tuple[str, int, int, int]]]:
        """The statistics: (articles counted, [(word, df, capitals, lower)])."""
        n = self._scalar("SELECT articles FROM grouping_state") or 0
        with self._lock:
            rows = self._retrying(
                lambda: self.db.conn.execute(
                    "SELECT word, df, capitals, lower FROM grouping_words"
                ).fetchall()
            )
        return int(n), [(str(w), int(d), int(c), int(lo)) for w, d, c, lo in rows]

    def crossing_story_start(self, cut: int) -> int | None:
        """The earliest start of the stored stories that have articles on both sides of
        ``cut`` (published before it, and at or after it), or None."""
        value = self._scalar(
            "SELECT min(first_ts) FROM stories WHERE last_ts >= ? AND first_ts < ?", (cut, cut)
        )
        return int(value) if value is not None else None

    def grouping_rows(self, since_ts: int | None) -> list[dict[str, Any]]:
        """The dated articles published at or after ``since_ts`` (all, for None), in grouping
        order: publication time, then address."""
        where, params = (
            ("published_ts >= ?", (since_ts,))
            if since_ts is not None
            else (
                "published_ts IS NOT NULL",
                (),
            )
        )
        return self._rows(
            f"SELECT {GROUPING_COLUMNS} FROM articles WHERE {where} ORDER BY published_ts, url",
            params,
        )

    def grouping_rows_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            found += self._rows(
                f"SELECT {GROUPING_COLUMNS} FROM articles WHERE id IN ({marks})", chunk
            )
        return found

    def grouping_rows_of_stories(self, story_ids: Sequence[int]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        ids = list(story_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found += self._rows(
                f"SELECT {GROUPING_COLUMNS} FROM articles WHERE story_id IN ({marks})", chunk
            )
        return found

    def same_outlet_before(self, domain: str, lo_ts: int, hi_ts: int) -> list[dict[str, Any]]:
        """The articles of one outlet published in [lo_ts, hi_ts) (a re-published article's
        first publication may be among them)."""
        return self._rows(
            f"SELECT {GROUPING_COLUMNS} FROM articles WHERE domain = ? AND published_ts >= ? "
            "AND published_ts < ? ORDER BY published_ts, url",
            (domain, lo_ts, hi_ts),
        )

    # -- writing -----------------------------------------------------------------------------

    def write_story_ids(self, owner: str, changes: Sequence[tuple[int, int]]) -> None:
        """Set ``story_id`` of these (article id, story id) pairs, in one transaction, if this
        process still holds the grouping lease (else :class:`LeaseLost`)."""
        with self.transaction():
            self._fence(owner)
            with self._lock:
                self.db.conn.executemany(
                    "UPDATE articles SET story_id = ? WHERE id = ?",
                    [(story, article) for article, story in changes],
                )

    def commit_grouping(
        self,
        owner: str,
        *,
        story_ids: Sequence[tuple[int, int]],
        cut: int | None,
        stories: Sequence[StoryRow],
        replaced: Iterable[int],
        n: int,
        words: Mapping[str, tuple[int, int, int]],
        done: Sequence[Pending],
        counted_now: Mapping[int, tuple[str, str, int] | None],
        rule: str,
    ) -> None:
        """The end of a regroup, in one transaction: its last story ids ((article id, story
        id), as :meth:`write_story_ids`), the stories' rows (those published from ``cut`` on
        are replaced, all for None, and those of ``replaced``),
        the statistics (``words``: the new counts of the words that changed; all zero: gone),
        the pending rows worked off, and the rule.

        A pending row changed again since it was read (``touch``) stays, as the article now
        counts: ``counted_now[article_id]`` is (title, excerpt, published_ts) as the
        statistics now count it, or None when they do not.
        """
        with self.transaction():
            self._fence(owner)
            conn = self.db.conn
            with self._lock:
                conn.executemany(
                    "UPDATE articles SET story_id = ? WHERE id = ?",
                    [(story, article) for article, story in story_ids],
                )
                if cut is None:
                    conn.execute("DELETE FROM stories")
                else:
                    conn.execute("DELETE FROM stories WHERE first_ts >= ?", (cut,))
                conn.executemany("DELETE FROM stories WHERE id = ?", [(s,) for s in replaced])
                conn.executemany(
                    "INSERT OR REPLACE INTO stories (id, lead_id, articles, outlets, "
                    "outlet_names, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            s.id,
                            s.lead_id,
                            s.articles,
                            s.outlets,
                            json.dumps(list(s.outlet_names), ensure_ascii=False),
                            s.first_ts,
                            s.last_ts,
                        )
                        for s in stories
                    ],
                )
                gone = [(w,) for w, counts in words.items() if not any(counts)]
                kept = [(w, *counts) for w, counts in words.items() if any(counts)]
                conn.executemany("DELETE FROM grouping_words WHERE word = ?", gone)
                conn.executemany(
                    "INSERT INTO grouping_words (word, df, capitals, lower) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (word) DO UPDATE SET df = excluded.df, "
                    "capitals = excluded.capitals, lower = excluded.lower",
                    kept,
                )
                conn.execute("UPDATE grouping_state SET articles = ?, rule = ?", (n, rule))
                for p in done:
                    cur = conn.execute(
                        "DELETE FROM grouping_pending WHERE article_id = ? AND touch = ?",
                        (p.article_id, p.touch),
                    )
                    if cur.rowcount:
                        continue
                    now = counted_now.get(p.article_id)
                    conn.execute(
                        "UPDATE grouping_pending SET counted = ?, was_title = ?, "
                        "was_excerpt = ?, was_ts = ? WHERE article_id = ?",
                        (
                            int(now is not None),
                            now[0] if now else None,
                            now[1] if now else None,
                            now[2] if now else None,
                            p.article_id,
                        ),
                    )


def _story_row(r: dict[str, Any]) -> StoryRow:
    return StoryRow(
        int(r["id"]),
        int(r["lead_id"]),
        int(r["articles"]),
        int(r["outlets"]),
        tuple(json.loads(r["outlet_names"])),
        int(r["first_ts"]),
        int(r["last_ts"]),
    )
