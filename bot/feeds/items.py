"""A feed's bytes made into articles (issue 13, item 3): RSS 0.9x/1.0 (RDF)/2.0 and Atom through
feedparser, JSON Feed 1 and 1.1 through ``json``.

Pure: bytes in, :class:`ParsedFeed` out; no network, no database. :func:`parse_feed` never
raises: whatever a server sends becomes articles or an ``error`` in plain words ("not a feed",
"malformed XML: line 3, column 7: mismatched tag").

Safety. feedparser is only ever handed a byte stream (``io.BytesIO``): given bytes as they are it
would try them as a file name first, and a ``str`` as a URL. It never fetches external entities
(expat's external general entities are off), but it keeps the internal entities a DOCTYPE
declares, and its fallback parser expands them without a bound: a 2 MB body declaring a 1 MB
entity and using it 2,000 times took 65 s and 6 GB (measured). So a document whose DOCTYPE
declares entities is refused before feedparser sees it, checked on the text feedparser would
parse (after its own decoding: an encoding declared as ``unicode_escape`` or ``utf-7`` cannot
hide the declaration). Real feeds do not declare entities; an article *about* XML that quotes
a DOCTYPE with an ``<!ENTITY`` in a CDATA section is refused too, a price worth paying.

What an item becomes (an :class:`~bot.core.articles.Article`, as a file would give it):

- address: the item's link (Atom's alternate link, RSS ``<link>``, else a permalink GUID; JSON
  Feed's ``url``, else ``external_url``), Google Alerts' ``google.com/url?...&url=`` unwrapped;
  an item without a usable http(s) address is skipped (``ParsedFeed.skipped``), and an address
  met twice in one feed is kept once (``ParsedFeed.duplicates``);
- headline and excerpt: text without mark-up or entities; the excerpt is the first
  ``EXCERPT_CHARS`` characters of the summary, else of the content;
- publication time: ``published``, else ``updated``, else the moment the feed was fetched
  (first seen); never after the fetch (a future time becomes the fetch time). Which one it was
  is kept in ``extra["feed_date"]``: ``bot.feeds.ingest`` lets only a stated publication time
  move a stored article (the others would move it at every fetch);
- outlet: the feed's title when the link is on the feed's own site, else the link's host (a
  Google Alerts feed, a planet or any aggregator: the outlet is where the link goes);
- topics: the item's categories (tags), then the source's ``topics``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html.parser
import io
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from bot.core.articles import (
    MAX_TIMESTAMP,
    MAX_URL_CHARS,
    MIN_TIMESTAMP,
    Article,
    canonical_url,
    clean_text,
)

EXCERPT_CHARS = 300
TITLE_CHARS = 500  # a headline longer than this is cut (a real one is under 200)
TITLE_FROM_EXCERPT = 120  # an item without a title is headed by the start of its text
MAX_HTML_CHARS = 100_000  # of an item's HTML read for its excerpt (300 characters are kept)
MAX_TTL_MINUTES = 7 * 24 * 60  # an RSS <ttl> above a week is taken as a week

# extra["feed_date"]: where an article's publication time came from.
DATE_PUBLISHED = "published"
DATE_UPDATED = "updated"
DATE_FIRST_SEEN = "first seen"
DATE_CLAMPED = "future, clamped"  # stated, but after the fetch: the fetch time

JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")


@dataclass
class ParsedFeed:
    """What a feed's body holds. ``error`` set: the body is no feed (nothing else is)."""

    articles: list[Article] = field(default_factory=list)
    title: str | None = None
    ttl_minutes: int | None = None  # RSS <ttl>: how long the feed says it may be cached
    error: str | None = None
    skipped: int = 0  # items without a usable http(s) address (or without any text)
    duplicates: int = 0  # items whose address an earlier item of the feed already had

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Item:
    """One entry, whatever the format, before it becomes an article."""

    link: str
    title: str  # may hold mark-up
    summary: str  # may hold mark-up
    published: int | None
    updated: int | None
    tags: list[str]


