"""The ranking formula's parts (bot.core.ranking), on hand-made numbers and marked fields."""

from __future__ import annotations

import math

import pytest

from bot.core import ranking
from bot.core.ranking import Candidate, Decay, QueryTerm

A, B = ranking.MARK_OPEN, ranking.MARK_CLOSE  # a match opens with A and closes with B
AVERAGES = {"title": 10.0, "excerpt": 30.0, "provider": 2.0, "topics": 3.0}


def cand(
    article_id: int = 1, title: str = "", excerpt: str = "", topics: str = "", provider: str = ""
) -> Candidate:
    return Candidate(article_id, title, excerpt, provider, topics)


def term(*words: str, prefix: bool = False) -> QueryTerm:
    return QueryTerm(tuple(words), prefix)


# -- counting matches --------------------------------------------------------------------------


def test_the_word_as_typed_counts_more_than_another_form_of_its_stem():
    earnings = [term("earnings")]
    assert ranking.occurrences(f"Microsoft {A}earnings{B} beat", earnings) == [1.0]
    assert ranking.occurrences(f"Wipro {A}earned{B} a badge", earnings) == [ranking.STEM_ONLY]
    assert ranking.STEM_ONLY < 1.0


def test_a_phrase_counts_once_per_whole_match():
    phrase = [term("facial", "recognition")]
    text = f"{A}Facial Recognition{B} and {A}facial recognition{B} again"
    assert ranking.occurrences(text, phrase) == [pytest.approx(2.0)]


def test_a_prefix_counts_each_word_it_begins():
    assert ranking.occurrences(f"{A}Kubernetes{B} and {A}kube{B}", [term("kube", prefix=True)]) == [
        2.0
    ]


def test_each_term_gets_its_own_matches():
    terms = [term("azure"), term("sentinel")]
    text = f"{A}Azure{B} {A}Sentinel{B} on {A}Azure{B}"
    assert ranking.occurrences(text, terms) == [2.0, 1.0]


def test_an_unmarked_field_counts_nothing():
    assert ranking.occurrences("Azure Sentinel", [term("azure")]) == [0.0]


# -- BM25F ----------------------------------------------------------------------------------------


def bm25f(c: Candidate, terms: list[QueryTerm], idfs: list[float] | None = None) -> float:
    return ranking.bm25f(c, terms, idfs or [1.0] * len(terms), AVERAGES)


def test_a_headline_match_says_more_than_an_excerpt_match():
    t = [term("cosmos")]
    headline = cand(title=f"{A}Cosmos{B} DB flaw exposed data", excerpt="a long text " * 5)
    excerpt = cand(title="Security flaw exposed data", excerpt=f"in {A}Cosmos{B} DB " * 1)
    assert bm25f(headline, t) > bm25f(excerpt, t)


def test_length_is_normalised_per_field_not_over_the_row():
    """The same headline match scores the same whatever the excerpt's length (FTS5's bm25
    divides by the whole row's length: a long excerpt drowned a headline match)."""
    t = [term("cosmos")]
    short = cand(title=f"{A}Cosmos{B} DB flaw", excerpt="short")
    long = cand(title=f"{A}Cosmos{B} DB flaw", excerpt="word " * 400)
    assert bm25f(short, t) == bm25f(long, t)


def test_a_long_field_dilutes_its_match():
    t = [term("cosmos")]
    short = cand(title=f"{A}Cosmos{B} DB flaw")
    long = cand(title=f"{A}Cosmos{B} DB flaw and " + "many other words " * 10)
    assert bm25f(short, t) > bm25f(long, t)


def test_repeats_saturate():
    t = [term("azure")]
    once, many = cand(excerpt=f"{A}azure{B} x"), cand(excerpt=f"{A}azure{B} " * 20)
    assert bm25f(many, t) < 1.0 * (ranking.K1 + 1)  # bounded by idf * (K1 + 1)
    assert bm25f(many, t) < 3 * bm25f(once, t)


def test_a_rare_word_weighs_more_than_a_common_one():
    assert ranking.idf(5, 10_000) > ranking.idf(5_000, 10_000) > ranking.idf(9_999, 10_000) > 0
    terms = [term("azure"), term("chaosdb")]
    idfs = [ranking.idf(9_000, 10_000), ranking.idf(3, 10_000)]
    rare = cand(title=f"{A}ChaosDB{B} flaw")
    common = cand(title=f"{A}Azure{B} update")
    assert bm25f(rare, terms, idfs) > bm25f(common, terms, idfs)


