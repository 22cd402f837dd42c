"""OPML 2.0, the list of feeds every feed reader imports and exports: read and written.

Reading goes through defusedxml: a document with a DOCTYPE (a billion-laughs entity bomb, an
external entity fetching a file) is refused before anything is expanded. Every ``outline``
with an ``xmlUrl`` is a feed, however deep in folders; its topics are its ``category`` values
(comma separated; ``/Boston/Weather`` is ``Boston/Weather``) and the titles of the folders it
is in (how Feedly and others export their folders). Writing makes a flat list whose
``category`` holds the topics, so reading what was written gives the same feeds and topics.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# defusedxml ships no type stubs (one ignore covers the package)
import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

MAX_OPML_BYTES = 10 * 1024 * 1024  # far more than any list of feeds
# Characters XML 1.0 cannot hold at all (C0 controls but tab and newlines, lone surrogates,
# U+FFFE/U+FFFF): dropped from what is written, or the document would not parse.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class OpmlError(ValueError):
    """Why a document is not OPML we can read, in one line."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str  # as written (the store normalises it)
    title: str | None
    topics: tuple[str, ...]


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds an OPML document lists, in document order (OpmlError when it is not one)."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"too large ({len(data):,} bytes, at most {MAX_OPML_BYTES:,})")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise OpmlError("refused: it declares a DTD or entities") from None
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not OPML (the root element is <{_local(root.tag)}>)")
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("not OPML (no <body>)")
    return list(_outlines(body, ()))


def _outlines(parent: ET.Element, folders: tuple[str, ...]) -> Iterator[OpmlFeed]:
    for node in parent:
        if _local(node.tag) != "outline":
            continue
        attrs = {key.lower(): value for key, value in node.attrib.items()}
        title = (attrs.get("title") or attrs.get("text") or "").strip() or None
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            topics = [*folders, *_categories(attrs.get("category", ""))]
            named = title if title != url else None  # a text that only repeats the address
            yield OpmlFeed(url, named, tuple(dict.fromkeys(t for t in topics if t)))
        yield from _outlines(node, (*folders, title) if title and not url else folders)


def _categories(text: str) -> list[str]:
    return [" ".join(part.strip().strip("/").split()) for part in text.split(",")]


def _local(tag: object) -> str:
    """An element's name without its namespace (``{ns}opml`` is ``opml``)."""
    return str(tag).rsplit("}", 1)[-1]


def write_opml(feeds: Iterable[OpmlFeed], now: dt.datetime, title: str = "newsbot sources") -> str:
    """An OPML 2.0 document listing these feeds (a comma in a topic becomes a space: OPML
    separates categories with commas)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = email.utils.format_datetime(now)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        title = _NOT_XML.sub("", feed.title or "")
        attrs = {"type": "rss", "text": title or feed.url}
        if title:
            attrs["title"] = title
        attrs["xmlUrl"] = feed.url
        if feed.topics:
            attrs["category"] = ",".join(_category(t) for t in feed.topics)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _category(topic: str) -> str:
    return " ".join(_NOT_XML.sub("", topic).replace(",", " ").split())
