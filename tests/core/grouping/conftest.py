"""Fixtures of the grouping tests: articles written by hand (from real headlines), and corpus
statistics learned from the real fixture corpora (Power Apps and the seed file), so that
"Microsoft" is common and a company's name is rare, as in real news."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.articles import Article, parse_file
from bot.core.grouping.model import Doc, Item
from bot.core.grouping.stats import CorpusStats
from bot.core.grouping.text import features
from tests.conftest import POWER_APPS, SEED

HOUR = 3600
DAY = 24 * HOUR
T0 = int(dt.datetime(2020, 5, 4, 9, 0, tzinfo=dt.UTC).timestamp())


def item(
    title: str,
    excerpt: str = "",
    domain: str = "example.com",
    at: int = T0,
    key: str | None = None,
    quality: int | None = None,
    is_main: bool = True,
) -> Item:
    return Item(key or f"{domain}/{title}", title, excerpt, domain, at, quality, is_main)


def doc(title: str, excerpt: str = "", domain: str = "example.com", at: int = T0) -> Doc:
    return Doc.of(item(title, excerpt, domain, at))


def fixture_articles(*folders: Path) -> Iterator[Article]:
    """Every article (main and related) of the fixture files, once per address."""
    seen: set[str] = set()
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            main = parse_file(path)
            for article in [main, *main.related]:
                if article.url not in seen:
                    seen.add(article.url)
                    yield article


def as_item(article: Article, is_main: bool = True) -> Item:
    assert article.published_ts is not None
    return Item(
        article.url,
        article.title,
        article.excerpt,
        article.domain,
        article.published_ts,
        article.quality,
        is_main,
    )


@pytest.fixture(scope="session")
def background() -> CorpusStats:
    stats = CorpusStats()
    for article in fixture_articles(POWER_APPS, SEED):
        stats.add(features(article.title, article.excerpt))
    return stats


@pytest.fixture
def stats(background: CorpusStats) -> CorpusStats:
    """A copy of the background statistics, free to grow."""
    return CorpusStats.from_dict(background.to_dict())


def learn(stats: CorpusStats, *docs: Doc) -> None:
    for d in docs:
        stats.add(d.f)