def parse_feed(body: bytes, url: str, fetched_at: dt.datetime, topics: Sequence[str]) -> ParsedFeed:
    """The articles of the feed ``body`` fetched from ``url`` at ``fetched_at`` (each given
    ``topics`` besides its own categories). Never raises."""
    try:
        return _parse(body, url, fetched_at, list(topics))
    except RecursionError:
        return ParsedFeed(error="cannot read the feed: nested too deep")
    except MemoryError:
        return ParsedFeed(error="cannot read the feed: too large to parse")
    except Exception as exc:  # feedparser or our own bug: a failed fetch, never a crash
        return ParsedFeed(error=f"cannot read the feed ({type(exc).__name__})")


def _parse(body: bytes, url: str, fetched_at: dt.datetime, topics: list[str]) -> ParsedFeed:
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=dt.UTC)
    now = int(fetched_at.timestamp())
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        return ParsedFeed(error="not a feed (the response is empty)")
    if start[:1] in (b"{", b"["):
        return _json_feed(start, url, now, topics)
    return _xml_feed(body, url, now, topics)


# -- XML: RSS, Atom, RDF ----------------------------------------------------------------------

_DECLARATIONS = [b"<?xml", "<?xml".encode("utf-16-le"), "<?xml".encode("utf-16-be")]
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)


def _xml_feed(body: bytes, url: str, now: int, topics: list[str]) -> ParsedFeed:
    # Decoded as feedparser decodes it (its own function: what is checked is what it parses).
    try:
        data: bytes = convert_to_utf8({}, body, {})
    except (UnicodeError, LookupError):  # an XML declaration naming its encoding in bad bytes
        return ParsedFeed(error="not a feed (its encoding cannot be read)")
    # feedparser adds an XML declaration where there was none: its line numbers count it.
    head = body[:64]
    added = 0 if any(mark in head for mark in _DECLARATIONS) else 1
    if b"<!DOCTYPE" in data and b"<!ENTITY" in data:
        return ParsedFeed(error="refused: the document declares XML entities (<!ENTITY>)")
    headers = {"content-type": "application/xml; charset=utf-8", "content-location": url}
    try:
        result = feedparser.parse(io.BytesIO(data), response_headers=headers)
    except ValueError as exc:  # its fallback parser on what no parser should meet ("&#9999999;")
        return ParsedFeed(error=f"malformed XML: {str(exc)[:100]}")
    entries = result.get("entries") or []
    if not entries:
        error = _failure(result, data, added)
        if error:
            return ParsedFeed(error=error)
    channel = result.get("feed") or {}
    title = _plain(channel.get("title"))[:TITLE_CHARS] or None
    site = _host(channel.get("link") or "") or _host(url)
    items = [_xml_item(entry) for entry in entries]
    parsed = _articles(items, title, site, now, topics)
    parsed.ttl_minutes = _ttl(channel.get("ttl"))
    return parsed


def _failure(result: Any, data: bytes, added_lines: int) -> str | None:
    """Why a parse without entries is no feed, or None (a feed with no items yet)."""
    rest = data[data.find(b"?>") + 2 :].lstrip() if data.startswith(b"<?xml") else data.lstrip()
    if _HTML_START.match(rest):
        return "not a feed (an HTML page)"
    if not rest.startswith(b"<"):
        return "not a feed (not XML, nor JSON)"
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        if exc is not None and type(exc).__name__ == "SAXParseException":
            return f"malformed XML: {_sax_reason(exc, added_lines)}"
        return "not a feed"
    if not result.get("version"):
        return "not a feed"
    return None


def _sax_reason(exc: Any, added_lines: int) -> str:
    try:
        where = f"line {exc.getLineNumber() - added_lines}, column {exc.getColumnNumber()}: "
        reason = str(exc.getMessage())
    except Exception:  # pragma: no cover - a SAXParseException always has them
        where, reason = "", str(exc)
    return (where + reason)[:200]


