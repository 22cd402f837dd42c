"""What a story knows of itself: how many independent outlets report it, and its lead article.

- **Independent outlets**: outlets, not articles, and a press release syndicated word for word
  counts once, however many sites carry it (set B: the Viasat release on MarketWatch and PR
  Newswire, the Sepio release on Morningstar and PR Newswire, the Unisys release on Nasdaq
  and MarketWatch, each one voice). Two articles are one *voice* when they come from one
  outlet or when their text is the same: identical normalised headline and excerpt, or
  headline and excerpt alike beyond ``SYNDICATED`` (a wire copy with a dateline added).
- **Lead**: the article to show for the story: a file's main article before a mere
  ``related`` entry (its fields are the upstream pipeline's own), then the best editorial
  quality, then the earliest (the one that broke it), then the key (a stable choice).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grouping.model import Item
from bot.core.grouping.text import Features, features

SYNDICATED = 0.8  # Jaccard similarity of words at which two texts are one release


def _same_text(a: Features, b: Features) -> bool:
    if a.text_key == b.text_key:
        return True
    if a.title_words != b.title_words or not (a.has_excerpt and b.has_excerpt):
        return False
    union = len(a.words | b.words)
    return union > 0 and len(a.words & b.words) / union >= SYNDICATED


def voices(items: Sequence[Item]) -> list[list[Item]]:
    """The story's articles in groups that are one voice (one outlet, or one syndicated text)."""
    feats = [features(i.title, i.excerpt) for i in items]
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i):
            same_outlet = bool(items[i].domain) and items[i].domain == items[j].domain
            if same_outlet or _same_text(feats[i], feats[j]):
                parent[find(i)] = find(j)
    groups: dict[int, list[Item]] = {}
    for i, item in enumerate(items):
        groups.setdefault(find(i), []).append(item)
    return list(groups.values())


def independent_outlets(items: Sequence[Item]) -> int:
    """How many independent outlets report the story (syndicated copies count once)."""
    return len(voices(items))


def lead(items: Sequence[Item]) -> Item:
    """The story's lead article: main before related, then quality, then earliest."""
    if not items:
        raise ValueError("a story has at least one article")
    return min(
        items,
        key=lambda i: (
            not i.is_main,
            -(i.quality if i.quality is not None else -1),
            i.published_ts,
            i.key,
        ),
    )
