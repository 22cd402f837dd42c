"""Pruning old digest history (storage.housekeeping): what is deleted, what is kept, in
batches, idempotent; the WAL checkpointed to zero bytes; the sizes ``newsbot stats`` shows."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from storage.housekeeping import SETTLED_STATES
from storage.store import Store, time_key

UTC = dt.UTC
TEAM = "T1"
TODAY = dt.datetime(2024, 5, 30, 8, 0, tzinfo=UTC)
LEASE = dt.timedelta(minutes=10)
CUTOFF = TODAY - dt.timedelta(days=14)


def day(days_ago: int) -> dt.datetime:
    return TODAY - dt.timedelta(days=days_ago)


def article(store: Store, due: dt.datetime, story: int | None = None) -> int:
    """An article published an hour before ``due`` (its own story unless ``story``)."""
    ts = int(due.timestamp()) - 3600
    seq = 0
    while store._scalar("SELECT 1 FROM articles WHERE id = ?", (time_key(ts, seq),)):
        seq += 1
    article_id = time_key(ts, seq)
    url = f"https://reuters.example/{article_id}"
    with store.transaction():
        store.insert_article(
            {
                "id": article_id,
                "url": url,
                "web_url": url,
                "title": f"Story {article_id}",
                "excerpt": "",
                "provider": "Reuters",
                "domain": "reuters.example",
                "published": dt.datetime.fromtimestamp(ts, UTC).isoformat(),
                "published_ts": ts,
                "quality": 100,
                "topics": "[]",
                "story_id": story if story is not None else article_id,
            }
        )
    return article_id


def claim(store: Store, channel: str, due: dt.datetime, owner: str = "me") -> dict:
    return store.claim_digest_run(
        TEAM, channel, due.date().isoformat(), due, owner=owner, now=due, lease=LEASE
    )["run"]


def digest(store: Store, channel: str, due: dt.datetime, stories: int = 2) -> list[int]:
    """A digest posted at ``due``: ``stories`` new stories of two articles each delivered.
    Returns the stories' ids."""
    run = claim(store, channel, due)
    plan = []
    for _ in range(stories):
        lead = article(store, due)
        article(store, due, story=lead)
        plan.append((lead, lead, "solar"))
    assert store.begin_digest_post(run["id"], owner="me", now=due, lease=LEASE, plan=plan)
    assert store.finish_digest_run(run["id"], message_ts="1.0", now=due, owner="me")
    return [p[0] for p in plan]


def unsettled(store: Store, channel: str, due: dt.datetime, state: str) -> None:
    run = claim(store, channel, due)
    if state in ("posting", "waiting"):
        assert store.begin_digest_post(run["id"], owner="me", now=due, lease=LEASE, plan=[])
    if state == "waiting":
        assert store.release_digest_run(
            run["id"], owner="me", now=due, retry_at=due + LEASE, error="500"
        )
    assert store.digest_run(TEAM, channel, due.date().isoformat())["state"] == state


def ended(store: Store, channel: str, due: dt.datetime, state: str) -> None:
    if state == "skipped":
        assert store.mark_digest_skipped(
            TEAM, channel, due.date().isoformat(), due, now=due, reason="missed"
        )
        return
    run = claim(store, channel, due)
    assert store.end_digest_run(run["id"], owner="me", state=state, now=due)


def counts(store: Store) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        store._scalar(f"SELECT count(*) FROM {t}")
        for t in ("digest_runs", "deliveries", "delivered_articles")
    )


def dates(store: Store, channel: str) -> list[str]:
    return [r["local_date"] for r in store.digest_runs(TEAM, channel)]


def test_old_settled_history_goes_and_what_the_runner_reads_stays(fresh_db: Store) -> None:
    sent = {n: digest(fresh_db, "C1", day(n)) for n in range(30, -1, -1)}  # a month, daily
    for state, n in zip(("running", "posting", "waiting"), (40, 35, 20), strict=True):
        unsettled(fresh_db, f"C-{state}", day(n), state)  # open for weeks: never pruned
    for state in ("empty", "paused", "failed", "skipped"):
        ended(fresh_db, f"C-{state}", day(20), state)
        ended(fresh_db, f"C-{state}", day(1), state)
    digest(fresh_db, "C-quiet", day(60))  # its only digest, long ago

    report = fresh_db.prune_digest_history(CUTOFF)

    # C1: runs due before the cutoff are gone with their deliveries; the rest are whole.
    kept = [day(n).date().isoformat() for n in range(14, -1, -1)]
    assert dates(fresh_db, "C1") == kept
    assert {d["run_id"] for d in fresh_db.deliveries(TEAM, "C1")} == {
        r["id"] for r in fresh_db.digest_runs(TEAM, "C1")
    }
    old = [s for n in range(15, 31) for s in sent[n]]
    recent = [s for n in range(0, 15) for s in sent[n]]
    assert fresh_db.delivered_story_ids(TEAM, "C1", old) == set()
    assert fresh_db.delivered_story_ids(TEAM, "C1", recent) == set(recent)
    # Unsettled runs stay, whatever their age; ended ones of other kinds go when old.
    for state, n in zip(("running", "posting", "waiting"), (40, 35, 20), strict=True):
        assert dates(fresh_db, f"C-{state}") == [day(n).date().isoformat()]
    for state in ("empty", "paused", "failed", "skipped"):
        assert dates(fresh_db, f"C-{state}") == [day(1).date().isoformat()]
    # A conversation's newest done run stays (it was sent a digest once), its deliveries go.
    assert dates(fresh_db, "C-quiet") == [day(60).date().isoformat()]
    assert fresh_db.deliveries(TEAM, "C-quiet") == []
    assert (report.runs, report.deliveries, report.delivered_articles) == (
        16 + 4,
        2 * 17,
        4 * 17,
    )
    assert report.rows == report.runs + report.deliveries + report.delivered_articles