def _xml_item(entry: Any) -> _Item:
    summary = entry.get("summary") or ""
    if not summary:
        for content in entry.get("content") or []:
            if isinstance(content, dict) and content.get("value"):
                summary = content["value"]
                break
    tags = [t.get("label") or t.get("term") or "" for t in entry.get("tags") or []]
    return _Item(
        link=_xml_link(entry),
        title=str(entry.get("title") or ""),
        summary=str(summary),
        published=_struct_ts(dict.get(entry, "published_parsed")),
        # dict.get: feedparser's own get() answers "updated" with "published" when an entry
        # has no update time (with a DeprecationWarning)
        updated=_struct_ts(dict.get(entry, "updated_parsed")),
        tags=[str(t) for t in tags],
    )


def _xml_link(entry: Any) -> str:
    """The entry's address: its link, an alternate link, else a GUID that is an address."""
    candidates = [entry.get("link")]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if isinstance(link, dict) and link.get("rel", "alternate") == "alternate"
    ]
    if entry.get("guidislink", True):
        candidates.append(entry.get("id"))
    for value in candidates:
        if isinstance(value, str) and _usable(_unwrap(value)):
            return value
    return ""


def _struct_ts(value: Any) -> int | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        ts = calendar.timegm(value)
    except (ValueError, OverflowError):
        return None
    return ts if MIN_TIMESTAMP <= ts <= MAX_TIMESTAMP else None


