"""Corpus statistics kept as articles arrive (bot.core.grouping.stats)."""

from __future__ import annotations

import json

from bot.core.grouping.stats import CorpusStats
from bot.core.grouping.text import features


def _stats(*texts: tuple[str, str]) -> CorpusStats:
    stats = CorpusStats()
    for title, excerpt in texts:
        stats.add(features(title, excerpt))
    return stats


def test_document_frequency_counts_articles_not_mentions() -> None:
    stats = _stats(("Azure Azure", "Azure again"), ("Azure outage", ""), ("Kinvolk", ""))
    assert stats.n == 3
    assert stats.df["azur"] == 2
    assert stats.idf("kinvolk") > stats.idf("azur")
    assert stats.idf("never-seen") > stats.idf("kinvolk")


def test_rare_is_a_share_of_the_corpus_with_a_floor(background: CorpusStats) -> None:
    assert background.is_rare("kinvolk")
    assert not background.is_rare("microsoft")  # in 80 of 214 fixture articles
    assert background.rare_df() == 12  # the floor, for a small corpus


def test_name_likeness_from_mid_sentence_case() -> None:
    stats = _stats(
        ("x", "The company Datadog said so. Then Datadog rose."),
        ("y", "Partners of Datadog and a tablet. A new tablet, and another tablet here."),
    )
    assert stats.is_name("datadog")
    assert not stats.is_name("tablet")
    assert not stats.is_name("unseen")  # no evidence, no name
    assert not stats.is_name("q4")  # numbers have their own veto


def test_serialised_and_restored(background: CorpusStats) -> None:
    data = json.loads(json.dumps(background.to_dict()))
    restored = CorpusStats.from_dict(data)
    assert restored == background
    assert restored.idf("microsoft") == background.idf("microsoft")
    restored.add(features("Something new", ""))
    assert restored != background


def test_cosine_weighs_rare_words() -> None:
    stats = _stats(*[("Microsoft Azure news", "")] * 20, ("Kinvolk", ""))
    common = stats.cosine(frozenset({"microsoft", "x"}), frozenset({"microsoft", "y"}))
    rare = stats.cosine(frozenset({"kinvolk", "x"}), frozenset({"kinvolk", "y"}))
    assert rare > common
    assert stats.cosine(frozenset({"a"}), frozenset({"b"})) == 0.0
