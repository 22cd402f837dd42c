"""Live sources: SQL for the feeds and folders newsbot polls (issue 13). Part of :class:`Store`.

A source is a feed's URL or a folder's path, one row per address however many channels care
about it (addresses are normalised first: :func:`normalise_address`). Its row holds what
polling it needs (validators, the interval, when it is next due, failures in a row, a
permanent redirect seen again and again) and what its health shows (last success, last error
in plain words, when it last brought something new, when whoever added it was told).

``source_items`` says which source brought which article and when it first did (an article
may come from several sources); ``source_files`` is a folder source's files as its last scan
left them (``bot.feeds.folders``). Times are stored as ISO 8601 UTC to the second (so text
order is time order) and handed back as aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from storage.base import Row, StoreBase

KINDS = ("feed", "folder")
STATES = ("active", "paused", "gone")
RECENT_DAYS = 7  # "items in the last 7 days"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadAddress(ValueError):
    """An address that cannot be a source, said in one line ("not an http(s) address: ...")."""


class Validators(Protocol):
    """What a conditional GET sends back (``bot.feeds.fetch.Validators`` has these fields)."""

    @property
    def etag(self) -> str | None: ...

    @property
    def last_modified(self) -> str | None: ...

    @property
    def body_hash(self) -> str | None: ...


@dataclass(frozen=True)
class Source:
    id: int
    kind: str  # 'feed' or 'folder'
    address: str  # normalised (see normalise_address)
    title: str | None
    topics: tuple[str, ...]  # given to every article it brings
    added_by: str  # "team:user", a user id, or "cli"
    added_at: dt.datetime
    state: str  # 'active', 'paused' or 'gone'
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    interval_seconds: int
    next_poll_at: dt.datetime | None  # None: due now
    consecutive_failures: int
    last_success_at: dt.datetime | None
    last_error: str | None  # plain words: "timed out", "not a feed", "gone (410)"
    last_error_at: dt.datetime | None
    failing_since: dt.datetime | None  # the first failure of the current run of failures
    last_new_item_at: dt.datetime | None
    moved_to: str | None  # a permanent redirect's target, seen moved_count times in a row
    moved_count: int
    notified_failing_at: dt.datetime | None
    notified_quiet_at: dt.datetime | None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


@dataclass(frozen=True)
class SourceFile:
    """One file of a folder source as a scan saw it (``path`` relative to the folder)."""

    path: str
    size: int
    mtime_ns: int | None  # None: read it again next scan (see bot.feeds.folders)
    hash: str
    articles: int = 0
    error: str | None = None  # why the loader refused it


# -- addresses -------------------------------------------------------------------------------


def kind_of(address: str) -> str:
    """'feed' for anything written as a URL (``scheme://``), else 'folder'."""
    return "feed" if _SCHEME.match(address.strip()) else "folder"


def normalise_address(kind: str, address: str) -> str:
    """The address a source is known by: for a feed, scheme and host in lower case, no
    fragment, no default port, ``/`` for an empty path; for a folder, the absolute path with
    links resolved. BadAddress when it cannot be a source of that kind."""
    if kind == "feed":
        return _feed_address(address)
    if kind == "folder":
        text = address.strip()
        if not text or "\0" in text:
            raise BadAddress(f"not a folder path: {address!r}")
        return str(Path(text).expanduser().resolve())
    raise BadAddress(f"not a kind of source: {kind!r} (feed or folder)")


def _feed_address(address: str) -> str:
    text = address.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise BadAddress(f"not a valid address: {address!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BadAddress(f"not an http(s) address: {address!r}")
    host = (parts.hostname or "").lower()
    if not host or any(c.isspace() for c in text):
        raise BadAddress(f"not a valid address: {address!r}")
    if parts.username is not None or parts.password is not None:
        # kept in the database and shown in /news sources: no credentials there
        raise BadAddress(f"an address with a user name or password is not supported: {host}")
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# -- times and rows --------------------------------------------------------------------------


def _iso(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _topics(topics: Iterable[str]) -> list[str]:
    """Labels as given, trimmed, blanks and repeats (any case) dropped."""
    seen: dict[str, str] = {}
    for topic in topics:
        label = " ".join(topic.split())
        if label and label.casefold() not in seen:
            seen[label.casefold()] = label
    return list(seen.values())


_TIMES = (
    "next_poll_at",
    "last_success_at",
    "last_error_at",
    "failing_since",
    "last_new_item_at",
    "notified_failing_at",
    "notified_quiet_at",
)


def _source(row: Row) -> Source:
    values: dict[str, Any] = dict(row)
    values["topics"] = tuple(json.loads(row["topics"] or "[]"))
    values["added_at"] = _when(row["added_at"])
    for name in _TIMES:
        values[name] = _when(row[name])
    return Source(**values)


class SourcesMixin(StoreBase):
    """Methods of Store (see storage.store) for ``sources``, ``source_items`` and
    ``source_files``. The ``record_*`` methods return the source as it is now, or None when it
    was removed meanwhile (a poll in flight while someone removes it)."""

    # -- the list ----------------------------------------------------------------------------

    def add_source(
        self,
        kind: str,
        address: str,
        topics: Sequence[str],
        added_by: str,
        now: dt.datetime,
        interval: int,
        *,
        title: str | None = None,
    ) -> tuple[Source, bool]:
        """The source at this address, and whether this call added it (a new one is due at
        once, polled every ``interval`` seconds; ``title`` until the feed gives its own). One
        source per address: adding one that is there already changes nothing. BadAddress when
        it cannot be a source."""
        normal = normalise_address(kind, address)
        if interval < 1:
            raise ValueError(f"interval must be 1 second or more, not {interval}")
        with self.transaction():
            created = (
                self._write(
                    "INSERT OR IGNORE INTO sources (kind, address, title, topics, added_by, "
                    "added_at, interval_seconds, next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        kind,
                        normal,
                        title,
                        json.dumps(_topics(topics), ensure_ascii=False),
                        added_by,
                        _iso(now),
                        int(interval),
                        _iso(now),
                    ),
                ).rowcount
                == 1
            )
            found = self._source_row("address = ?", (normal,))
        assert found is not None
        return found, created

    def sources(self, state: str | None = None) -> list[Source]:
        """Every source (or those in ``state``), first added first."""
        if state is None:
            return [_source(r) for r in self._rows("SELECT * FROM sources ORDER BY id")]
        rows = self._rows("SELECT * FROM sources WHERE state = ? ORDER BY id", (state,))
        return [_source(r) for r in rows]

    def source(self, source_id: int) -> Source | None:
        return self._source_row("id = ?", (source_id,))

    def source_by_address(self, address: str, kind: str | None = None) -> Source | None:
        """The source known by this address once normalised (``kind`` guessed from how it is
        written when not given); None for none, or for an address that cannot be one."""
        try:
            normal = normalise_address(kind or kind_of(address), address)
        except BadAddress:
            return None
        return self._source_row("address = ?", (normal,))

    def remove_source(self, source_id: int) -> bool:
        """Forget a source, which of its articles it brought and its files; the articles
        stay (as they do when a loaded file is deleted)."""
        with self.transaction():
            return self._write("DELETE FROM sources WHERE id = ?", (source_id,)).rowcount == 1

    def set_state(self, source_id: int, state: str) -> bool:
        """'active', 'paused' or 'gone'; whether the source exists."""
        if state not in STATES:
            raise ValueError(f"not a source state: {state!r} ({', '.join(STATES)})")
        cur = self._write("UPDATE sources SET state = ? WHERE id = ?", (state, source_id))
        return cur.rowcount == 1

    def due_sources(self, now: dt.datetime, limit: int) -> list[Source]:
        """Active sources due by ``now``, the longest overdue first (never polled first)."""
        rows = self._rows(
            "SELECT * FROM sources WHERE state = 'active' "
            "AND (next_poll_at IS NULL OR next_poll_at <= ?) "
            "ORDER BY next_poll_at IS NOT NULL, next_poll_at, id LIMIT ?",
            (_iso(now), limit),
        )
        return [_source(r) for r in rows]

    # -- what a poll found -------------------------------------------------------------------

    def record_success(
        self,
        source_id: int,
        validators: Validators,
        next_poll_at: dt.datetime,
        now: dt.datetime,
        new_items: int,
        title: str | None = None,
        *,
        interval_seconds: int | None = None,
    ) -> Source | None:
        """A fetch parsed well: its validators kept for the next conditional GET, the failures
        forgotten (and the "it fails" notice with them, so a later run of failures is told
        again); ``new_items`` > 0 makes it not quiet. ``title``: the feed's, when it has one;
        ``interval_seconds``: a longer interval the server asked for (max-age, ttl)."""
        return self._record(
            source_id,
            "etag = :etag, last_modified = :last_modified, body_hash = :body_hash, "
            "title = coalesce(:title, title), "
            + _SUCCESS
            + (", last_new_item_at = :now, notified_quiet_at = NULL" if new_items > 0 else ""),
            next_poll_at,
            now,
            interval_seconds,
            etag=validators.etag,
            last_modified=validators.last_modified,
            body_hash=validators.body_hash,
            title=title,
        )

    def record_not_modified(
        self,
        source_id: int,
        next_poll_at: dt.datetime,
        now: dt.datetime,
        *,
        interval_seconds: int | None = None,
    ) -> Source | None:
        """A 304, or a body whose hash is the stored one: a success with nothing new."""
        return self._record(source_id, _SUCCESS, next_poll_at, now, interval_seconds)

    def record_failure(
        self, source_id: int, error: str, next_poll_at: dt.datetime, now: dt.datetime
    ) -> Source | None:
        """A failed fetch or parse (``error`` in plain words); the validators stay."""
        return self._record(
            source_id,
            "consecutive_failures = consecutive_failures + 1, last_error = :error, "
            "last_error_at = :now, failing_since = coalesce(failing_since, :now)",
            next_poll_at,
            now,
            None,
            error=error,
        )

    def record_gone(
        self, source_id: int, now: dt.datetime, error: str = "gone (410)"
    ) -> Source | None:
        """The server says the feed is gone for good: kept (its health shows why), never
        polled again unless someone makes it active."""
        with self.transaction():
            self._write(
                "UPDATE sources SET state = 'gone', last_error = ?, last_error_at = ?, "
                "next_poll_at = NULL WHERE id = ?",
                (error, _iso(now), source_id),
            )
            return self.source(source_id)

    def note_moved(self, source_id: int, new_address: str | None, threshold: int) -> bool:
        """A fetch saw a permanent redirect to ``new_address`` (None: it saw none, which ends
        the run). After ``threshold`` fetches in a row saw the same one, it becomes the
        source's address: True then. Not when another source already has that address."""
        with self.transaction():
            found = self.source(source_id)
            if found is None:
                return False
            try:
                target = None if new_address is None else _feed_address(new_address)
            except BadAddress:
                target = None
            if target is None or target == found.address:
                self._write(
                    "UPDATE sources SET moved_to = NULL, moved_count = 0 WHERE id = ?",
                    (source_id,),
                )
                return False
            count = found.moved_count + 1 if found.moved_to == target else 1
            taken = self._scalar("SELECT id FROM sources WHERE address = ?", (target,))
            if count >= threshold and taken is None:
                self._write(
                    "UPDATE sources SET address = ?, moved_to = NULL, moved_count = 0 WHERE id = ?",
                    (target, source_id),
                )
                return True
            self._write(
                "UPDATE sources SET moved_to = ?, moved_count = ? WHERE id = ?",
                (target, count, source_id),
            )
            return False

    def set_notified(
        self, source_id: int, about: Literal["failing", "quiet"], when: dt.datetime | None
    ) -> None:
        """When whoever added the source was told it fails, or went quiet (None: forget it)."""
        column = {"failing": "notified_failing_at", "quiet": "notified_quiet_at"}[about]
        self._write(
            f"UPDATE sources SET {column} = ? WHERE id = ?",
            (None if when is None else _iso(when), source_id),
        )

    # -- which articles came from where --------------------------------------------------------

    def note_source_items(
        self, source_id: int, article_ids: Iterable[int], seen_at: dt.datetime
    ) -> int:
        """These articles came from this source: how many it had not brought before (those
        are first seen at ``seen_at``, and make the source not quiet)."""
        ids = sorted(set(article_ids))
        if not ids:
            return 0
        seen = _iso(seen_at)
        with self.transaction():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO source_items (source_id, article_id, first_seen) "
                "VALUES (?, ?, ?)",
                ((source_id, article_id, seen) for article_id in ids),
            )
            added = self.db.conn.total_changes - before
            if added:
                self._write(
                    "UPDATE sources SET last_new_item_at = max(coalesce(last_new_item_at, ''), ?),"
                    " notified_quiet_at = NULL WHERE id = ?",
                    (seen, source_id),
                )
        return added

    def items_last_7_days(self, source_id: int, now: dt.datetime) -> int:
        """Articles this source brought first in the 7 days up to ``now``."""
        since = _iso(now - dt.timedelta(days=RECENT_DAYS))
        return int(
            self._scalar(
                "SELECT count(*) FROM source_items WHERE source_id = ? AND first_seen > ?",
                (source_id, since),
            )
        )

    def recent_item_counts(self, now: dt.datetime) -> dict[int, int]:
        """``items_last_7_days`` of every source that has any, in one query (for lists)."""
        since = _iso(now - dt.timedelta(days=RECENT_DAYS))
        rows = self._rows(
            "SELECT source_id, count(*) AS n FROM source_items WHERE first_seen > ? "
            "GROUP BY source_id",
            (since,),
        )
        return {int(r["source_id"]): int(r["n"]) for r in rows}

    # -- a folder source's files -----------------------------------------------------------

    def source_files(self, source_id: int) -> dict[str, SourceFile]:
        """The folder source's files as its last scan left them, by relative path."""
        rows = self._rows(
            "SELECT path, size, mtime_ns, hash, articles, error FROM source_files "
            "WHERE source_id = ?",
            (source_id,),
        )
        return {r["path"]: SourceFile(**r) for r in rows}

    def save_source_files(
        self, source_id: int, files: Iterable[SourceFile], now: dt.datetime
    ) -> None:
        """Write (or rewrite) these files' rows, in the caller's transaction if any."""
        with self.transaction():
            self.db.conn.executemany(
                "INSERT INTO source_files (source_id, path, size, mtime_ns, hash, articles, "
                "error, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (source_id, path) DO UPDATE SET size = excluded.size, "
                "mtime_ns = excluded.mtime_ns, hash = excluded.hash, "
                "articles = excluded.articles, error = excluded.error, seen_at = excluded.seen_at",
                (
                    (source_id, f.path, f.size, f.mtime_ns, f.hash, f.articles, f.error, _iso(now))
                    for f in files
                ),
            )

    def forget_source_files(self, source_id: int, paths: Iterable[str]) -> None:
        """Files no longer in the folder (their articles stay)."""
        with self.transaction():
            self.db.conn.executemany(
                "DELETE FROM source_files WHERE source_id = ? AND path = ?",
                ((source_id, path) for path in paths),
            )

    # -- helpers -----------------------------------------------------------------------------

    def _source_row(self, where: str, params: Sequence[Any]) -> Source | None:
        row = self._one(f"SELECT * FROM sources WHERE {where}", params)
        return _source(row) if row else None

    def _record(
        self,
        source_id: int,
        assignments: str,
        next_poll_at: dt.datetime,
        now: dt.datetime,
        interval_seconds: int | None,
        **values: Any,
    ) -> Source | None:
        """One poll's outcome: ``assignments`` (named parameters: ``:now`` and ``values``'
        names) on the source's row, with its next poll time and interval."""
        params = {
            **values,
            "now": _iso(now),
            "next": _iso(next_poll_at),
            "interval": interval_seconds,
            "id": source_id,
        }
        with self.transaction():
            self._write(
                f"UPDATE sources SET {assignments}, next_poll_at = :next, "
                "interval_seconds = coalesce(:interval, interval_seconds) WHERE id = :id",
                params,
            )
            return self.source(source_id)


# A success: failures forgotten, and the "it fails" notice with them.
_SUCCESS = (
    "last_success_at = :now, consecutive_failures = 0, failing_since = NULL, "
    "notified_failing_at = NULL"
)
