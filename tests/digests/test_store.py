"""Digest runs and deliveries in the store: claims, leases, take-overs, one row per date."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from storage.store import Store
from tests.digests.conftest import TEAM, subscribe

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
LEASE = dt.timedelta(minutes=10)


def claim(store: Store, owner: str, now: dt.datetime = DUE, gone=lambda o: False) -> dict:
    return store.claim_digest_run(
        TEAM, "C1", "2024-05-02", DUE, owner=owner, now=now, lease=LEASE, owner_gone=gone
    )


def article(store: Store, article_id: int, story_id: int) -> None:
    """An article with this id, in this story (a delivered story counts by its articles)."""
    url = f"https://reuters.example/{article_id}"
    with store.transaction():
        store.insert_article(
            {
                "id": article_id,
                "url": url,
                "web_url": url,
                "title": f"Story {story_id}",
                "excerpt": "",
                "provider": "Reuters",
                "domain": "reuters.example",
                "published": DUE.isoformat(),
                "published_ts": int(DUE.timestamp()),
                "quality": 100,
                "topics": "[]",
                "story_id": story_id,
            }
        )


def test_claim_busy_take_over_and_finish(fresh_db: Store) -> None:
    first = claim(fresh_db, "a")
    assert first["status"] == "claimed" and first["run"]["state"] == "running"
    assert claim(fresh_db, "b")["status"] == "busy"
    assert claim(fresh_db, "a")["status"] == "busy"  # another thread of the same process
    # The holder is known dead: taken over at once.
    assert claim(fresh_db, "b", gone=lambda o: o == "a")["status"] == "taken_over"
    # Lease expiry also hands it over.
    later = DUE + LEASE + dt.timedelta(seconds=1)
    taken = claim(fresh_db, "c", now=later)
    assert taken["status"] == "taken_over" and taken["run"]["claimed_by"] == "c"
    run_id = taken["run"]["id"]
    for article_id, story_id in ((7, 7), (8, 9)):  # what the plan below delivers
        article(fresh_db, article_id, story_id)
    assert not fresh_db.begin_digest_post(run_id, owner="b", now=later, lease=LEASE, plan=[])
    assert fresh_db.begin_digest_post(
        run_id, owner="c", now=later, lease=LEASE, plan=[(7, 7, "solar"), (9, 8, "wind")]
    )
    assert fresh_db.digest_run_by_id(run_id)["post_attempts"] == 1
    # Found in Slack after a crash: the stored plan becomes the deliveries.
    fresh_db.finish_digest_run(run_id, message_ts="123.4", now=later)
    run = fresh_db.digest_run_by_id(run_id)
    assert (run["state"], run["message_ts"], run["claimed_until"]) == ("done", "123.4", None)
    assert [(d["story_id"], d["article_id"]) for d in fresh_db.deliveries(TEAM, "C1")] == [
        (7, 7),
        (9, 8),
    ]
    assert claim(fresh_db, "d", now=later)["status"] == "finished"
    assert fresh_db.delivered_story_ids(TEAM, "C1", [7, 8, 9]) == {7, 9}


def test_failed_and_skipped_runs_can_be_claimed_again(fresh_db: Store) -> None:
    run = claim(fresh_db, "a")["run"]
    assert fresh_db.begin_digest_post(run["id"], owner="a", now=DUE, lease=LEASE, plan=[])
    assert fresh_db.end_digest_run(run["id"], owner="a", state="failed", now=DUE, error="500")
    again = claim(fresh_db, "b")
    # A post was attempted before: the run reopens as "posting", so the history is checked.
    assert again["status"] == "claimed" and again["run"]["state"] == "posting"
    assert fresh_db.mark_digest_skipped(TEAM, "C2", "2024-05-02", DUE, now=DUE, reason="late")
    assert not fresh_db.mark_digest_skipped(TEAM, "C2", "2024-05-02", DUE, now=DUE, reason="late")
    assert (
        fresh_db.claim_digest_run(TEAM, "C2", "2024-05-02", DUE, owner="a", now=DUE, lease=LEASE)[
            "status"
        ]
        == "claimed"
    )


def test_end_needs_the_lease(fresh_db: Store) -> None:
    run = claim(fresh_db, "a")["run"]
    assert not fresh_db.end_digest_run(run["id"], owner="b", state="empty", now=DUE)
    assert fresh_db.end_digest_run(run["id"], owner="a", state="empty", now=DUE)
    assert claim(fresh_db, "b")["status"] == "finished"


def test_one_row_per_channel_and_date(fresh_db: Store) -> None:
    claim(fresh_db, "a")
    with pytest.raises(sqlite3.IntegrityError), fresh_db.transaction():
        fresh_db._write(
            "INSERT INTO digest_runs (team_id, channel_id, local_date, scheduled_for, state) "
            "VALUES (?, 'C1', '2024-05-02', 'x', 'running')",
            (TEAM,),
        )


def test_pause_channel_for_names_the_subscribers_once(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar", user="U1")
    subscribe(fresh_db, "C1", "wind", user="U2")
    subscribe(fresh_db, "C1", "tides", user="U1")
    assert fresh_db.pause_channel_for(TEAM, "C1", "not_in_channel", DUE) == ["U1", "U2"]
    assert fresh_db.pause_channel_for(TEAM, "C1", "not_in_channel", DUE) == []
    assert fresh_db.active_channels() == []


def test_immediate_commits_for_other_connections(fresh_db: Store) -> None:
    claim(fresh_db, "a")
    other = Store(fresh_db.path)
    assert other.digest_run(TEAM, "C1", "2024-05-02")["claimed_by"] == "a"
    other.close()


def test_a_write_outside_a_transaction_does_not_hold_back_the_digest_runs(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    subscribe(fresh_db, "C1", "wind")
    fresh_db.unsubscribe(TEAM, "C1", "wind")  # as `/news unsubscribe` does, in the bot process
    claim(fresh_db, "a")
    other = Store(fresh_db.path)
    try:
        assert other.digest_run(TEAM, "C1", "2024-05-02") is not None
    finally:
        other.close()
