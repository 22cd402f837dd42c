"""A topic's scored matches kept between rankings (bot.core.matches): a ranking through a
memo is the ranking without one, whatever moved in between (the window sliding with the
time of day, an article rewritten, a story regrouped, a load by another process), and the memo
does reuse what it keeps.

The reference is ``tests.core.test_search_window.reference``: ranking as it was before the
window was read in one statement, three look-ups and no memo.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.core import ranking
from bot.core.loader import Loader
from bot.core.matches import MatchMemo
from bot.core.search import SearchResult, hit_to_json, parse, ranked_stories, search, terms_of
from storage.store import Store
from tests.conftest import FIXTURES, FixedClock
from tests.core.test_search_window import NOW_TS, queries, reference

NOW = dt.datetime.fromtimestamp(NOW_TS, dt.UTC)


class CountingStore(Store):
    """A store that counts the full rows the window statement hands back (the costly ones:
    highlight(), JOINs, BM25F)."""

    full_rows = 0

    def match_window_except(self, *args: Any, **kwargs: Any) -> Any:
        version, ids, rows = super().match_window_except(*args, **kwargs)
        self.full_rows += len(rows)
        return version, ids, rows


def exact(found: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [(r.story_id, r.article_id, r.score, r.row) for r in found]


@pytest.fixture
def corpus(tmp_path: Path) -> CountingStore:
    store = CountingStore(tmp_path / "news.db")
    paths = [FIXTURES / d for d in ("seed", "cosmos", "azure-related", "power-apps")]
    report = Loader(store, FixedClock()).load(paths)
    assert report.ok, report.bad
    store.refresh_search_terms()
    return store


def ids_of(store: Store) -> list[int]:
    return [r[0] for r in store.db.conn.execute("SELECT id FROM articles ORDER BY id")]


def spans(store: Store, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Overlapping id spans, as a topic's windows at successive times of day are, in both
    directions."""
    ids = ids_of(store)
    width = len(ids) // 3
    starts = sorted(rng.randrange(0, len(ids) - width) for _ in range(count))
    if rng.random() < 0.5:
        starts.reverse()
    return [(ids[s], ids[s + width]) for s in starts]


def compare(store: Store, memo: MatchMemo, query: str, lo: int, hi: int, window: int) -> None:
    parsed = parse(query)
    assert parsed is not None
    args = (store, terms_of(parsed), parsed.fts(), NOW_TS, ranking.DIGEST_DECAY)
    kept = ranked_stories(*args, window=window, lo=lo, hi=hi, memo=memo)
    assert exact(kept) == exact(reference(*args, window=window, lo=lo, hi=hi)), (query, lo, hi)


def test_ranking_through_a_memo_is_ranking_without_one_as_the_window_slides(corpus):
    rng = random.Random(15)
    memo = MatchMemo()
    for query in queries(corpus)[::3]:
        for lo, hi in spans(corpus, rng, 6):
            compare(corpus, memo, query, lo, hi, rng.choice((5, 40, 1000)))


def test_the_memo_reuses_the_matches_it_scored(corpus):
    memo = MatchMemo()
    ids = ids_of(corpus)
    lo, hi = ids[0], ids[-1]
    compare(corpus, memo, "azure", lo, hi, 1000)
    first = corpus.full_rows
    assert first > 50
    compare(corpus, memo, "azure", lo, ids[-30], 1000)  # an earlier moment: nothing new
    compare(corpus, memo, "azure", lo, hi, 1000)
    assert corpus.full_rows == first
    # a fresh memo reads them all again
    compare(corpus, MatchMemo(), "azure", lo, hi, 1000)
    assert corpus.full_rows == 2 * first


def newest_matching(store: Store, word: str) -> list[int]:
    return [
        r[0]
        for r in store.db.conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC",
            (word,),
        )
    ]