def test_own_topic_labels_count_as_evidence():
    t = [term("security")]
    labelled = cand(title=f"{A}Security{B} update", topics=f'["{A}Security{B}"]')
    plain = cand(title=f"{A}Security{B} update", topics='["Azure"]')
    assert bm25f(labelled, t) > bm25f(plain, t)


def test_relevance_is_relative_to_the_best_candidate():
    t = [term("cosmos")]
    found = ranking.relevances(
        [cand(1, title=f"{A}Cosmos{B} flaw"), cand(2, excerpt=f"on {A}Cosmos{B} " + "x " * 40)],
        t,
        [1.0],
        AVERAGES,
    )
    assert found[1] == 1.0 and 0 < found[2] < 1.0


# -- freshness, prominence, quality -------------------------------------------------------------

DAY = 86_400


def test_freshness_is_whole_within_the_offset_then_halves_every_half_life():
    decay = Decay(offset_hours=48, half_life_hours=24 * 30)
    now = 1_700_000_000
    assert decay(now - 3600, now) == 1.0
    assert decay(now - 2 * DAY, now) == 1.0
    assert decay(now - 32 * DAY, now) == pytest.approx(0.5)
    assert decay(now - 62 * DAY, now) == pytest.approx(0.25)
    assert decay(now + DAY, now) == 1.0  # a date in the future is not fresher than now
    assert 0 < decay(None, now) < 1.0  # an undated article is not fresh


def test_freshness_scales_relevance_so_an_old_corpus_still_ranks_by_relevance():
    """The ratio between two articles' freshness depends on how far apart they are, not on
    how old both are: moved two weeks (or two years) into the past, the order stays."""
    decay = ranking.SEARCH_DECAY
    now = 1_700_000_000
    for days_back in (14, 60, 730):  # both past the offset
        base = now - days_back * DAY - 3 * DAY
        relevant_older = ranking.final_score(1.0, decay(base - 5 * DAY, now), 1.0, 0.3)
        minor_fresher = ranking.final_score(0.5, decay(base, now), 1.0, 0.3)
        assert relevant_older > minor_fresher
        ratio = decay(base - 5 * DAY, now) / decay(base, now)
        assert ratio == pytest.approx(0.5 ** (5 * 24 / decay.half_life_hours))


def test_between_equally_relevant_stories_the_fresher_wins():
    now = 1_700_000_000
    for decay, fresh_age, old_age in (
        (ranking.SEARCH_DECAY, 10 * DAY, 20 * DAY),
        (ranking.DIGEST_DECAY, 8 * 3600, 30 * 3600),
    ):
        fresh = ranking.final_score(1.0, decay(now - fresh_age, now), 1.0, 0.3)
        old = ranking.final_score(1.0, decay(now - old_age, now), 1.0, 0.3)
        assert fresh > old


def test_the_digest_decay_tells_this_morning_from_yesterday():
    now = 1_700_000_000
    decay = ranking.DIGEST_DECAY
    assert decay(now - 2 * 3600, now) > decay(now - 30 * 3600, now)


def test_prominence_grows_with_outlets_and_a_main_lead_and_is_capped():
    assert ranking.prominence(1, False) == 1.0
    assert ranking.prominence(None, False) == 1.0
    assert ranking.prominence(4, False) > ranking.prominence(2, False) > 1.0
    assert ranking.prominence(ranking.MAX_OUTLETS * 8, False) == ranking.prominence(
        ranking.MAX_OUTLETS, False
    )
    assert ranking.prominence(1, True) == ranking.MAIN_BOOST
    assert ranking.prominence(4, False) == pytest.approx(1 + 2 * ranking.P_OUTLETS)


def test_quality_only_breaks_ties():
    best, worst = ranking.quality_score(10_000), ranking.quality_score(0)
    assert ranking.final_score(1.0, 1.0, 1.0, best) > ranking.final_score(1.0, 1.0, 1.0, worst)
    # The best editorial score cannot lift a match 10% less relevant over the worst one.
    assert ranking.final_score(0.9, 1.0, 1.0, best) < ranking.final_score(1.0, 1.0, 1.0, worst)
    assert ranking.quality_score(None) == ranking.quality_score(-1) == 0.3


def test_scores_are_finite_for_degenerate_input():
    assert ranking.relevances([cand(1, title="no marks")], [term("x")], [1.0], AVERAGES) == {1: 1.0}
    assert math.isfinite(ranking.idf(0, 0)) and ranking.idf(10, 5) >= 0
