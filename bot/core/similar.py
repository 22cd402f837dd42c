""""More like this": the stories nearest to one article, by its headline's words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.core.search import SearchResult, search
from bot.core.stories import words
from storage.store import Store

MAX_WORDS = 8


def similar(store: Store, article_id: int, *, limit: int = 5, now: dt.datetime | None = None,
            exclude_domains: Iterable[str] = ()) -> SearchResult:
    article = store.article(article_id)
    if article is None:
        return SearchResult("", [], 0, 0, "That story is no longer available.")
    keys = sorted(words(article["title"], stem=False), key=len, reverse=True)[:MAX_WORDS]
    query = " OR ".join(k for k in keys if k.isalnum())
    found = search(store, query, limit=limit + 1, now=now, exclude_domains=exclude_domains)
    hits = [h for h in found.hits if h.story_id != article["story_id"]][:limit]
    message = None if hits else "Nothing else like it yet."
    return SearchResult(article["title"], hits, len(hits), 0, message)