def changes(store: Store, target: int) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Writes that change what ranking reads of ``target`` (an article matching 'azure')."""
    story = store.db.conn.execute("SELECT story_id FROM articles WHERE id = ?", (target,))
    story_id = story.fetchone()[0]
    out = [
        (
            "a headline",
            "UPDATE articles SET title = title || ' azure azure' WHERE id = ?",
            (target,),
        ),
        ("quality", "UPDATE articles SET quality = 999 WHERE id = ?", (target,)),
        ("the outlet", "UPDATE articles SET domain = 'elsewhere.example' WHERE id = ?", (target,)),
        ("main", "UPDATE articles SET is_main = 1 - coalesce(is_main, 0) WHERE id = ?", (target,)),
        ("topics", 'UPDATE articles SET topics = \'["Azure", "Azure"]\' WHERE id = ?', (target,)),
        ("deleted", "DELETE FROM articles WHERE id = ?", (target,)),
    ]
    if story_id is not None:
        out += [
            ("outlets", "UPDATE stories SET outlets = outlets + 7 WHERE id = ?", (story_id,)),
            ("lead", "UPDATE stories SET lead_id = ? WHERE id = ?", (target, story_id)),
        ]
    return out


@pytest.mark.parametrize("index", range(8))
def test_a_write_to_what_ranking_reads_is_seen_at_once(corpus, index):
    memo = MatchMemo()
    ids = ids_of(corpus)
    lo, hi = ids[0], ids[-1]
    compare(corpus, memo, "azure", lo, hi, 1000)
    in_stories = [
        i
        for i in newest_matching(corpus, "azure")
        if corpus.db.conn.execute("SELECT story_id FROM articles WHERE id = ?", (i,)).fetchone()[0]
    ]
    assert in_stories
    cases = changes(corpus, in_stories[len(in_stories) // 2])
    name, sql, params = cases[index]
    before = corpus.ranking_version()
    with corpus.transaction():
        corpus._write(sql, params)
    assert corpus.ranking_version() > before, name
    compare(corpus, memo, "azure", lo, hi, 1000)


def test_rewriting_an_article_as_it_was_leaves_the_version_alone(corpus):
    target = newest_matching(corpus, "azure")[0]
    before = corpus.ranking_version()
    with corpus.transaction():
        corpus._write(
            "UPDATE articles SET title = title, quality = quality WHERE id = ?", (target,)
        )
        corpus._write("UPDATE stories SET outlets = outlets")
    assert corpus.ranking_version() == before


def test_another_process_writing_is_seen(corpus):
    memo = MatchMemo()
    other = Store(corpus.path)  # another connection, as another process's would be
    ids = ids_of(corpus)
    compare(corpus, memo, "data", ids[0], ids[-1], 1000)
    with other.transaction():
        other._write(
            "UPDATE articles SET title = 'data data data ' || title WHERE id = ?",
            (newest_matching(corpus, "data")[-1],),
        )
    other.close()
    compare(corpus, memo, "data", ids[0], ids[-1], 1000)


def test_a_load_that_moves_the_statistics_scores_everything_again(tmp_path):
    store = CountingStore(tmp_path / "news.db")
    assert Loader(store, FixedClock()).load([FIXTURES / "seed", FIXTURES / "cosmos"]).ok
    store.refresh_search_terms()
    memo = MatchMemo()
    span = (0, 2**62)
    compare(store, memo, "azure", *span, 1000)
    n_before, _ = store.corpus_stats()
    assert Loader(store, FixedClock()).load([FIXTURES / "azure-related"]).ok
    store.refresh_search_terms()
    assert store.corpus_stats()[0] > n_before
    compare(store, memo, "azure", *span, 1000)


def test_memory_stays_within_its_bound(corpus):
    memo = MatchMemo(max_rows=60)
    ids = ids_of(corpus)
    for query in queries(corpus)[:40]:
        compare(corpus, memo, query, ids[0], ids[-1], 1000)
        held = sum(len(e.rows) for e in memo._entries.values())
        assert held == memo._held
        assert held <= 60 or len(memo._entries) == 1


def test_a_search_through_a_memo_answers_as_one_without(corpus):
    """Search's own memo (one per service: bot.core.service.search): every query, at two
    moments, muted or not, page by page, the same answer as without."""
    memo = MatchMemo()
    domains = [r[0] for r in corpus.db.conn.execute("SELECT DISTINCT domain FROM articles")]
    muted = [d for d in domains[:3] if d]
    for query in queries(corpus)[::2] + ["facial recogniton", "cosmos kubernetes zzyzx"]:
        for now in (NOW, NOW + dt.timedelta(days=400)):
            for exclude in ((), muted):
                for offset in (0, 5):
                    kwargs: dict[str, Any] = {"now": now, "exclude_domains": exclude}
                    kept = search(corpus, query, offset=offset, memo=memo, **kwargs)
                    alone = search(corpus, query, offset=offset, **kwargs)
                    assert as_json(kept) == as_json(alone), query
    assert corpus.full_rows > 0


def as_json(result: SearchResult) -> dict[str, Any]:
    return {
        "hits": [hit_to_json(h) for h in result.hits],
        "total": result.total,
        "message": result.message,
        "note": result.note,
    }
