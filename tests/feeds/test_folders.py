"""Folder sources (issue 13, item 4): a git-like folder scanned again and again, where only new
or changed files are parsed, and an unchanged file costs a stat.

Parses are counted twice over: the paths the scan hands to the loader (a FolderLoader
subclass), and the calls of the loader's own parse function (parsing runs in this process:
``NEWSBOT_PARSE_WORKERS=0``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bot.core.loader as loader_module
from bot.feeds.folders import FolderLoader, scan_folder
from storage.sources import Source
from storage.store import Store
from tests.conftest import NOW

OLD_NS = 1_700_000_000 * 10**9  # a file's mtime long before any scan (not "racy")


def text(n: int, title: str | None = None, topics: tuple[str, ...] = ("Rowing",)) -> str:
    labels = "".join(f"\n  - {t}" for t in topics)
    return (
        f'---\ntitle: "{title or f"Regatta report number {n}"}"\n'
        f'originalUrl: "https://news.example/a/{n}"\n'
        "publishedDateTime: 2024-04-30T10:00:00Z\n"
        f"provider:\n  name: Example\n  domain: news.example\ntopics:{labels}\n---\n"
    )


def write(path: Path, body: str, mtime_ns: int = OLD_NS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


class Counting(FolderLoader):
    loaded: list[str] = []

    def load(self, paths, on_file=None, on_grouping=None):
        paths = list(paths)
        Counting.loaded.extend(p.name for p in paths)
        return super().load(paths, on_file, on_grouping)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The names of the files the loader parses, as it parses them."""
    monkeypatch.setenv("NEWSBOT_PARSE_WORKERS", "0")
    Counting.loaded = []
    seen: list[str] = []
    real = loader_module._parse

    def counting(path, max_bytes):
        seen.append(Path(path).name)
        return real(path, max_bytes)

    monkeypatch.setattr(loader_module, "_parse", counting)
    return seen


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    return root


def source(store: Store, folder: Path, topics=()) -> Source:
    found, _ = store.add_source("folder", str(folder), list(topics), "cli", NOW, 1800)
    return found


def scan(store, src, clock):
    Counting.loaded = []
    return scan_folder(store, src, clock, loader_factory=Counting)


def test_a_git_like_folder_over_several_pulls(fresh_db, folder, clock, parses):
    for n in range(5):
        write(folder / "2024" / f"a{n}.md", text(n))
    write(folder / ".git" / "HEAD", "ref: refs/heads/main\n")  # hidden: never looked at
    write(folder / ".hidden.md", text(99))
    src = source(fresh_db, folder)

    first = scan(fresh_db, src, clock)
    assert sorted(first.new) == [f"2024/a{n}.md" for n in range(5)]
    assert (first.parsed, first.hashed, first.unchanged, first.bad) == (5, 5, 0, [])
    assert first.new_items == 5 and fresh_db.count_articles() == 5
    assert sorted(parses) == [f"a{n}.md" for n in range(5)]
    assert fresh_db.items_last_7_days(src.id, NOW) == 5
    files = fresh_db.source_files(src.id)
    assert set(files) == {f"2024/a{n}.md" for n in range(5)}
    assert all(f.articles == 1 and f.mtime_ns == OLD_NS for f in files.values())

    # nothing changed: a stat each, nothing read, nothing parsed
    parses.clear()
    again = scan(fresh_db, src, clock)
    assert (again.unchanged, again.hashed, again.parsed, again.new_items) == (5, 0, 0, 0)
    assert parses == [] and Counting.loaded == []

    # a pull: a0 rewritten with the same bytes (new mtime), a1 edited, a2 moved, a3 deleted,
    # b0 added
    write(folder / "2024" / "a0.md", text(0), OLD_NS + 10**9)
    write(folder / "2024" / "a1.md", text(1, "Regatta report number 1, corrected"), OLD_NS + 10**9)
    (folder / "archive").mkdir()
    (folder / "2024" / "a2.md").rename(folder / "archive" / "a2.md")
    (folder / "2024" / "a3.md").unlink()
    write(folder / "2024" / "b0.md", text(100))
    parses.clear()
    pull = scan(fresh_db, src, clock)
    assert (pull.new, pull.changed, pull.moved) == (
        ["2024/b0.md"],
        ["2024/a1.md"],
        ["archive/a2.md"],
    )
    assert pull.removed == ["2024/a2.md", "2024/a3.md"]
    assert (pull.touched, pull.unchanged, pull.hashed, pull.parsed) == (1, 1, 4, 2)
    assert sorted(parses) == ["a1.md", "b0.md"] and sorted(Counting.loaded) == ["a1.md", "b0.md"]
    assert pull.new_items == 1  # b0; a1 is an article the source brought before
    assert fresh_db.article_by_url("https://news.example/a/1")["title"].endswith("corrected")
    assert fresh_db.count_articles() == 6  # a3's article stays
    files = fresh_db.source_files(src.id)
    assert set(files) == {"2024/a0.md", "2024/a1.md", "archive/a2.md", "2024/a4.md", "2024/b0.md"}
    assert files["archive/a2.md"].articles == 1
    assert files["2024/a0.md"].mtime_ns == OLD_NS + 10**9

    parses.clear()
    quiet = scan(fresh_db, src, clock)
    assert (quiet.unchanged, quiet.hashed, quiet.parsed) == (5, 0, 0) and parses == []


