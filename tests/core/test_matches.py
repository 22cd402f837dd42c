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
from tests.core.test_search_window import NOW_TS, loaded, queries, reference

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
    return loaded(CountingStore(tmp_path / "news.db"))


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


def leading(store: Store, memo: MatchMemo, query: str) -> list[tuple[int, int, int]]:
    """(article, its story, another article of the story) for the ranked stories of ``query``
    whose best article is the story's lead, best first: a change to any of these moves the
    ranking (an article that is not its story's best could change unseen)."""
    parsed = parse(query)
    assert parsed is not None
    found = ranked_stories(
        store, terms_of(parsed), parsed.fts(), NOW_TS, ranking.DIGEST_DECAY, window=1000, memo=memo
    )
    out = []
    for r in found:
        if r.match.story_id is None or r.match.lead != r.article_id:
            continue
        other = store.db.conn.execute(
            "SELECT id FROM articles WHERE story_id = ? AND id != ? LIMIT 1",
            (r.match.story_id, r.article_id),
        ).fetchone()
        if other is not None:
            out.append((r.article_id, r.match.story_id, other[0]))
    return out


def changes(target: int, story: int, other: int) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Writes that change what ranking reads of ``target``, the lead and best article of
    ``story`` (which holds ``other`` too)."""
    return [
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
        ("outlets", "UPDATE stories SET outlets = outlets + 7 WHERE id = ?", (story,)),
        ("lead", "UPDATE stories SET lead_id = ? WHERE id = ?", (other, story)),
    ]


@pytest.mark.parametrize("index", range(8))
def test_a_write_to_what_ranking_reads_is_seen_at_once(corpus, index):
    memo = MatchMemo()
    ids = ids_of(corpus)
    lo, hi = ids[0], ids[-1]
    compare(corpus, memo, "azure", lo, hi, 1000)
    leads = leading(corpus, memo, "azure")
    assert leads
    name, sql, params = changes(*leads[0])[index]
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


def test_threads_sharing_a_memo_while_another_writes_rank_as_without_one(corpus):
    """Four threads rank through one memo (as the work threads and the scheduler's do) while
    a fifth rewrites stories and articles; each ranking read while the version stood still
    equals the ranking without a memo at that version. The writer writes once every
    ``PACE`` rankings done (paced by progress, not by time: a writer in a tight loop left
    as few as 16 of 240 rankings at a still version on CI, and no clock decides it here)."""
    import threading

    pace = 4

    memo = MatchMemo()
    picked = queries(corpus)[::5]
    targets = [t for q in picked for t in leading(corpus, MatchMemo(), q)[:3]]
    assert len(targets) > 10
    stop = threading.Event()
    failures: list[str] = []
    compared: list[int] = []  # list.append is atomic; an int's += from threads is not
    ranked = threading.Semaphore(0)  # one release per ranking pair done

    def writer() -> None:
        # what the corpus's statistics do not see (they would drop the memo on their own):
        # a story's outlets, an article's quality
        rng = random.Random(1)
        while not stop.is_set():
            if not all(ranked.acquire(timeout=0.5) for _ in range(pace)):
                continue  # the rankers are done, or slow: look at stop again
            article, story, _ = rng.choice(targets)
            with corpus.transaction():
                corpus._write("UPDATE stories SET outlets = outlets + 1 WHERE id = ?", (story,))
                corpus._write(
                    "UPDATE articles SET quality = coalesce(quality, 0) + 40 WHERE id = ?",
                    (article,),
                )

    def ranker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(60):
                parsed = parse(rng.choice(picked))
                assert parsed is not None
                args = (corpus, terms_of(parsed), parsed.fts(), NOW_TS, ranking.DIGEST_DECAY)
                before = corpus.ranking_version()
                kept = ranked_stories(*args, window=400, memo=memo)
                alone = ranked_stories(*args, window=400)
                ranked.release()
                if corpus.ranking_version() != before:
                    continue  # a write between the two: nothing to compare
                if exact(kept) != exact(alone):
                    failures.append(parsed.fts())
                compared.append(1)
        except Exception as exc:  # a failure in a thread must reach the test
            failures.append(repr(exc))

    write = threading.Thread(target=writer)
    rankers = [threading.Thread(target=ranker, args=(n,)) for n in range(4)]
    write.start()
    for t in rankers:
        t.start()
    for t in rankers:
        t.join()
    stop.set()
    write.join()
    assert failures == []
    assert len(compared) > 60  # enough rankings read a still version to mean something
