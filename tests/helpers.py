"""Helpers for the tests: writing article files, and looking at a database whole."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from storage.store import Store


def front(**fields: Any) -> str:
    """An article file's text: ``fields`` as YAML front matter, no body."""
    return "---\n" + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True) + "---\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def article(title: str, url: str, when: str = "2020-01-28T12:00:00Z", **more: Any) -> dict:
    """The fields of one article, as a file (or a ``related`` entry) gives them."""
    return {"title": title, "webUrl": url, "publishedDateTime": when, **more}


def write_article(folder: Path, name: str, title: str, url: str, **more: Any) -> Path:
    return write(folder, name, front(**article(title, url, **more)))


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, FTS shadow tables included, in a stable order; not m015's
    ``ranking_version``, a count of writes rather than content (a regroup that rewrites a
    story as it was counts one)."""
    conn = store.db.conn
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'ranking_version' ORDER BY name"
        )
    ]
    return {
        name: sorted(conn.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr) for name in names
    }


def rows(store: Store, where: str = "1", params: tuple = ()) -> list[dict[str, Any]]:
    return store._rows(f"SELECT * FROM articles WHERE {where} ORDER BY id", params)


def by_url(store: Store, url: str) -> dict[str, Any]:
    (row,) = rows(store, "url = ?", (url,))
    return row


def stories(store: Store) -> list[list[str]]:
    """The stories of more than one article, each as the sorted "domain: title" of its articles."""
    groups: dict[int, list[str]] = defaultdict(list)
    for row in rows(store):
        groups[row["story_id"]].append(f"{row['domain']}: {row['title']}")
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def story_of(store: Store, url: str) -> int:
    return by_url(store, url)["story_id"]


def topics(row: dict[str, Any]) -> list[str]:
    return json.loads(row["topics"] or "[]")
