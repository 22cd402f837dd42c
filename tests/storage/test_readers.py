"""A read connection per thread (issue 15, item 3): reads outside a transaction never queue
behind the writer's lock, see every commit, and a transaction still reads its own writes."""

from __future__ import annotations

import threading

from storage.store import Store

TIMEOUT = 10.0  # seconds: only ever reached when a thread is stuck (the failure shown)


def count(store: Store) -> int:
    return int(store._scalar("SELECT count(*) FROM settings_probe"))


def make_probe(store: Store) -> None:
    store._write("CREATE TABLE settings_probe (n INTEGER)")


def test_a_read_does_not_wait_for_another_threads_transaction(fresh_db: Store) -> None:
    make_probe(fresh_db)
    fresh_db._write("INSERT INTO settings_probe VALUES (1)")
    writing, read_done = threading.Event(), threading.Event()
    seen: list[int] = []
    held_until_read: list[bool] = []

    def writer() -> None:
        with fresh_db.transaction():
            fresh_db._write("INSERT INTO settings_probe VALUES (2)")
            writing.set()
            # the reader answers while this transaction holds the writer's lock
            held_until_read.append(read_done.wait(TIMEOUT))

    def reader() -> None:
        writing.wait(TIMEOUT)
        seen.append(count(fresh_db))
        read_done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * TIMEOUT)
    assert held_until_read == [True], "the read queued behind the writer's transaction"
    assert seen == [1]  # the committed state: not the open transaction's row
    assert count(fresh_db) == 2  # committed since, and seen at once


def test_a_transaction_reads_its_own_writes(fresh_db: Store) -> None:
    make_probe(fresh_db)
    with fresh_db.transaction():
        fresh_db._write("INSERT INTO settings_probe VALUES (1)")
        assert count(fresh_db) == 1
        assert fresh_db._rows("SELECT n FROM settings_probe") == [{"n": 1}]
        with fresh_db.transaction():  # a savepoint too
            fresh_db._write("INSERT INTO settings_probe VALUES (2)")
            assert count(fresh_db) == 2


def test_every_read_sees_the_latest_commit(fresh_db: Store) -> None:
    """A scalar read that left its statement open kept its reader on that moment's data."""
    make_probe(fresh_db)
    for n in range(1, 6):
        assert count(fresh_db) == n - 1
        other = threading.Thread(
            target=lambda n=n: fresh_db._write("INSERT INTO settings_probe VALUES (?)", (n,))
        )
        other.start()
        other.join(TIMEOUT)
    assert count(fresh_db) == 5


def test_readers_are_closed_with_the_store_and_with_their_thread(tmp_path) -> None:
    store = Store(tmp_path / "r.db")
    make_probe(store)
    for _ in range(5):  # five threads, each with its reader, each ended
        t = threading.Thread(target=lambda: count(store))
        t.start()
        t.join(TIMEOUT)
    count(store)  # this thread's: the ended threads' are closed on the way
    assert len(store._readers) == 1
    store.close()
    assert store._readers == []


def test_a_database_in_memory_reads_through_its_one_connection() -> None:
    store = Store(":memory:")
    make_probe(store)
    store._write("INSERT INTO settings_probe VALUES (7)")
    assert count(store) == 1
    store.close()