def test_2000_files_added_at_once_and_then_left_alone(fresh_db, folder, clock, parses):
    for n in range(2000):
        write(folder / f"d{n // 100:02d}" / f"f{n:04d}.md", text(n))
    src = source(fresh_db, folder)
    first = scan(fresh_db, src, clock)
    assert (len(first.new), first.parsed, first.bad, first.new_items) == (2000, 2000, [], 2000)
    assert len(parses) == 2000 and fresh_db.count_articles() == 2000
    assert len(fresh_db.source_files(src.id)) == 2000
    parses.clear()
    second = scan(fresh_db, src, clock)
    assert (second.unchanged, second.hashed, second.parsed) == (2000, 0, 0) and parses == []


def test_a_file_written_just_now_is_read_again_next_time_but_not_parsed(
    fresh_db, folder, clock, parses
):
    write(folder / "fresh.md", text(1), mtime_ns=0)
    os.utime(folder / "fresh.md")  # now: within the file system's clock tick of the scan
    src = source(fresh_db, folder)
    first = scan(fresh_db, src, clock)
    assert first.parsed == 1 and fresh_db.source_files(src.id)["fresh.md"].mtime_ns is None
    parses.clear()
    second = scan(fresh_db, src, clock)
    assert (second.hashed, second.touched, second.parsed) == (1, 1, 0) and parses == []


def test_copies_are_parsed_once(fresh_db, folder, clock, parses):
    for name in ("a.md", "b.md", "c.md"):
        write(folder / name, text(7))
    src = source(fresh_db, folder)
    got = scan(fresh_db, src, clock)
    assert (got.new, sorted(got.moved), got.parsed) == (["a.md"], ["b.md", "c.md"], 1)
    assert parses == ["a.md"]
    assert {f.articles for f in fresh_db.source_files(src.id).values()} == {1}


def test_bad_files_are_named_once_and_stay_bad_until_they_change(fresh_db, folder, clock, parses):
    write(folder / "good.md", text(1))
    write(folder / "bad.md", "---\ntitle: [unclosed\n---\n")
    src = source(fresh_db, folder)
    first = scan(fresh_db, src, clock)
    assert [path for path, _ in first.bad] == ["bad.md"] and first.new_items == 1
    assert fresh_db.source_files(src.id)["bad.md"].error
    parses.clear()
    second = scan(fresh_db, src, clock)
    assert second.bad == [] and parses == []
    write(folder / "bad.md", text(2), OLD_NS + 10**9)  # fixed
    third = scan(fresh_db, src, clock)
    assert third.changed == ["bad.md"] and third.bad == [] and third.new_items == 1
    assert fresh_db.source_files(src.id)["bad.md"].error is None


def test_the_sources_topics_are_given_to_its_articles(fresh_db, folder, clock, parses):
    write(folder / "a.md", text(1, topics=("Rowing",)))
    src = source(fresh_db, folder, topics=["Local news"])
    scan(fresh_db, src, clock)
    assert fresh_db.article_by_url("https://news.example/a/1")["topics"] == (
        '["Rowing", "Local news"]'
    )


def test_a_missing_folder_is_an_error_not_an_exception(fresh_db, tmp_path, clock, parses):
    gone = tmp_path / "gone"
    gone.mkdir()
    src = source(fresh_db, gone)
    gone.rmdir()
    got = scan(fresh_db, src, clock)
    assert got.error == "folder not found" and got.parsed == 0
    (tmp_path / "gone").write_text("a file")
    assert scan(fresh_db, src, clock).error == "not a folder"


def test_a_files_related_entries_count_as_its_articles(fresh_db, folder, clock, parses):
    related = (
        'related:\n  - title: "Regatta coverage elsewhere"\n'
        '    originalUrl: "https://other.example/r/1"\n'
        "    publishedDateTime: 2024-04-30T11:00:00Z\n"
        "    provider:\n      name: Other\n      domain: other.example\n"
    )
    write(folder / "a.md", text(1).removesuffix("---\n") + related + "---\n")
    src = source(fresh_db, folder)
    got = scan(fresh_db, src, clock)
    assert got.bad == [] and got.new_items == 2 and fresh_db.count_articles() == 2
    assert fresh_db.source_files(src.id)["a.md"].articles == 2
