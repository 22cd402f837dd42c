""" "More like this": the stories nearest to one article, by its headline's words."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from bot.core.search import SearchResult, search
from storage.store import Store

MAX_WORDS = 8

# Words that say nothing of a headline's subject. Its own short list (the full-text index
# stems the words it is given, so they are searched as written, not stemmed here).
STOP_WORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto over under
    about after before as is are was were be been being it its this that these those their his
    her our your my we you they he she i me us them not no new now than then so if up out off
    via vs will would can could may might has have had do does did just more most says say said
    how why what when where who which while amid""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[$€£]?\w+(?:[.,']\w+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """A text's content words, lower-cased, in order, each once."""
    found = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("'", "")
        if word not in STOP_WORDS and (len(word) >= 2 or word.isdigit()):
            found.append(word)
    return list(dict.fromkeys(found))


def similar(
    store: Store,
    article_id: int,
    *,
    limit: int = 5,
    now: dt.datetime | None = None,
    exclude_domains: Iterable[str] = (),
) -> SearchResult:
    article = store.article(article_id)
    if article is None:
        return SearchResult("", [], 0, 0, "That story is no longer available.")
    keys = sorted(words(article["title"]), key=len, reverse=True)[:MAX_WORDS]
    query = " OR ".join(k for k in keys if k.isalnum())
    found = search(store, query, limit=limit + 1, now=now, exclude_domains=exclude_domains)
    hits = [h for h in found.hits if h.story_id != article["story_id"]][:limit]
    message = None if hits else "Nothing else like it yet."
    return SearchResult(article["title"], hits, len(hits), 0, message)
