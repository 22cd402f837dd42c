"""Folder sources (issue 13, item 4): a folder of article files, scanned on its interval, where
only new or changed files are parsed.

The case served is a git checkout kept fresh by ``git pull`` from cron: files rewritten (a new
mtime, often the same bytes), moved, deleted, added by the thousand. Each scan walks the folder
as ``newsbot load`` does (``bot.core.loader.iter_files``: hidden files and folders skipped) and
compares each file's (size, mtime_ns) with what the last scan stored in ``source_files``:

- the same: nothing more (a stat is the whole cost of an unchanged file);
- otherwise the file is read and hashed: the same hash as stored is a touched file (a
  rewrite with the same bytes: a read, not a parse); a hash the folder already held under
  another path is a moved (or copied) file, not parsed again either;
- only then is the file handed to :class:`bot.core.loader.Loader` with the others, which
  parses, writes in batches and regroups the stories as a load does.

A file written less than ``RACY_NS`` before the scan began is stored without its mtime (as
git does with "racily clean" entries): the file system's clock is coarse, and a second write
within the same tick would keep size and mtime and go unseen. The next scan reads it again
(a read, not a parse, unless it did change).

Deleted files are forgotten; their articles stay, as they do when a loaded file is deleted. The
rows of ``source_files`` are written after the load: a scan cut short loads the same files
again next time, which changes nothing (loading is idempotent).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.articles import MAX_FILE_BYTES, Article
from bot.core.loader import Clock, Loader, LoadReport, display_path, iter_files
from storage.sources import Source, SourceFile
from storage.store import Store

RACY_NS = 2_000_000_000  # files written this close to the scan are read again next time
READ_CHUNK = 1 << 16


@dataclass
class FolderScan:
    """What one scan found (paths relative to the folder)."""

    new: list[str] = field(default_factory=list)  # parsed: a path not seen before
    changed: list[str] = field(default_factory=list)  # parsed: new content at a known path
    moved: list[str] = field(default_factory=list)  # known content at a new path: not parsed
    removed: list[str] = field(default_factory=list)
    touched: int = 0  # size or mtime changed, content the same: read, not parsed
    unchanged: int = 0  # a stat only
    hashed: int = 0  # files read whole to hash them
    parsed: int = 0  # files handed to the loader
    bad: list[tuple[str, str]] = field(default_factory=list)  # (path, why), new or changed only
    new_items: int = 0  # articles this source had not brought before
    error: str | None = None  # the folder itself cannot be scanned (nothing else done)
    report: LoadReport | None = None  # the loader's, when it ran


class FolderLoader(Loader):
    """A :class:`Loader` that notes which articles each file wrote, and gives each file's
    main article the source's topics too.

    Why a subclass: ``Loader.load`` reports totals, and a folder source needs, per file, the
    articles it brought (``source_items``, the file's count in ``source_files``).
    ``write_article`` is where the loader writes one file's article and its related entries."""

    def __init__(self, store: Store, clock: Clock, max_bytes: int = MAX_FILE_BYTES) -> None:
        super().__init__(store, clock, max_bytes)
        self.extra_topics: tuple[str, ...] = ()
        self.articles_by_file: dict[str, set[int]] = {}  # display_path(file) -> article ids

    def write_article(
        self,
        article: Article,
        source: str,
        report: LoadReport,
        seen: set[int],
        *,
        replace_labels: bool = False,
    ) -> int:
        if self.extra_topics:
            topics = list(dict.fromkeys([*article.topics, *self.extra_topics]))
            article = dataclasses.replace(article, topics=topics)
        article_id = super().write_article(
            article, source, report, seen, replace_labels=replace_labels
        )
        ids = self.articles_by_file.setdefault(source, set())
        ids.add(article_id)
        for related in article.related:
            found = self.store.article_id_for_urls([related.url, *related.aliases])
            if found is not None:
                ids.add(found)
        return article_id


LoaderFactory = Callable[[Store, Clock], FolderLoader]


@dataclass
class _Candidate:
    rel: str
    path: Path
    size: int
    mtime_ns: int | None
    digest: str
    old: SourceFile | None


def scan_folder(
    store: Store,
    source: Source,
    clock: Clock,
    loader_factory: LoaderFactory = FolderLoader,
) -> FolderScan:
    """Scan a folder source once: parse what is new or changed, remember every file. Raises
    only what the database raises (the loader's rule); a missing folder is ``error``."""
    scan = FolderScan()
    root = Path(source.address)
    scan.error = _folder_error(root)
    if scan.error:
        return scan
    known = store.source_files(source.id)
    started_ns = time.time_ns()
    seen: set[str] = set()
    candidates: list[_Candidate] = []
    for path in iter_files([root]):
        rel = display_path(path.relative_to(root))
        try:
            info = os.stat(path)
        except FileNotFoundError:
            continue  # gone since the folder was listed
        except OSError as exc:
            scan.bad.append((rel, f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            scan.bad.append((rel, "cannot read folder"))  # iter_files names unreadable ones
            continue
        if not stat.S_ISREG(info.st_mode):
            scan.bad.append((rel, "not a regular file"))
            continue
        seen.add(rel)
        old = known.get(rel)
        if old and old.mtime_ns == info.st_mtime_ns and old.size == info.st_size:
            scan.unchanged += 1
            continue
        try:
            digest = _hash(path)
        except OSError as exc:
            scan.bad.append((rel, f"cannot read: {exc.strerror or exc}"))
            continue
        scan.hashed += 1
        racy = info.st_mtime_ns >= started_ns - RACY_NS
        mtime = None if racy else info.st_mtime_ns
        candidates.append(_Candidate(rel, path, info.st_size, mtime, digest, old))
    scan.removed = sorted(set(known) - seen)
    rows = _sort_candidates(scan, candidates, known)
    to_load = [c for c in candidates if c.rel in rows and rows[c.rel] is None]
    if to_load:
        _load(store, source, clock, loader_factory, scan, to_load, rows)
    _copy_duplicates(candidates, rows)
    with store.transaction():
        store.save_source_files(source.id, [r for r in rows.values() if r is not None], clock())
        store.forget_source_files(source.id, scan.removed)
    return scan


def _folder_error(root: Path) -> str | None:
    try:
        if not root.is_dir():
            return "folder not found" if not root.exists() else "not a folder"
        os.listdir(root)
    except OSError as exc:
        return f"cannot read folder: {exc.strerror or exc}"
    return None


def _hash(path: Path) -> str:
    """The file's content hash, read in chunks (opened non-blocking: a file swapped for a
    FIFO meanwhile cannot hang the scan)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        digest = hashlib.sha256()
        while chunk := f.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sort_candidates(
    scan: FolderScan, candidates: list[_Candidate], known: dict[str, SourceFile]
) -> dict[str, SourceFile | None]:
    """Each read file's row to store, or None for a file to parse (filled in by _load). A
    second file with the content of one parsed in this scan waits for it (_copy_duplicates)."""
    by_hash: dict[str, SourceFile] = {}
    for entry in known.values():
        by_hash.setdefault(entry.hash, entry)
    rows: dict[str, SourceFile | None] = {}
    parsing: set[str] = set()
    for c in candidates:
        if c.old is not None and c.old.hash == c.digest:
            scan.touched += 1
            rows[c.rel] = dataclasses.replace(c.old, size=c.size, mtime_ns=c.mtime_ns)
        elif c.digest in by_hash:
            scan.moved.append(c.rel)
            same = by_hash[c.digest]
            rows[c.rel] = SourceFile(c.rel, c.size, c.mtime_ns, c.digest, same.articles, same.error)
        elif c.digest in parsing:
            scan.moved.append(c.rel)  # a copy of a file parsed in this scan: not parsed twice
        else:
            parsing.add(c.digest)
            (scan.changed if c.old is not None else scan.new).append(c.rel)
            rows[c.rel] = None
    return rows


def _load(
    store: Store,
    source: Source,
    clock: Clock,
    loader_factory: LoaderFactory,
    scan: FolderScan,
    to_load: list[_Candidate],
    rows: dict[str, SourceFile | None],
) -> None:
    loader = loader_factory(store, clock)
    loader.extra_topics = tuple(source.topics)
    report = loader.load([c.path for c in to_load])
    scan.report = report
    scan.parsed = len(to_load)
    bad = dict(report.bad)
    noted: set[int] = set()
    for c in to_load:
        reason = bad.get(str(c.path))
        if reason is not None:
            scan.bad.append((c.rel, reason))
            ids: set[int] = set()  # its savepoint was undone: nothing of it stored
        else:
            ids = loader.articles_by_file.get(display_path(c.path), set())
            noted |= ids
        rows[c.rel] = SourceFile(c.rel, c.size, c.mtime_ns, c.digest, len(ids), reason)
    scan.new_items = store.note_source_items(source.id, noted, clock())


def _copy_duplicates(candidates: list[_Candidate], rows: dict[str, SourceFile | None]) -> None:
    """Files whose content another file of this scan brought: that file's result."""
    parsed = {row.hash: row for row in rows.values() if row is not None}
    for c in candidates:
        if c.rel not in rows and c.digest in parsed:
            same = parsed[c.digest]
            rows[c.rel] = SourceFile(c.rel, c.size, c.mtime_ns, c.digest, same.articles, same.error)
