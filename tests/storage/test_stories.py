"""The SQL of stories and their grouping (storage.stories, m008): the triggers that note what
to group again, the full-text index left alone by story ids, the grouping lease, the
snapshot a regroup reads in, and the end of a regroup."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from storage.store import Store, time_key
from storage.stories import GroupingBusy, LeaseLost, StoryRow

T = 1_580_036_220  # 2020-01-26T10:57:00Z


def add(store: Store, seq: int, title: str, **more: Any) -> int:
    article_id = time_key(T, seq)
    store.insert_article(
        {
            "id": article_id,
            "url": f"https://a.example/{seq}",
            "web_url": f"https://a.example/{seq}",
            "title": title,
            "excerpt": "",
            "provider": "Alpha",
            "domain": "a.example",
            "published_ts": T,
            "quality": 5,
            "story_id": article_id,
            **more,
        }
    )
    return article_id


def pending(store: Store) -> dict[int, tuple]:
    return {
        p.article_id: (p.regroup, p.counted, p.was_title, p.was_ts, p.touch)
        for p in store.pending_grouping()
    }


def grouped(store: Store) -> None:
    """As a regroup leaves it: nothing pending."""
    store._write("DELETE FROM grouping_pending")


# -- the triggers --------------------------------------------------------------------------


def test_a_new_article_is_to_be_grouped_and_counted_by_no_statistics(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    assert pending(fresh_db) == {a: (True, False, None, T, 0)}


def test_a_changed_text_is_noted_as_it_was_counted_and_kept_so(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    grouped(fresh_db)
    fresh_db.update_article(a, {"title": "Contoso launches quantum cloud in Europe"})
    assert pending(fresh_db) == {a: (True, True, "Contoso launches a quantum cloud", T, 0)}
    # a second change keeps what the statistics count, and says it came
    fresh_db.update_article(a, {"title": "Third headline", "published_ts": T + 60})
    assert pending(fresh_db) == {a: (True, True, "Contoso launches a quantum cloud", T, 1)}


def test_a_new_article_changed_before_it_is_grouped_stays_uncounted(fresh_db):
    a = add(fresh_db, 0, "First")
    fresh_db.update_article(a, {"title": "Second"})
    assert pending(fresh_db) == {a: (True, False, None, T, 1)}


def test_what_only_chooses_a_lead_is_noted_apart(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    grouped(fresh_db)
    fresh_db.update_article(a, {"quality": 90})
    assert pending(fresh_db) == {a: (False, True, "Contoso launches a quantum cloud", T, 0)}
    fresh_db.update_article(a, {"excerpt": "Now with an excerpt"})  # then its text: regroup
    assert pending(fresh_db) == {a: (True, True, "Contoso launches a quantum cloud", T, 1)}


def test_a_story_id_or_topics_change_notes_nothing(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    grouped(fresh_db)
    fresh_db.set_story(a, 42)
    fresh_db.update_article(a, {"topics": '["cloud"]', "loaded_at": "now"})
    assert pending(fresh_db) == {}


def test_a_story_id_change_leaves_the_full_text_index_alone(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    conn = fresh_db.db.conn
    before = conn.total_changes
    fresh_db.set_story(a, 42)
    # the row and m015's ranking version (a story id is what ranking reads): no index entry
    assert conn.total_changes - before == 2
    assert [i for i, _ in fresh_db.match_newest('"quantum"', 5)] == [a]
    fresh_db.update_article(a, {"title": "Contoso opens a bakery"})  # the index follows text
    assert fresh_db.match_newest('"quantum"', 5) == []
    assert [i for i, _ in fresh_db.match_newest('"bakery"', 5)] == [a]
    fresh_db._write("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_a_failed_file_leaves_no_note(fresh_db):
    with pytest.raises(RuntimeError), fresh_db.transaction():
        add(fresh_db, 0, "Undone")
        raise RuntimeError
    assert pending(fresh_db) == {}


# -- the lease ---------------------------------------------------------------------------------

ALIVE = "elsewhere|ns|1|tok"  # another machine: presumed alive until its lease ends


def holder(store: Store) -> Any:
    return store.grouping_state()["owner"]


def test_one_process_holds_the_lease_until_it_ends_or_is_known_dead(fresh_db):
    now = time.time()
    fresh_db.claim_grouping(ALIVE, now, 60)
    with pytest.raises(GroupingBusy):
        fresh_db.claim_grouping("me|ns|2|tok", now + 59, 60)
    fresh_db.claim_grouping("me|ns|2|tok", now + 59, 60, gone=lambda owner: owner == ALIVE)
    assert holder(fresh_db) == "me|ns|2|tok"
    fresh_db.claim_grouping(ALIVE, now + 200, 60)  # mine ended by time
    assert holder(fresh_db) == ALIVE


def test_a_process_that_lost_the_lease_writes_nothing(fresh_db):
    a = add(fresh_db, 0, "Contoso launches a quantum cloud")
    fresh_db.claim_grouping(ALIVE, time.time(), 60)
    with pytest.raises(LeaseLost):
        fresh_db.renew_grouping("me|ns|2|tok", time.time(), 60)
    with pytest.raises(LeaseLost):
        fresh_db.write_story_ids("me|ns|2|tok", [(a, 42)])
    assert fresh_db.article(a)["story_id"] == a
    fresh_db.write_story_ids(ALIVE, [(a, 42)])
    assert fresh_db.article(a)["story_id"] == 42


def test_the_lease_is_kept_while_articles_are_pending(fresh_db):
    fresh_db.claim_grouping(ALIVE, time.time(), 60)
    add(fresh_db, 0, "Written by another process meanwhile")
    assert fresh_db.release_grouping(ALIVE) is False
    assert holder(fresh_db) == ALIVE
    grouped(fresh_db)
    assert fresh_db.release_grouping(ALIVE) is True
    assert fresh_db.grouping_state()["owner"] is None
    assert fresh_db.grouping_state()["owner_until"] is None


# -- reading in one snapshot -------------------------------------------------------------------


def test_a_snapshot_does_not_see_what_another_process_writes_meanwhile(tmp_path: Path):
    mine, other = Store(tmp_path / "db"), Store(tmp_path / "db")
    try:
        add(mine, 0, "Before")
        with mine.snapshot():
            assert len(mine.pending_grouping()) == 1
            add(other, 1, "Meanwhile")
            assert len(mine.pending_grouping()) == 1
            assert [r["title"] for r in mine.grouping_rows(None)] == ["Before"]
        assert len(mine.pending_grouping()) == 2
    finally:
        mine.close()
        other.close()


# -- the end of a regroup ----------------------------------------------------------------------


def test_the_end_of_a_regroup_keeps_what_changed_since_it_read(fresh_db):
    a = add(fresh_db, 0, "Read as it was")
    b = add(fresh_db, 1, "Another")
    read = fresh_db.pending_grouping()
    fresh_db.update_article(a, {"title": "Changed meanwhile"})  # touch 0 -> 1
    fresh_db.claim_grouping("me|ns|2|tok", time.time(), 60)
    row = StoryRow(a, b, 2, 1, ("Alpha",), T, T)
    fresh_db.commit_grouping(
        "me|ns|2|tok",
        story_ids=[(b, a)],
        cut=None,
        stories=[row],
        replaced=[],
        n=2,
        words={"contoso": (2, 1, 0), "gone": (0, 0, 0)},
        done=read,
        counted_now={a: ("Read as it was", "", T), b: ("Another", "", T)},
        rule="r1",
    )
    # b is done; a stays, as the statistics now count it, to be grouped again
    assert pending(fresh_db) == {a: (True, True, "Read as it was", T, 1)}
    assert fresh_db.all_story_rows() == [row]
    assert fresh_db.corpus_counts() == (2, [("contoso", 2, 1, 0)])
    state = fresh_db.grouping_state()
    assert (state["rule"], state["articles"]) == ("r1", 2)
    assert fresh_db.story_leads([a, b, 7]) == {a: b}
    assert fresh_db.article(b)["story_id"] == a