def test_pruning_twice_deletes_nothing_more(fresh_db: Store) -> None:
    for n in range(20, -1, -1):
        digest(fresh_db, "C1", day(n))
    fresh_db.prune_digest_history(CUTOFF)
    after = counts(fresh_db)
    again = fresh_db.prune_digest_history(CUTOFF)
    assert (again.rows, again.batches) == (0, 0)
    assert counts(fresh_db) == after


@pytest.mark.parametrize("batch", [1, 3, 7, 5000])
def test_deletes_in_batches_of_at_most_batch_rows(fresh_db: Store, batch: int) -> None:
    for channel in ("C1", "C2", "C3"):
        for n in range(20, -1, -1):
            digest(fresh_db, channel, day(n), stories=3)
    told: list[int] = []
    report = fresh_db.prune_digest_history(
        CUTOFF, batch=batch, on_batch=lambda rows, seconds: told.append(rows)
    )
    # per channel: 6 old runs, 18 deliveries, 36 delivered articles
    assert (report.runs, report.deliveries, report.delivered_articles) == (18, 54, 108)
    assert told == report.batch_rows and max(told) <= batch
    assert sum(told) == report.rows
    assert report.batches == len(told) >= -(-report.rows // batch)
    assert counts(fresh_db) == (3 * 15, 3 * 3 * 15, 3 * 6 * 15)


def test_each_batch_is_its_own_transaction(fresh_db: Store, tmp_path) -> None:
    """Another connection writes between two batches: the prune never holds the lock for
    the whole backlog."""
    for n in range(30, -1, -1):
        digest(fresh_db, "C1", day(n))
    other = sqlite3.connect(tmp_path / "test.db", timeout=0.001, isolation_level=None)
    wrote = []

    def between(rows: int, seconds: float) -> None:
        other.execute("BEGIN IMMEDIATE")  # raises "database is locked" inside a transaction
        other.execute("UPDATE digest_runs SET updated_at = updated_at WHERE id = -1")
        other.execute("COMMIT")
        wrote.append(rows)

    fresh_db.prune_digest_history(CUTOFF, batch=10, on_batch=between)
    other.close()
    assert len(wrote) > 3


def test_an_unsettled_run_older_than_anything_is_kept(fresh_db: Store) -> None:
    for n, state in enumerate(("running", "posting", "waiting")):
        unsettled(fresh_db, "C1", day(400 + n), state)
    assert fresh_db.prune_digest_history(TODAY).rows == 0
    assert [r["state"] for r in fresh_db.digest_runs(TEAM, "C1")] == [
        "waiting",
        "posting",
        "running",
    ]
    assert set(SETTLED_STATES).isdisjoint({"running", "posting", "waiting"})


def test_the_newest_done_run_of_a_conversation_is_kept_and_older_ones_go(
    fresh_db: Store,
) -> None:
    for n in (90, 60, 30):
        digest(fresh_db, "C1", day(n))
    ended(fresh_db, "C1", day(20), "empty")
    fresh_db.prune_digest_history(TODAY)
    assert [(r["local_date"], r["state"]) for r in fresh_db.digest_runs(TEAM, "C1")] == [
        (day(30).date().isoformat(), "done")
    ]
    assert counts(fresh_db) == (1, 0, 0)


# -- the WAL -----------------------------------------------------------------------------------


def test_the_store_limits_the_wal_it_keeps(fresh_db: Store) -> None:
    assert fresh_db._scalar("PRAGMA journal_size_limit") == 16 * 1024 * 1024


def test_a_checkpoint_truncates_the_wal(fresh_db: Store, tmp_path) -> None:
    for n in range(40, -1, -1):
        digest(fresh_db, "C1", day(n), stories=5)
    fresh_db.prune_digest_history(CUTOFF)
    wal = tmp_path / "test.db-wal"
    assert wal.stat().st_size > 100_000
    done = fresh_db.checkpoint_wal()
    assert done.busy == 0 and done.checkpointed == done.log_frames
    assert wal.stat().st_size == 0
    assert counts(fresh_db) == (15, 5 * 15, 10 * 15)  # the data is in the file


def test_a_checkpoint_with_a_reader_in_the_way_says_busy_at_once(fresh_db: Store, tmp_path) -> None:
    for n in range(10, -1, -1):
        digest(fresh_db, "C1", day(n))
    reader = sqlite3.connect(tmp_path / "test.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM deliveries").fetchone()  # holds a snapshot
    digest(fresh_db, "C2", day(0))  # a frame after the reader's snapshot
    try:
        assert fresh_db.checkpoint_wal().busy == 1
    finally:
        reader.close()
    assert fresh_db.checkpoint_wal().busy == 0


# -- sizes ---------------------------------------------------------------------------------------


def test_sizes_count_every_table_and_the_files(fresh_db: Store, tmp_path) -> None:
    for n in range(3):
        digest(fresh_db, "C1", day(n))
    sizes = fresh_db.sizes()
    rows = {t.name: t.rows for t in sizes.tables}
    assert (rows["digest_runs"], rows["deliveries"], rows["delivered_articles"]) == (3, 6, 12)
    assert rows["articles"] == 12
    assert not any(n.startswith(("articles_fts", "sqlite_")) for n in rows)
    assert fresh_db.table_counts() == rows
    assert sizes.file_bytes == (tmp_path / "test.db").stat().st_size
    assert sizes.wal_bytes == (tmp_path / "test.db-wal").stat().st_size > 0
    assert sizes.fts_bytes and sizes.fts_bytes % sizes.page_size == 0
    assert all(t.bytes and t.bytes >= sizes.page_size for t in sizes.tables)
