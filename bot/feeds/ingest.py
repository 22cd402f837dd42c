"""A feed's articles written to the store (issue 13, item 3), through the loader's own path.

The articles :func:`bot.feeds.items.parse_feed` gives go through
:meth:`bot.core.loader.Loader.write_article`, as a file's do: one article per canonical address
(and its aliases), FTS kept by the triggers, transactions of at most ``BATCH_ITEMS`` items and
``BATCH_SECONDS`` of writing with the write lock left free between two, each item in a savepoint
of its own (a value SQLite refuses skips that item only), then the stories regrouped and
``search_terms`` refreshed.

**Identity.** An item is its canonical link (the GUID plays no part: feeds change them), under
either scheme: the other scheme's address is given to the article as an alias, so a feed
that moves to https, or a file naming the http address, finds the same article. Tracking
parameters, case of host and fragments are dropped by ``canonical_url`` already.

**Ownership.** The source that first brought an article owns its fields: the loader's rule for
files (``source_file``), with ``origin`` (``"feed:<address>"``, say) in that column. So a feed
needs no column of its own, and never overwrites an article a file brought (it only fills its
blanks and adds its labels, as a second file would). An item the feed owns, edited (a new
headline, excerpt or categories), replaces its article's: title and excerpt by the loader's
re-issued-file rule (a blank never erases), labels by ``replace_labels``. The article keeps
its id, and its story is regrouped, never made anew (``bot.core.regroup`` groups articles,
whatever order they change in).

**Addresses and dates that do not move.** A stored article keeps the address it shows (the
same item under the other scheme or new tracking parameters would otherwise be an edit at
every fetch). Only a stated publication time replaces a stored one: an item's "updated" time
changes with each edit, a "first seen" time with each fetch, and a clamped future one too, and
any of those would move the article (and count it as updated) at every fetch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.articles import Article
from bot.core.loader import Loader, LoadReport
from bot.core.regroup import RegroupReport, regroup
from bot.feeds.items import DATE_PUBLISHED, scheme_twin
from storage.store import Store

BATCH_ITEMS = 500  # items per transaction at most
BATCH_SECONDS = 0.2  # writing per transaction at most
TURN_SECONDS = 0.01  # the write lock left free between two transactions

Clock = Callable[[], dt.datetime]


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # items the database refused (a value it cannot store)
    grouping: RegroupReport | None = None

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped"
        )


def ingest(
    store: Store,
    articles: Iterable[Article],
    origin: str,
    clock: Clock,
    *,
    regroup_after: bool = True,
) -> IngestReport:
    """Write a feed's ``articles`` (from ``parse_feed``) as the source ``origin``, then regroup
    the stories they touch and refresh ``search_terms``. ``regroup_after=False`` leaves those
    two to the caller (:func:`finish`): a poll round that ingests many feeds does them once."""
    loader = Loader(store, clock)
    report = IngestReport()
    counts = LoadReport()
    seen: set[int] = set()
    pending = list(articles)
    while pending:
        with store.transaction():
            began = time.monotonic()
            done = 0
            while pending and done < BATCH_ITEMS:  # one item at least: an ingest moves on
                _write(store, loader, pending.pop(0), origin, counts, seen, report)
                done += 1
                if time.monotonic() - began >= BATCH_SECONDS:
                    break
        if pending:
            time.sleep(TURN_SECONDS)
    if regroup_after:
        report.grouping = finish(store)
    return report


def finish(store: Store) -> RegroupReport:
    """Regroup the stories that what was written touches, and bring ``search_terms`` up to
    date (corrections' vocabulary: ``storage.vocabulary``). Cheap when nothing is pending."""
    grouping = regroup(store)
    store.refresh_search_terms()
    return grouping


def _write(
    store: Store,
    loader: Loader,
    article: Article,
    origin: str,
    counts: LoadReport,
    seen: set[int],
    report: IngestReport,
) -> None:
    """One item, in a savepoint of its own, counted as new, updated, unchanged or skipped."""
    before = counts.new, counts.updated
    article = _prepared(store, article)
    try:
        with store.transaction():
            loader.write_article(article, origin, counts, seen, replace_labels=True)
    except (sqlite3.IntegrityError, sqlite3.DataError, OverflowError):
        counts.new, counts.updated = before
        report.skipped += 1
        return
    if counts.new > before[0]:
        report.new += 1
    elif counts.updated > before[1]:
        report.updated += 1
    else:
        report.unchanged += 1


def _prepared(store: Store, article: Article) -> Article:
    """A copy of ``article`` with its other-scheme address as an alias; when it is stored
    already, with the stored address to show (one that differs only in scheme or tracking
    parameters would count as an edit at every fetch of a feed that churns them) and without
    an unstated publication time (see the module docstring)."""
    aliases = list(dict.fromkeys([*article.aliases, scheme_twin(article.url)]))
    existing = store.article_id_for_urls([article.url, *aliases])
    if existing is None:
        return dataclasses.replace(article, aliases=aliases)
    stored = store.article(existing) or {}
    stated = article.extra.get("feed_date") == DATE_PUBLISHED
    return dataclasses.replace(
        article,
        aliases=aliases,
        web_url=stored.get("web_url") or article.web_url,
        published_ts=article.published_ts if stated else None,  # a blank: the stored one stays
    )
