"""Loading article files into the store.

Every file loads whole or not at all (a savepoint per file), a bad file is reported and
skipped, and loading the same files again changes nothing. When the files are written, the
stories the new and changed articles touch are grouped again (``bot.core.regroup``: the same
articles make the same stories whatever order, or how many loads, they came in).

A load shares the database with a running bot, whose digest runs must never wait long for
it: files are parsed outside any transaction, written in transactions of at most
``BATCH_FILES`` files and ``BATCH_SECONDS`` of writing, and after each one the loader leaves
the write lock free for ``TURN_SECONDS``, so a waiting writer (it polls every few
milliseconds: see ``storage.store.Store``) takes its turn.

Topic labels are evidence, not matches. An article's own labels (``topics``: the only ones the
full-text index covers, so the only ones that make it match a query or a digest topic) are
those of every file that names it as its main article; an article that no file names so has
the labels its related entries give of their own (rare), all of them. A related entry without
labels keeps its parent's apart, as *inherited* labels (``inherited_topics``): those of the
first parent that had some, only while it has none of its own, never indexed and never added
up across parents (an article listed by 180 files would otherwise gather 14 labels, from AI to
Blockchain). Each rule is a union or a value set once, so a reload changes nothing and the own
labels do not depend on the order of the files. A main article stored before migration m010
(``inherited_topics`` NULL: its labels may hold those its mentions added) takes the labels of
the first file that names it as its main article, then adds the others: loading the same
folders again cleans it.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.articles import MAX_FILE_BYTES, Article, BadFile, parse_file
from bot.core.regroup import Progress, RegroupReport, regroup
from storage.store import Store

BATCH_FILES = 1000  # files per transaction at most (each file in a savepoint of its own)
BATCH_SECONDS = 0.2  # writing per transaction at most
TURN_SECONDS = 0.01  # the write lock left free between two transactions
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class LoadReport:
    files: int = 0
    articles: int = 0  # articles read from good files (main + related)
    new: int = 0
    updated: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    workers: int = 0  # processes that parsed (0: this one)
    grouping: RegroupReport | None = None  # the stories grouped after the files were written

    @property
    def ok(self) -> bool:
        return not self.bad

    def summary(self) -> str:
        return (
            f"{self.articles} articles from {self.files} files, {len(self.bad)} bad "
            f"({self.new} new, {self.updated} updated)"
        )


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named, and files under folders named (recursively), hidden ones skipped. A folder
    that cannot be read is named too (the loader reports why); links to folders inside a
    folder are not followed."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            errors: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=errors.append):
                yield from _unreadable_folders(errors)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
            yield from _unreadable_folders(errors)
        else:
            yield path


def _unreadable_folders(errors: list[OSError]) -> Iterator[Path]:
    while errors:
        error = errors.pop(0)
        if error.filename is not None:
            yield Path(os.fsdecode(error.filename))


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that can be stored and shown: bytes of a name that is not UTF-8 (kept by
    Python as lone surrogates, which SQLite and UTF-8 terminals refuse) become ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _row(article: Article, parent_id: int | None, source: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "is_main": int(parent_id is None),
        "url": article.url,
        "web_url": article.web_url,
        "title": article.title,
        "excerpt": article.excerpt,
        "provider": article.provider,
        "domain": article.domain,
        "published": article.published,
        "published_ts": article.published_ts,
        "category": article.category,
        "type": article.type,
        "quality": article.quality,
        "heat": article.heat,
        "topics": _json(article.topics),
        "inherited_topics": _json([] if article.topics else article.inherited_topics),
        "images": json.dumps(article.images, ensure_ascii=False),
        "featured_content": article.featured_content,
        "extra": json.dumps(article.extra, ensure_ascii=False) if article.extra else None,
        "parent_id": parent_id,
        "source_file": source,
        "loaded_at": now.isoformat(),
    }


def _json(labels: list[str]) -> str:
    return json.dumps(labels, ensure_ascii=False)


def _labels(
    current: dict[str, Any], article: Article, as_main: bool
) -> tuple[list[str], list[str] | None]:
    """A stored article's own and inherited labels once ``article`` mentions it again, as a
    file's main article (``as_main``) or as a related entry (rules: the module docstring).
    Inherited labels None: a main article stored before m010, left for a main file to clean."""
    own: list[str] = json.loads(current["topics"] or "[]")
    was_main = bool(current["is_main"])
    unsorted = was_main and current["inherited_topics"] is None
    inherited: list[str] = json.loads(current["inherited_topics"] or "[]")
    if as_main:
        # The first file naming it as its main article replaces what related entries (or,
        # before m010, every mention) gave it; the others add theirs.
        own = _union(own, article.topics) if was_main and not unsorted else list(article.topics)
    elif unsorted:
        return own, None
    else:
        if not was_main:  # a related entry's own labels count only while no file is about it
            own = _union(own, article.topics)
        inherited = inherited or list(article.inherited_topics)  # set once, never added to
    return own, [] if own else inherited


def _union(first: list[str], more: list[str]) -> list[str]:
    return list(dict.fromkeys(first + more))


@dataclass
class _Applied:
    """What a load has written, to skip a related entry's mention that would change nothing.

    Applying a mention again to the row it left is a no-op (each rule is a union, a blank
    filled, or a value set once), unless it is its source file's own (re-issued: its values
    win) or the article has no parent yet. So a mention (``Article.key``: the same text with
    the same inherited labels) is skipped when the article's row has not changed since it was
    applied (``versions``), neither of those holds, and no other connection has committed
    since (``data_version``). Forgotten when a file's savepoint is undone."""

    mentions: dict[bytes, tuple[int, int, str]] = field(default_factory=dict)  # id, version, src
    versions: dict[int, int] = field(default_factory=dict)  # article id: its row's version
    tick: int = 0
    data_version: int | None = None

    def changed(self, article_id: int) -> None:
        self.tick += 1
        self.versions[article_id] = self.tick

    def forget(self) -> None:
        self.mentions.clear()
        self.versions.clear()


