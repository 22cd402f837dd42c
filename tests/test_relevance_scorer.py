"""The relevance scorer's arithmetic (bench/relevance/score.py) on tiny hand-made cases, so
its nDCG@5 and P@5 figures can be trusted: every expected value is worked out by hand."""

from __future__ import annotations

import importlib.util
import math
import sqlite3
import sys
from pathlib import Path

import pytest

SCORE_PY = Path(__file__).resolve().parent.parent / "bench" / "relevance" / "score.py"
spec = importlib.util.spec_from_file_location("relevance_score", SCORE_PY)
assert spec is not None and spec.loader is not None
score = importlib.util.module_from_spec(spec)
sys.modules["relevance_score"] = score
spec.loader.exec_module(score)

Result = score.Result


def test_dcg_of_a_known_ranking() -> None:
    # gains 2, 0, 1: 2/log2(2) + 0/log2(3) + 1/log2(4) = 2 + 0 + 0.5
    assert score.dcg([2, 0, 1]) == pytest.approx(2.5)


def test_ndcg_of_a_known_ranking_against_the_judged_ideal() -> None:
    # Judged stories of the query: 2, 2, 1, 0. Ideal: 2 + 2/log2(3) + 1/log2(4).
    ideal = 2 + 2 / math.log2(3) + 0.5
    # Ranking shows 1, 2, 0: 1 + 2/log2(3) + 0. With 2/log2(3) = 1.26186:
    # 2.26186 / 3.76186 = 0.60126.
    got = score.ndcg([1, 2, 0], [2, 1, 0, 2])
    assert got == pytest.approx((1 + 2 / math.log2(3)) / ideal)
    assert got == pytest.approx(0.6013, abs=1e-4)


def test_ndcg_is_one_for_the_ideal_order_and_none_without_anything_relevant() -> None:
    assert score.ndcg([2, 2, 1], [1, 2, 2, 0]) == pytest.approx(1.0)
    assert score.ndcg([0, 0], [0, 0]) is None
    assert score.ndcg([], []) is None


def test_ndcg_counts_only_the_first_five() -> None:
    judged = [2, 2, 2, 2, 2, 2]
    assert score.ndcg([2, 2, 2, 2, 2, 0], judged) == pytest.approx(1.0)
    assert score.ndcg([0, 0, 0, 0, 0, 2], judged) == pytest.approx(0.0)


def test_precision_counts_grades_of_one_and_more_over_five_slots() -> None:
    assert score.precision([2, 1, 0, 0, 2]) == pytest.approx(3 / 5)
    assert score.precision([2]) == pytest.approx(1 / 5)  # empty slots are not relevant
    assert score.precision([]) == 0.0


def test_grader_by_url_then_by_story_else_unjudged() -> None:
    grader = score.Grader({"a": 2, "b": 1, "z": 1}, {"a": 10, "b": 20})
    results = [
        Result("a", 10),
        Result("a2", 10),  # unjudged url of story 10, shown again: a repeat gains 0
        Result("b2", 20),  # unjudged url of story 20: the story's grade
        Result("c", 30),  # unjudged, no judged story: 0, counted
        Result("d", None),  # unknown story: 0, counted
    ]
    gains, unjudged = grader.gains(results)
    assert gains == [2, 0, 1, 0, 0]
    assert unjudged == 2
    # The ideal is one grade per story; "z" is not in the database and counts on its own.
    assert sorted(grader.ideal()) == [1, 1, 2]


def test_has_repeat() -> None:
    assert score.has_repeat([Result("a", 1), Result("b", 2), Result("c", 1)])
    assert not score.has_repeat([Result("a", 1), Result("b", 2), Result("c", None)])
    assert not score.has_repeat([Result(str(i), i % 5) for i in range(6)][:5])


def test_baseline_expression_quotes_and_ands_the_words() -> None:
    assert (
        score.baseline_expression('What is "Azure" Arc?') == '"what" AND "is" AND "azure" AND "arc"'
    )
    assert score.baseline_expression("?!") is None


def test_evaluate_tallies_a_tiny_case() -> None:
    queries = [
        {"id": "q1", "text": "one", "class": "one-word"},
        {"id": "q2", "text": "two", "class": "seed"},
    ]
    judgments = {"one": {"u1": 2, "u2": 1}, "two": {"v1": 1}}
    story_of = {"u1": 1, "u2": 2, "v1": 3}
    runs = {
        "one": [Result("u2", 2), Result("u1", 1)],  # 1 + 2/log2(3) against 2 + 1/log2(3)
        "two": [],
    }
    tallies = score.evaluate(queries, judgments, {"sys": lambda t: runs[t]}, story_of)
    t = tallies["sys"]["all"]
    q1 = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert t.queries == 2 and t.empty == 1 and t.repeats == 0
    assert t.ndcgs == pytest.approx([q1, 0.0])
    assert t.precisions == pytest.approx([2 / 5, 0.0])
    assert tallies["sys"]["seed"].ndcgs == [0.0]


def test_run_baseline_is_one_entry_per_article_in_bm25_order() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, excerpt, provider, topics)")
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT, web_url TEXT, story_id)")
    rows = [
        (1, "azure arc news", "", 7),
        (2, "azure arc azure arc arc", "arc", 7),  # same story, more matches: ranks first
        (3, "azure only", "", 8),  # not every word: not matched
    ]
    for i, title, excerpt, story in rows:
        conn.execute(
            "INSERT INTO articles_fts (rowid, title, excerpt) VALUES (?, ?, ?)", (i, title, excerpt)
        )
        conn.execute("INSERT INTO articles VALUES (?, ?, NULL, ?)", (i, f"u{i}", story))
    got = score.run_baseline(conn, "Azure arc", 5)
    assert got == [Result("u2", 7), Result("u1", 7)]
    assert score.has_repeat(got)
