"""Subscriptions come in the order the conversation subscribed them, not by topic name."""

from __future__ import annotations

import datetime as dt

from storage.store import Store

NOW = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


def add(store: Store, channel: str, topic: str, hour: int = 8, kind: str = "channel") -> bool:
    return store.subscribe(
        "T1", channel, topic, user_id="U1", hour=hour, minute=0, tz="UTC", now=NOW, kind=kind
    )


def topics(rows: list[dict]) -> list[str]:
    return [r["topic"] for r in rows]


def test_a_channels_topics_come_in_the_order_it_subscribed_them(fresh_db: Store) -> None:
    for topic in ("wind", "Solar", "batteries"):
        add(fresh_db, "C1", topic)
    add(fresh_db, "C2", "aardvarks")  # another channel's rows come between, and change nothing
    add(fresh_db, "C1", "zebras")
    expected = ["wind", "Solar", "batteries", "zebras"]
    assert topics(fresh_db.subscriptions("T1", "C1")) == expected
    assert topics(fresh_db.active_subscriptions("T1", "C1")) == expected
    in_c1 = [r for r in fresh_db.all_subscriptions() if r["channel_id"] == "C1"]
    assert topics(in_c1) == expected


def test_subscribing_again_keeps_the_place_and_unsubscribing_gives_it_up(fresh_db: Store) -> None:
    for topic in ("wind", "solar", "batteries"):
        add(fresh_db, "C1", topic)
    assert add(fresh_db, "C1", "WIND", hour=9) is False  # already there: moves the time only
    assert topics(fresh_db.active_subscriptions("T1", "C1")) == ["wind", "solar", "batteries"]
    fresh_db.unsubscribe("T1", "C1", "solar")
    add(fresh_db, "C1", "solar")
    assert topics(fresh_db.active_subscriptions("T1", "C1")) == ["wind", "batteries", "solar"]


def test_the_last_rows_id_taken_again_still_comes_last(fresh_db: Store) -> None:
    # SQLite may give a deleted last row's id to the next insert: it is still the largest.
    for topic in ("wind", "solar"):
        add(fresh_db, "C1", topic)
    fresh_db.unsubscribe("T1", "C1", "solar")
    add(fresh_db, "C1", "apples")
    add(fresh_db, "C1", "bananas")
    assert topics(fresh_db.subscriptions("T1", "C1")) == ["wind", "apples", "bananas"]


def test_a_paused_topic_resumed_keeps_its_place(fresh_db: Store) -> None:
    for topic in ("wind", "solar", "batteries"):
        add(fresh_db, "C1", topic)
    fresh_db.pause_channel("T1", "C1", "channel_not_found", NOW)
    assert fresh_db.active_subscriptions("T1", "C1") == []
    assert topics(fresh_db.subscriptions("T1", "C1")) == ["wind", "solar", "batteries"]
    fresh_db.resume("T1", "C1", "batteries")
    fresh_db.resume("T1", "C1", "wind")
    assert topics(fresh_db.active_subscriptions("T1", "C1")) == ["wind", "batteries"]


def test_a_users_follows_come_in_the_order_followed(fresh_db: Store) -> None:
    for topic in ("rust", "go", "python"):
        add(fresh_db, "U1", topic, kind="dm")
    assert topics(fresh_db.active_subscriptions("T1", "U1")) == ["rust", "go", "python"]
