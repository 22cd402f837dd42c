"""Stable story identity: what a conversation was sent stays sent when stories change.

Stories merge when an article arrives that joins two, and split or merge again when grouping
is recomputed; a story's id changes with it. A digest must never show a story any of whose
articles was already delivered to that conversation, whatever the story's id is now.
"""

from __future__ import annotations

import datetime as dt

from bot.core.digest import DigestSettings, compose_digest
from storage.store import Store
from tests.digests.conftest import TEAM, add_article, subscribe

UTC = dt.UTC
DAY1 = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
SETTINGS = DigestSettings(max_age_hours=48)


def deliver(store: Store, channel: str, due: dt.datetime) -> list[str]:
    """Compose the digest due then and record it as posted; the titles it carried."""
    digest = compose_digest(store, TEAM, channel, due, SETTINGS)
    claim = store.claim_digest_run(
        TEAM,
        channel,
        due.date().isoformat(),
        due,
        owner="me",
        now=due,
        lease=dt.timedelta(minutes=5),
    )
    store.finish_digest_run(
        claim["run"]["id"], message_ts="1.0", now=due, entries=digest.plan(), owner="me"
    )
    return [e.article["title"] for e in digest.entries]


def titles(store: Store, channel: str, due: dt.datetime) -> list[str]:
    return [e.article["title"] for e in compose_digest(store, TEAM, channel, due, SETTINGS).entries]


def test_a_story_merged_into_a_delivered_one_is_not_sent_again(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    old = add_article(fresh_db, "Solar farm opens in Spain", DAY1 - dt.timedelta(hours=3))
    assert deliver(fresh_db, "C1", DAY1) == ["Solar farm opens in Spain"]
    # a second outlet's report, first its own story, then joined to the delivered one with
    # the delivered story's id given up (the merge keeps the newer id)
    new = add_article(
        fresh_db,
        "Spain's biggest solar plant starts up",
        DAY2 - dt.timedelta(hours=2),
        provider="El País",
    )
    assert titles(fresh_db, "C1", DAY2) == ["Spain's biggest solar plant starts up"]
    fresh_db.merge_stories(new, [old])
    assert titles(fresh_db, "C1", DAY2) == []


def test_an_article_that_moves_out_of_a_delivered_story_stays_delivered(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    lead = add_article(
        fresh_db, "Solar farm opens in Spain", DAY1 - dt.timedelta(hours=3), quality=200
    )
    other = add_article(
        fresh_db,
        "Solar plant starts up in Spain",
        DAY1 - dt.timedelta(hours=2),
        provider="El País",
        story=lead,
        quality=10,
    )
    assert deliver(fresh_db, "C1", DAY1) == ["Solar farm opens in Spain"]
    # a regroup splits the story: the article that was only named under "also:" is its own
    # story now, and was sent all the same
    fresh_db.set_story(other, other)
    assert titles(fresh_db, "C1", DAY2) == []
    # another conversation never had either
    subscribe(fresh_db, "C2", "solar")
    assert sorted(titles(fresh_db, "C2", DAY2)) == [
        "Solar farm opens in Spain",
        "Solar plant starts up in Spain",
    ]


def test_a_later_article_of_a_delivered_story_does_not_bring_it_back(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    lead = add_article(fresh_db, "Solar farm opens in Spain", DAY1 - dt.timedelta(hours=3))
    assert deliver(fresh_db, "C1", DAY1) == ["Solar farm opens in Spain"]
    add_article(
        fresh_db,
        "Solar farm in Spain: more details",
        DAY2 - dt.timedelta(hours=1),
        provider="AP",
        story=lead,
        quality=500,
    )
    assert titles(fresh_db, "C1", DAY2) == []
