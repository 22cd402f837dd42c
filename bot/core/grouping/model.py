"""What grouping is given of an article (:class:`Item`) and what it keeps of it (:class:`Doc`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.grouping.text import Features, features


@dataclass(frozen=True)
class Item:
    """An article as grouping sees it.

    ``key`` is the article's identity (the loader's canonical address, or a row id);
    ``is_main`` says it was a file's main article rather than only a ``related`` entry (a main
    article is better material to lead a story).
    """

    key: str
    title: str
    excerpt: str
    domain: str
    published_ts: int
    quality: int | None = None
    is_main: bool = True


@dataclass(frozen=True)
class Doc:
    """An item with its text's features, worked out once."""

    item: Item
    f: Features

    @classmethod
    def of(cls, item: Item) -> Doc:
        return cls(item, features(item.title, item.excerpt))

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def ts(self) -> int:
        return self.item.published_ts

    @property
    def domain(self) -> str:
        return self.item.domain
