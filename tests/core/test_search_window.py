"""The window ranked in one statement (issue 15, item 2): ``Store.match_window_except``
hands the matches' marked fields with their ranking fields and story prominence in one JOIN,
where ranking read them in three look-ups before (``match_marked``, ``ranking_rows``,
``story_prominence``). The answers must not change: the ranking of many queries over the
fixture corpora, the digests' id spans included, is compared with the three-look-up path,
kept here as the reference.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from bot.core import ranking
from bot.core.loader import Loader
from bot.core.preferences import is_muted
from bot.core.search import WINDOW, _idfs, parse, ranked_stories, terms_of
from storage.store import Store
from tests.conftest import FIXTURES, FixedClock

NOW_TS = dt.datetime(2021, 9, 1, tzinfo=dt.UTC).timestamp()
S = TypeVar("S", bound=Store)


@dataclass(frozen=True)
class Ranked:
    """A story as the reference ranks it (what ``RankedStory`` shows)."""

    story_id: int
    article_id: int
    score: float
    row: dict[str, Any]


def reference(
    store: Store,
    terms: list[ranking.QueryTerm],
    expression: str,
    now_ts: float,
    decay: ranking.Decay,
    muted: frozenset[str] = frozenset(),
    window: int = WINDOW,
    lo: int | None = None,
    hi: int | None = None,
) -> list[Ranked]:
    """ranked_stories as it was before the one statement (its three look-ups)."""
    rows = store.match_marked(expression, window, lo, hi)
    if not rows:
        return []
    candidates = [ranking.Candidate(*r) for r in rows]
    n, averages = store.corpus_stats()
    relevance = ranking.relevances(
        candidates, terms, _idfs(store, terms, n, len(candidates)), averages
    )
    fields = {r["id"]: r for r in store.ranking_rows([c.article_id for c in candidates])}
    stories = store.story_prominence({r["story_id"] for r in fields.values() if r["story_id"]})
    best: dict[int, Ranked] = {}
    for c in candidates:
        row = fields.get(c.article_id)
        if row is None or is_muted(row["domain"], muted):
            continue
        story_id = row["story_id"] if row["story_id"] is not None else c.article_id
        outlets, main_lead, lead = stories.get(story_id, (1, bool(row["is_main"]), c.article_id))
        s = ranking.final_score(
            ranking.story_relevance(
                relevance[c.article_id], relevance.get(lead), c.article_id == lead
            ),
            decay(row["published_ts"], now_ts),
            ranking.prominence(outlets, main_lead),
            ranking.quality_score(row["quality"]),
        )
        held = best.get(story_id)
        if held is None or s > held.score:
            best[story_id] = Ranked(story_id, c.article_id, s, row)
    return sorted(best.values(), key=lambda r: (-r.score, -r.article_id))


def loaded(store: S) -> S:
    """``store`` with the fixture corpora loaded and the vocabulary folded in."""
    paths = [FIXTURES / d for d in ("seed", "cosmos", "azure-related", "power-apps")]
    report = Loader(store, FixedClock()).load(paths)
    assert report.ok, report.bad
    store.refresh_search_terms()
    return store


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return loaded(Store(tmp_path_factory.mktemp("window") / "news.db"))


def queries(store: Store) -> list[str]:
    """Single words from frequent to rare, pairs, OR, phrases, prefixes, negations."""
    words: list[str] = []
    for (title,) in store.db.conn.execute("SELECT title FROM articles ORDER BY id"):
        words += [w.lower() for w in re.findall(r"[A-Za-z]{4,}", title or "")]
    distinct = list(dict.fromkeys(words))
    picked = distinct[:: max(1, len(distinct) // 80)]
    pairs = [f"{a} {b}" for a, b in zip(picked[::2], picked[1::2], strict=False)]
    return (
        picked
        + pairs
        + [
            "cosmos db",
            '"facial recognition"',
            "azure OR cosmos",
            "cosmos -azure",
            "secur*",
            "how to use azure on the cloud",
            "microsoft",
            "data",
        ]
    )


def as_compared(found: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [(r.story_id, r.article_id, round(r.score, 12), r.row) for r in found]


def test_the_fixture_corpora_give_many_queries_to_compare(corpus):
    assert len(queries(corpus)) > 100
    assert corpus.count_articles() > 100


def test_one_statement_ranks_as_the_three_look_ups(corpus):
    compared = 0
    for query in queries(corpus):
        parsed = parse(query)
        assert parsed is not None
        args = (corpus, terms_of(parsed), parsed.fts(), NOW_TS, ranking.SEARCH_DECAY)
        new, old = ranked_stories(*args), reference(*args)
        assert as_compared(new) == as_compared(old), query
        compared += bool(old)
    assert compared > 80  # most queries find something


def test_one_statement_ranks_as_the_three_look_ups_in_a_span_muted_and_windowed(corpus):
    ids = [r[0] for r in corpus.db.conn.execute("SELECT id FROM articles ORDER BY id")]
    lo, hi = ids[len(ids) // 4], ids[3 * len(ids) // 4]
    domains = [r[0] for r in corpus.db.conn.execute("SELECT DISTINCT domain FROM articles")]
    muted = frozenset(d for d in domains[:5] if d)
    for query in queries(corpus)[:60]:
        parsed = parse(query)
        assert parsed is not None
        args = (corpus, terms_of(parsed), parsed.fts(), NOW_TS, ranking.DIGEST_DECAY)
        for window in (3, 400):
            new = ranked_stories(*args, muted=muted, window=window, lo=lo, hi=hi)
            old = reference(*args, muted=muted, window=window, lo=lo, hi=hi)
            assert as_compared(new) == as_compared(old), (query, window)