class Loader:
    def __init__(self, store: Store, clock: Clock = utc_now, max_bytes: int = MAX_FILE_BYTES):
        self.store = store
        self.clock = clock
        self.max_bytes = max_bytes
        self._applied: _Applied | None = None  # during a load of files only

    # -- one article -------------------------------------------------------------------------

    def _upsert(
        self,
        article: Article,
        parent_id: int | None,
        source: str,
        report: LoadReport,
        seen: set[int],
        replace_labels: bool = False,
    ) -> int:
        applied = self._applied if parent_id is not None and article.key is not None else None
        if applied is not None:
            known = applied.mentions.get(article.key)  # type: ignore[arg-type]
            if known is not None:
                article_id, version, owner = known
                reissued = owner == source and article_id not in seen
                if applied.versions.get(article_id, 0) == version and not reissued:
                    seen.add(article_id)
                    return article_id
        article_id, owner, has_parent = self._apply(
            article, parent_id, source, report, seen, replace_labels
        )
        if applied is not None and has_parent:
            version = applied.versions.get(article_id, 0)
            applied.mentions[article.key] = (article_id, version, owner)  # type: ignore[index]
        return article_id

    def _apply(
        self,
        article: Article,
        parent_id: int | None,
        source: str,
        report: LoadReport,
        seen: set[int],
        replace_labels: bool,
    ) -> tuple[int, str, bool]:
        """``_upsert`` itself: (the article's id, its source file, whether it has a parent)."""
        now = self.clock()
        existing_id = self.store.article_id_for_urls([article.url, *article.aliases])
        row = _row(article, parent_id, source, now)
        if existing_id is None:
            ts = article.published_ts if article.published_ts is not None else int(now.timestamp())
            new_id = self.store.new_article_id(ts)
            # its own story until the load's regroup (bot.core.regroup) places it
            self.store.insert_article({"id": new_id, **row, "story_id": new_id})
            self.store.add_aliases(new_id, article.aliases)
            report.new += 1
            seen.add(new_id)
            if self._applied is not None:
                self._applied.changed(new_id)
            return new_id, source, parent_id is not None
        current = self.store.article_for_update(existing_id)
        # The file that first brought an article owns its fields (a re-issued file updates them,
        # though a blank never erases what another file filled in); any other mention (another
        # file, or the same file naming it again) only fills blanks; topic labels follow their
        # own rules (_labels). Either way, loading the same files again in any order changes
        # nothing.
        reissued = current["source_file"] == source and existing_id not in seen
        if reissued:
            row = {k: row[k] if row[k] not in (None, "") else current[k] for k in row}
        else:
            row = {k: current[k] if current[k] not in (None, "") else row[k] for k in row}
        seen.add(existing_id)
        own, inherited = _labels(current, article, as_main=parent_id is None)
        if replace_labels and reissued and parent_id is None:
            own, inherited = list(article.topics), []  # its owner's labels as they are now
        row["topics"] = _json(own)
        row["inherited_topics"] = None if inherited is None else _json(inherited)
        row["url"] = current["url"]
        row["parent_id"] = current["parent_id"] or (parent_id if parent_id != existing_id else None)
        row["source_file"] = current["source_file"]
        row["loaded_at"] = current["loaded_at"]
        row["is_main"] = int(bool(current["is_main"]) or parent_id is None)  # main in any file
        if self.store.update_article(existing_id, row):
            report.updated += 1
            if self._applied is not None:
                self._applied.changed(existing_id)
        # known by another address (an AMP copy, say): this one leads to it too
        self.store.add_aliases(
            existing_id, [a for a in (article.url, *article.aliases) if a != row["url"]]
        )
        return existing_id, row["source_file"], row["parent_id"] is not None

    def write_article(
        self,
        article: Article,
        source: str,
        report: LoadReport,
        seen: set[int],
        *,
        replace_labels: bool = False,
    ) -> int:
        """One main article and its related entries, written as a file ``source`` holding them
        would write them, in the caller's transaction; returns its id. ``seen``: the ids this
        source has written so far in this load. ``replace_labels``: when ``source`` first
        brought the article, its labels replace the stored ones instead of adding to them (a
        feed's edited item: ``bot.feeds.ingest``)."""
        parent_id = self._upsert(article, None, source, report, seen, replace_labels)
        for related in article.related:
            self._upsert(related, parent_id, source, report, seen)
        return parent_id

    # -- files -------------------------------------------------------------------------------

    def load_file(self, path: Path, report: LoadReport) -> None:
        self._store_file(path, _parse(path, self.max_bytes), report)

    def _store_file(self, path: Path, parsed: Article | BadFile, report: LoadReport) -> None:
        """One file, in a savepoint of its own. A value SQLite refuses makes the file bad; any
        other exception (a bug, or the database failing) leaves the file undone and reaches
        the caller (``load`` tells the two apart)."""
        report.files += 1
        if isinstance(parsed, BadFile):
            report.bad.append((str(path), str(parsed)))
            return
        article = parsed
        counts = report.new, report.updated
        seen: set[int] = set()
        source = display_path(path)
        try:
            with self.store.transaction():  # a savepoint: the file loads whole or not at all
                self.write_article(article, source, report, seen)
        except (sqlite3.IntegrityError, sqlite3.DataError, OverflowError) as exc:
            report.new, report.updated = counts
            if self._applied is not None:
                self._applied.forget()  # what this file wrote is undone
            report.bad.append((str(path), f"cannot store: {exc}"))
            return
        except BaseException:
            report.new, report.updated = counts
            if self._applied is not None:
                self._applied.forget()
            raise
        report.articles += 1 + len(article.related)

    def _store_or_report(self, path: Path, parsed: Article | BadFile, report: LoadReport) -> None:
        """``_store_file``, where nothing a file holds can stop the load: an unexpected error
        storing it (its savepoint undone) names the file bad. Only the database itself failing
        (disk full, locked for longer than a load waits, corrupt) ends the load."""
        try:
            self._store_file(path, parsed, report)
        except (sqlite3.OperationalError, sqlite3.DatabaseError, MemoryError):
            raise
        except Exception as exc:
            report.bad.append((str(path), f"cannot store: {type(exc).__name__}: {exc}"[:500]))

    def load(
        self,
        paths: Iterable[str | os.PathLike[str]],
        on_file: Callable[[Path], None] | None = None,
        on_grouping: Progress | None = None,
    ) -> LoadReport:
        """Load the files and folders named, then group the stories they touch (``on_file``
        after each file, ``on_grouping`` as the grouping goes)."""
        report = self._write_files(paths, on_file)
        report.grouping = regroup(self.store, progress=on_grouping)
        self.store.refresh_search_terms()  # corrections' vocabulary (storage.vocabulary)
        return report

    def _write_files(
        self, paths: Iterable[str | os.PathLike[str]], on_file: Callable[[Path], None] | None
    ) -> LoadReport:
        self._applied = _Applied()
        try:
            return self._write_batches(paths, on_file)
        finally:
            self._applied = None

    def _write_batches(
        self, paths: Iterable[str | os.PathLike[str]], on_file: Callable[[Path], None] | None
    ) -> LoadReport:
        report = LoadReport()
        files = list(iter_files(paths))
        report.workers = self._workers(len(files))
        parsed = zip(files, self._parsed(files, report.workers), strict=True)
        pending: collections.deque[tuple[Path, Article | BadFile]] = collections.deque()
        while True:
            # Parse (or collect from the workers) outside the transaction...
            began = time.monotonic()
            for item in parsed:
                pending.append(item)
                if len(pending) >= BATCH_FILES or time.monotonic() - began > BATCH_SECONDS:
                    break
            if not pending:
                return report
            # ... then write for a bounded time, and leave the lock free for a moment.
            with self.store.transaction():
                self._check_others()
                began = time.monotonic()
                while pending:  # one file at least: a load always moves on
                    path, article = pending.popleft()
                    self._store_or_report(path, article, report)
                    if on_file:
                        on_file(path)
                    if time.monotonic() - began >= BATCH_SECONDS:
                        break
            time.sleep(TURN_SECONDS)

    def _check_others(self) -> None:
        """Forget what was applied if another connection has committed since (a running bot
        writing a feed's articles between two of the load's transactions)."""
        applied = self._applied
        if applied is None:
            return
        version = self.store.data_version()
        if version != applied.data_version:
            applied.forget()
            applied.data_version = version

    @staticmethod
    def _workers(files: int) -> int:
        """Worker processes for a load of ``files`` files (0: parse inline). Workers are
        forked: cheap, and nothing to re-import. Forking a process that runs other threads
        (a bot serving Slack) is unsafe, so that one parses inline."""
        if files < PARALLEL_MIN_FILES or threading.active_count() > 1:
            return 0
        return parse_workers()

    def _parsed(self, files: list[Path], workers: int) -> Iterator[Article | BadFile]:
        """Each file's article (or why it is bad), in order. A large load parses in worker
        processes while this one writes: YAML parsing is most of a load's work, and SQLite
        writes want one writer."""
        if workers == 0:
            for path in files:
                yield _parse(path, self.max_bytes)
            return
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            yield from pool.map(_parse, files, itertools.repeat(self.max_bytes), chunksize=64)


PARALLEL_MIN_FILES = 500


def parse_workers() -> int:
    """Processes to parse with: one per core but the writer's."""
    env = os.environ.get("NEWSBOT_PARSE_WORKERS")
    if env and env.isdigit():
        return int(env)
    return max(1, min(8, (os.cpu_count() or 1) - 1))


def _parse(path: Path, max_bytes: int) -> Article | BadFile:
    """A file's article (in a worker, off the writer's time), or why it is bad. Never raises: whatever a file holds, the load goes on (an exception here
    would also end a worker's whole share of the load)."""
    try:
        if not os.path.lexists(path):
            return BadFile("no such file or folder")
        if os.path.isdir(path):
            try:
                os.listdir(path)
            except OSError as exc:
                return BadFile(f"cannot read folder: {exc.strerror or exc}")
            return BadFile("not a regular file: a folder")
        return parse_file(path, max_bytes)
    except BadFile as exc:
        return exc
    except RecursionError:
        return BadFile("cannot parse: nested too deep")
    except MemoryError:
        return BadFile("cannot parse: out of memory")
    except Exception as exc:  # a bug: name it, and go on with the other files
        return BadFile(f"cannot parse: {type(exc).__name__}: {exc}"[:500])
