"""Read the azure corpus into distinct articles, for drawing judged pairs.

This is the judged set's own small reader, kept apart from newsbot's loader and from any
grouping code on purpose: the set of pairs must not depend on the algorithm it will measure.
It reads every file under ``_news/`` (YAML front matter, see /work/shared/ARTICLE_FORMAT.md),
takes the main article and every ``related`` entry, and keeps one record per normalised
``webUrl`` (lower-case scheme and host, no fragment, no ``utm_*`` parameters).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass
class Article:
    """One distinct article: its address, headline, excerpt, time and outlet."""

    url: str
    title: str
    excerpt: str
    date: dt.datetime
    outlet: str
    domain: str
    files: list[str] = field(default_factory=list)  # files naming it as their main article


def normalise_url(url: str) -> str:
    """The identity of an address: lower-case scheme and host, no fragment, no utm_* params."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, urlencode(query), "")
    )


def clean_text(text: object) -> str:
    """Plain text of a title or excerpt: entities decoded, mark-up dropped, spaces folded."""
    if not isinstance(text, str):
        return ""
    return _SPACE.sub(" ", _TAG.sub(" ", html.unescape(text))).strip()


def _when(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _front_matter(path: Path) -> dict[str, Any] | None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 4)
    data = yaml.load(text[4 : end if end >= 0 else None], Loader=_Loader)
    return data if isinstance(data, dict) else None


def _article(entry: dict[str, Any]) -> Article | None:
    url = entry.get("webUrl") or entry.get("originalUrl")
    when = _when(entry.get("publishedDateTime"))
    title = clean_text(entry.get("title"))
    if not isinstance(url, str) or not url.startswith("http") or when is None or not title:
        return None
    provider = entry.get("provider")
    if not isinstance(provider, dict):
        provider = {}
    return Article(
        url=normalise_url(url),
        title=title,
        excerpt=clean_text(entry.get("excerpt")),
        date=when,
        outlet=str(provider.get("name") or ""),
        domain=str(provider.get("domain") or ""),
    )


def _merge(seen: dict[str, Article], art: Article) -> Article:
    """Keep one record per address; the longest excerpt wins, so the record is stable."""
    old = seen.get(art.url)
    if old is None:
        seen[art.url] = art
        return art
    if len(art.excerpt) > len(old.excerpt):
        old.excerpt = art.excerpt
    return old


def load(root: Path) -> tuple[dict[str, Article], dict[str, str]]:
    """All distinct articles under ``root`` and, per file name, its main article's address."""
    seen: dict[str, Article] = {}
    main_of: dict[str, str] = {}
    for path in sorted(root.glob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        data = _front_matter(path)
        if data is None:
            continue
        main = _article(data)
        if main is not None:
            _merge(seen, main).files.append(path.name)
            main_of[path.name] = main.url
        for entry in data.get("related") or []:
            if isinstance(entry, dict) and (rel := _article(entry)) is not None:
                _merge(seen, rel)
    return seen, main_of