def _ttl(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return min(minutes, MAX_TTL_MINUTES) if minutes > 0 else None


# -- JSON Feed --------------------------------------------------------------------------------


def _json_feed(body: bytes, url: str, now: int, topics: list[str]) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except ValueError as exc:  # bad JSON, bad UTF-8, a number too long to read
        return ParsedFeed(error=f"not a feed (malformed JSON: {str(exc)[:100]})")
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or version.rstrip("/") not in JSON_FEED_VERSIONS:
        return ParsedFeed(error="not a feed (JSON, but not a JSON Feed)")
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        return ParsedFeed(error="not a feed (a JSON Feed without items)")
    title = _plain(_string(doc.get("title")))[:TITLE_CHARS] or None
    site = _host(_string(doc.get("home_page_url"))) or _host(url)
    items = [_json_item(item) for item in raw_items if isinstance(item, dict)]
    parsed = _articles(items, title, site, now, topics)
    parsed.skipped += sum(1 for item in raw_items if not isinstance(item, dict))
    return parsed


def _json_item(item: dict[str, Any]) -> _Item:
    link = _string(item.get("url"))
    if not _usable(_unwrap(link)):
        link = _string(item.get("external_url"))
    summary = next(
        (
            text
            for key in ("summary", "content_html", "content_text")
            if (text := _string(item.get(key)))
        ),
        "",
    )
    tags = item.get("tags")
    return _Item(
        link=link,
        title=_string(item.get("title")),
        summary=summary,
        published=_iso_ts(item.get("date_published")),
        updated=_iso_ts(item.get("date_modified")),
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _iso_ts(value: Any) -> int | None:
    """Epoch seconds of an RFC 3339 time (JSON Feed's dates); no zone is UTC; else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        ts = int(moment.timestamp())
    except (ValueError, OverflowError):
        return None
    return ts if MIN_TIMESTAMP <= ts <= MAX_TIMESTAMP else None


# -- items to articles ------------------------------------------------------------------------


def _articles(
    items: list[_Item], title: str | None, site: str, now: int, topics: list[str]
) -> ParsedFeed:
    parsed = ParsedFeed(title=title)
    seen: set[str] = set()
    for item in items:
        article = _article(item, title, site, now, topics)
        if article is None:
            parsed.skipped += 1
        elif identity(article.url) in seen:
            parsed.duplicates += 1
        else:
            seen.add(identity(article.url))
            parsed.articles.append(article)
    return parsed


def identity(url: str) -> str:
    """What makes two canonical addresses one item: all but the scheme (a feed that moves to
    https, or lists one item under both, names the same article)."""
    return url.partition("://")[2]


def scheme_twin(url: str) -> str:
    """A canonical http(s) address under the other scheme."""
    scheme, _, rest = url.partition("://")
    return f"{'http' if scheme == 'https' else 'https'}://{rest}"


def _article(
    item: _Item, feed_title: str | None, site: str, now: int, topics: list[str]
) -> Article | None:
    link = _unwrap(item.link.strip())
    if not _usable(link):
        return None
    excerpt = _excerpt(_plain(item.summary))
    title = _plain(item.title)[:TITLE_CHARS] or _excerpt(excerpt, TITLE_FROM_EXCERPT)
    if not title:
        return None
    host = _host(link)
    domain = host.removeprefix("www.")
    same_site = bool(feed_title) and _site(host) == _site(site)
    published_ts, date_from = _when(item, now)
    labels = [label for label in (_plain(t) for t in item.tags) if label]
    return Article(
        url=canonical_url(link),
        web_url=link,
        title=title,
        excerpt=excerpt,
        provider=(feed_title if same_site and feed_title else domain),
        domain=domain,
        published_ts=published_ts,
        topics=list(dict.fromkeys(labels + [t for t in topics if t])),
        extra={"feed_date": date_from},
    )


def _when(item: _Item, now: int) -> tuple[int, str]:
    if item.published is not None:
        stated, source = item.published, DATE_PUBLISHED
    elif item.updated is not None:
        stated, source = item.updated, DATE_UPDATED
    else:
        return now, DATE_FIRST_SEEN
    if stated > now:
        return now, DATE_CLAMPED
    return stated, source


# -- addresses --------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def _usable(link: str) -> bool:
    """An absolute http(s) address with a host, of a sane length, without spaces or controls."""
    if not link or len(link) > MAX_URL_CHARS or _CONTROL.search(link):
        return False
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _unwrap(link: str) -> str:
    """The address behind a Google redirect (``https://www.google.com/url?...&url=<real>``,
    what Google Alerts' feeds link to), else ``link`` itself."""
    for _ in range(3):  # a redirect to a redirect, at most
        try:
            parts = urlsplit(link.strip())
        except ValueError:
            return link
        host = (parts.hostname or "").removeprefix("www.")
        if not (host.startswith("google.") and parts.path == "/url"):
            return link
        query = dict(parse_qsl(parts.query))
        target = query.get("url") or query.get("q") or ""
        if not _usable(target):
            return link
        link = target
    return link


def _host(link: str) -> str:
    try:
        return (urlsplit(link.strip()).hostname or "").lower()
    except ValueError:
        return ""


# Second-level labels under which a country's sites register (bbc.co.uk, abc.net.au).
_SECOND_LEVEL = {"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go"}


def _site(host: str) -> str:
    """A host's site, roughly its registrable domain: feeds.bbci.co.uk -> bbci.co.uk. (No public
    suffix list: this only decides whether a link is on the feed's own site, where a wrong
    answer names the outlet by its host instead of the feed's title.)"""
    labels = host.removeprefix("www.").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


# -- text -------------------------------------------------------------------------------------


class _TextOnly(html.parser.HTMLParser):
    """The text of an HTML fragment: what a browser would show, scripts and styles left out.

    The standard library's parser rather than ``clean_text``'s pattern alone: feeds carry whole
    HTML documents in their items, where that pattern (bounded, for speed) leaves a tag with a
    long attribute in the text.
    """

    _SKIP = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        else:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _plain(value: Any) -> str:
    """Text without mark-up, entities or control characters, spaces collapsed."""
    if not isinstance(value, str) or not value:
        return ""
    text = value[:MAX_HTML_CHARS]
    if "<" in text:
        parser = _TextOnly()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except Exception:  # pragma: no cover - the parser copes with any text; if not, the
            pass  # pattern of clean_text alone
    # clean_text: a second unescaping ("&amp;amp;" in a feed that escapes twice), control
    # characters, spaces; and the same rules as files for what is left.
    return clean_text(text)


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a space where one is near."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"
