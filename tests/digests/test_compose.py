"""Composing a digest: the window, never twice, one entry per story, best first, limits."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core import digest as digest_mod
from bot.core.digest import Composer, DigestSettings, compose_digest, preview_digest
from storage.store import Store
from tests.digests.conftest import TEAM, add_article, make_runner, subscribe

UTC = dt.UTC
DUE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=UTC)


def hours_before(h: float) -> dt.datetime:
    return DUE - dt.timedelta(hours=h)


def titles(d) -> dict[str, list[str]]:
    return {s.topic: [e.article["title"] for e in s.entries] for s in d.sections}


def test_window_is_the_max_age_before_the_digest_time(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar old news", hours_before(37))
    add_article(fresh_db, "Solar yesterday", hours_before(30))
    add_article(fresh_db, "Solar this morning", hours_before(1))
    add_article(fresh_db, "Solar at the stroke", DUE)
    add_article(fresh_db, "Solar after the digest", DUE + dt.timedelta(minutes=1))
    d = compose_digest(fresh_db, TEAM, "C1", DUE, DigestSettings(max_age_hours=36))
    assert sorted(titles(d)["solar"]) == [
        "Solar at the stroke",
        "Solar this morning",
        "Solar yesterday",
    ]
    assert d.local_date == dt.date(2024, 5, 2)


def test_one_entry_per_story_with_its_other_outlets(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "merger")
    lead = add_article(
        fresh_db, "Big merger agreed", hours_before(3), provider="Reuters", quality=200
    )
    add_article(
        fresh_db,
        "Big merger agreed, say sources",
        hours_before(2),
        provider="Forbes",
        story=lead,
        quality=10,
    )
    add_article(
        fresh_db,
        "Big merger agreed (update)",
        hours_before(2),
        provider="Reuters",
        story=lead,
        quality=5,
    )
    add_article(fresh_db, "Merger talks elsewhere", hours_before(4), provider="AP")
    d = compose_digest(fresh_db, TEAM, "C1", DUE)
    (section,) = d.sections
    assert [e.article["title"] for e in section.entries] == [
        "Big merger agreed",
        "Merger talks elsewhere",
    ]
    assert section.entries[0].outlets == ["Forbes"]  # Reuters is the lead's own outlet


def test_best_first_and_at_most_items_per_topic(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "rocket")
    for n in range(8):
        add_article(fresh_db, f"Rocket launch number {n}", hours_before(20 - n * 2), quality=50)
    d = compose_digest(fresh_db, TEAM, "C1", DUE, DigestSettings(items_per_topic=3))
    # Equally relevant: the freshest lead.
    assert titles(d)["rocket"] == [
        "Rocket launch number 7",
        "Rocket launch number 6",
        "Rocket launch number 5",
    ]


def test_never_a_story_twice_in_a_post_or_across_posts(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "battery")
    subscribe(fresh_db, "C1", "cars")
    add_article(fresh_db, "Battery breakthrough for electric cars", hours_before(2))
    add_article(fresh_db, "Cars sales up", hours_before(3))
    add_article(fresh_db, "Battery plant opens", hours_before(4))
    first = compose_digest(fresh_db, TEAM, "C1", DUE)
    got = titles(first)
    assert sorted(got["battery"]) == [
        "Battery breakthrough for electric cars",
        "Battery plant opens",
    ]
    assert got["cars"] == ["Cars sales up"]  # the breakthrough is already under "battery"
    run = fresh_db.claim_digest_run(
        TEAM, "C1", "2024-05-02", DUE, owner="me", now=DUE, lease=dt.timedelta(minutes=5)
    )["run"]
    fresh_db.finish_digest_run(run["id"], message_ts="1.0", now=DUE, entries=first.plan())
    # A day later the same stories are still in the 36-hour window, but were delivered.
    add_article(fresh_db, "Cars get cheaper", DUE + dt.timedelta(hours=5))
    second = compose_digest(fresh_db, TEAM, "C1", DUE + dt.timedelta(days=1))
    assert titles(second) == {"battery": [], "cars": ["Cars get cheaper"]}
    # Another channel still gets them.
    subscribe(fresh_db, "C2", "battery")
    assert len(compose_digest(fresh_db, TEAM, "C2", DUE).entries) == 2


def test_empty_when_nothing_new(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "volcano")
    add_article(fresh_db, "Something else entirely", hours_before(1))
    d = compose_digest(fresh_db, TEAM, "C1", DUE)
    assert d.is_empty and d.plan() == []


def test_hostile_topics_do_not_raise(fresh_db: Store) -> None:
    for n, topic in enumerate(['"unclosed', "NEAR(", "AND OR NOT", "🙂", "-", "*", "x" * 2000]):
        subscribe(fresh_db, f"C{n}", topic)
        compose_digest(fresh_db, TEAM, f"C{n}", DUE)


def test_many_delivered_stories_beyond_the_cached_depth(
    fresh_db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_mod, "CACHE_DEPTH", 3)
    subscribe(fresh_db, "C1", "market")
    subscribe(fresh_db, "C2", "market")
    ids = [add_article(fresh_db, f"Market moves {n}", hours_before(n + 1)) for n in range(10)]
    composer = Composer(fresh_db)
    assert len(composer.compose(TEAM, "C2", DUE).entries) == 5
    # C1 already had the five freshest: the cached top 3 are all delivered, so it ranks more.
    run = fresh_db.claim_digest_run(
        TEAM, "C1", "2024-05-01", DUE, owner="me", now=DUE, lease=dt.timedelta(minutes=5)
    )["run"]
    fresh_db.finish_digest_run(
        run["id"], message_ts="1.0", now=DUE, entries=[(i, i, "market") for i in ids[:5]]
    )
    got = composer.compose(TEAM, "C1", DUE)
    assert [e.story_id for e in got.entries] == ids[5:10]


def test_preview_changes_nothing_and_dates_the_next_digest(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "tennis", hour=7, tz="America/New_York")
    add_article(fresh_db, "Tennis final tonight", hours_before(1))
    before = fresh_db.digest_runs(), fresh_db.deliveries(TEAM, "C1")
    now = dt.datetime(2024, 5, 2, 12, 0, tzinfo=UTC)  # 08:00 in New York: today's 07:00 is past
    d = preview_digest(fresh_db, TEAM, "C1", now)
    assert d is not None and d.local_date == dt.date(2024, 5, 3)
    assert [e.article["title"] for e in d.entries] == ["Tennis final tonight"]
    assert (fresh_db.digest_runs(), fresh_db.deliveries(TEAM, "C1")) == before
    assert preview_digest(fresh_db, TEAM, "C-none", now) is None


def test_sections_come_in_the_order_the_topics_were_subscribed(fresh_db: Store) -> None:
    for topic in ("wind", "Solar", "batteries"):
        subscribe(fresh_db, "C1", topic)
    subscribe(fresh_db, "C1", "solar", hour=9)  # subscribing again keeps its place
    add_article(fresh_db, "Solar farm opens", hours_before(2))
    d = compose_digest(fresh_db, TEAM, "C1", DUE + dt.timedelta(hours=1))
    assert [s.topic for s in d.sections] == ["wind", "Solar", "batteries"]
    preview = preview_digest(fresh_db, TEAM, "C1", DUE)
    assert preview is not None and [s.topic for s in preview.sections] == [
        "wind",
        "Solar",
        "batteries",
    ]


def test_a_story_on_two_topics_goes_under_the_one_subscribed_first(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "cars")
    subscribe(fresh_db, "C1", "battery")
    add_article(fresh_db, "Battery breakthrough for electric cars", hours_before(2))
    add_article(fresh_db, "Battery plant opens", hours_before(4))
    d = compose_digest(fresh_db, TEAM, "C1", DUE)
    assert list(titles(d).items()) == [
        ("cars", ["Battery breakthrough for electric cars"]),
        ("battery", ["Battery plant opens"]),
    ]


def follows(store: Store, items: int, *topics: str) -> None:
    """User U1 follows ``topics`` (in that order) with ``items`` stories per DM digest."""
    for topic in topics:
        subscribe(store, "U1", topic, kind="dm")
    store.set_user_settings(TEAM, "U1", DUE, items=items)


def counts(d) -> list[int]:
    return [len(s.entries) for s in d.sections]


def test_a_dm_digest_shares_its_items_among_the_follows(fresh_db: Store) -> None:
    follows(fresh_db, 5, "wind", "solar", "tidal")
    for topic in ("Wind", "Solar", "Tidal"):
        for n in range(6):
            add_article(fresh_db, f"{topic} news {n}", hours_before(1 + n))
    d = compose_digest(fresh_db, TEAM, "U1", DUE)
    assert [s.topic for s in d.sections] == ["wind", "solar", "tidal"]
    assert counts(d) == [2, 2, 1]
    # each follow's best stories, best first
    assert titles(d) == {
        "wind": ["Wind news 0", "Wind news 1"],
        "solar": ["Solar news 0", "Solar news 1"],
        "tidal": ["Tidal news 0"],
    }
    # A channel's digest has no such cap: each topic has up to items_per_topic.
    for topic in ("wind", "solar", "tidal"):
        subscribe(fresh_db, "C1", topic)
    assert counts(compose_digest(fresh_db, TEAM, "C1", DUE)) == [5, 5, 5]


def test_a_follow_with_fewer_stories_leaves_its_share_to_the_others(fresh_db: Store) -> None:
    follows(fresh_db, 5, "wind", "solar", "tidal")
    for topic, stories in (("Wind", 6), ("Solar", 1), ("Tidal", 6)):
        for n in range(stories):
            add_article(fresh_db, f"{topic} news {n}", hours_before(1 + n))
    assert counts(compose_digest(fresh_db, TEAM, "U1", DUE)) == [2, 1, 2]
    fresh_db.set_user_settings(TEAM, "U1", DUE, items=8)
    assert counts(compose_digest(fresh_db, TEAM, "U1", DUE)) == [4, 1, 3]
    fresh_db.set_user_settings(TEAM, "U1", DUE, items=10)
    assert counts(compose_digest(fresh_db, TEAM, "U1", DUE)) == [5, 1, 4]


def test_a_dm_digest_places_a_story_two_follows_found_once(fresh_db: Store) -> None:
    follows(fresh_db, 3, "battery", "cars")
    add_article(fresh_db, "Battery breakthrough for electric cars", hours_before(1))
    add_article(fresh_db, "Battery plant opens", hours_before(2))
    add_article(fresh_db, "Battery prices fall", hours_before(3))
    add_article(fresh_db, "Cars sales up", hours_before(4))
    d = compose_digest(fresh_db, TEAM, "U1", DUE)
    # Whichever follow's turn takes the breakthrough, it is placed once, and cars gets its turn.
    assert counts(d) == [2, 1]
    shown = [e.story_id for e in d.entries]
    assert len(shown) == len(set(shown)) == 3


def test_a_dm_digest_shares_past_the_cached_depth_and_what_was_sent(
    fresh_db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_mod, "CACHE_DEPTH", 2)
    follows(fresh_db, 6, "market", "bonds")
    market = [add_article(fresh_db, f"Market moves {n}", hours_before(n + 1)) for n in range(6)]
    for n in range(6):
        add_article(fresh_db, f"Bonds rally {n}", hours_before(n + 1))
    run = fresh_db.claim_digest_run(
        TEAM, "U1", "2024-05-01", DUE, owner="me", now=DUE, lease=dt.timedelta(minutes=5)
    )["run"]
    fresh_db.finish_digest_run(
        run["id"], message_ts="1.0", now=DUE, entries=[(i, i, "market") for i in market[:2]]
    )
    d = Composer(fresh_db).compose(TEAM, "U1", DUE)
    assert titles(d) == {
        "market": ["Market moves 2", "Market moves 3", "Market moves 4"],
        "bonds": ["Bonds rally 0", "Bonds rally 1", "Bonds rally 2"],
    }


@pytest.mark.parametrize("hour", [8, 14, 20])
def test_within_a_topic_the_story_most_outlets_reported_comes_first(
    fresh_db: Store, tmp_path, hour
):
    """The ChaosDB breach (18 outlets) leads a "cosmos db" digest of the day after, over the
    single-outlet posts of the same window, a fresher, better-scored one included
    (tests/fixtures/cosmos: files of the Azure corpus); freshness alone put that one first."""
    from bot.core.loader import Loader
    from tests.conftest import FIXTURES
    from tests.helpers import write_article

    due = dt.datetime(2021, 8, 28, hour, 0, tzinfo=UTC)
    write_article(
        tmp_path / "news",
        "fresh.md",
        "Azure Cosmos DB: partial document update in preview",
        "https://blog.example/cosmos-patch",
        when=(due - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        quality=300,
    )
    assert Loader(fresh_db, lambda: due).load([FIXTURES / "cosmos", tmp_path / "news"]).ok
    subscribe(fresh_db, "C1", "cosmos db")
    d = compose_digest(fresh_db, TEAM, "C1", due, DigestSettings(items_per_topic=10))
    (section,) = d.sections
    assert len(section.entries) >= 3
    top = section.entries[0]
    assert "Security Flaw Exposed Client Data" in top.article["title"]
    assert len(top.outlets) >= 10


# -- an empty digest explained (issue 14, item 4) ---------------------------------------------


def test_an_empty_preview_knows_its_window_and_each_topics_newest_story(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    subscribe(fresh_db, "C1", "tidal")
    subscribe(fresh_db, "C1", "wind")
    add_article(fresh_db, "Solar long ago", hours_before(24 * 40))
    add_article(fresh_db, "Solar older", hours_before(24 * 41))
    add_article(fresh_db, "Tidal muted", hours_before(2), provider="Tidal Times")
    add_article(fresh_db, "Solar after the preview", DUE + dt.timedelta(hours=1))
    fresh_db.mute(TEAM, "channel", "C1", "tidaltimes.example", "Tidal Times", "U1", DUE)
    now = DUE
    d = preview_digest(fresh_db, TEAM, "C1", now, DigestSettings(max_age_hours=36))
    assert d is not None and d.is_empty and d.facts is not None
    facts = d.facts
    assert facts.window_start == now - dt.timedelta(hours=36) and facts.window_end == now
    assert facts.window_hours == 36
    assert facts.next_due == dt.datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
    assert facts.newest == {
        "solar": int(hours_before(24 * 40).timestamp()),  # not the one after the preview
        "tidal": int(hours_before(2).timestamp()),  # in the window, but muted here
        "wind": None,  # nothing matches it at all
    }
    assert not facts.ever_sent and not facts.post_when_empty
    assert facts.sample is None  # not the bundled sample


def test_a_full_digest_is_not_explained(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar now", hours_before(1))
    d = preview_digest(fresh_db, TEAM, "C1", DUE)
    assert d is not None and d.entries and d.facts is None


def test_ever_sent_is_a_digest_posted_here(fresh_db: Store, clock, fake) -> None:
    subscribe(fresh_db, "C1", "solar")
    add_article(fresh_db, "Solar now", hours_before(1))
    d = preview_digest(fresh_db, TEAM, "C1", DUE - dt.timedelta(hours=5))
    assert d is not None and d.facts is not None and not d.facts.ever_sent
    assert make_runner(fresh_db, fake, clock).run_channel(TEAM, "C1").status == "posted"
    later = DUE + dt.timedelta(hours=3)
    d = preview_digest(fresh_db, TEAM, "C1", later)
    assert d is not None and d.is_empty and d.facts is not None and d.facts.ever_sent


def test_a_preview_passes_over_a_skipped_weekend(fresh_db: Store) -> None:
    subscribe(fresh_db, "C1", "solar")
    fresh_db.set_channel_settings(TEAM, "C1", DUE, skip_weekends=True)
    friday_evening = dt.datetime(2024, 5, 3, 18, 0, tzinfo=UTC)
    d = preview_digest(fresh_db, TEAM, "C1", friday_evening)
    assert d is not None and d.local_date == dt.date(2024, 5, 6) and not d.quiet_day
    assert d.facts is not None and d.facts.next_due == dt.datetime(2024, 5, 6, 8, 0, tzinfo=UTC)


def load_sample(store: Store) -> None:
    from importlib import resources

    from bot.core.loader import Loader

    with resources.as_file(resources.files("bot.sample").joinpath("seed.txt")) as path:
        Loader(store).load([path])


SAMPLE_MORNING = dt.datetime(2020, 2, 5, 8, 0, tzinfo=UTC)


def test_on_the_bundled_sample_a_preview_names_a_morning_whose_digest_is_full(
    fresh_db: Store,
) -> None:
    load_sample(fresh_db)
    subscribe(fresh_db, "C1", "facial recognition")
    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    d = preview_digest(fresh_db, TEAM, "C1", now)
    assert d is not None and d.is_empty and d.facts is not None
    sample = d.facts.sample
    assert sample is not None and sample.articles == fresh_db.count_articles() == 23
    assert dt.datetime.fromtimestamp(sample.newest_ts, UTC) == dt.datetime(
        2020, 2, 6, 0, 26, tzinfo=UTC
    )
    assert d.facts.sample_at == SAMPLE_MORNING
    full = preview_digest(fresh_db, TEAM, "C1", SAMPLE_MORNING)
    assert full is not None and len(full.entries) == 5  # items_per_topic: a full digest
    later = preview_digest(fresh_db, TEAM, "C1", SAMPLE_MORNING + dt.timedelta(days=1))
    assert later is not None and len(later.entries) < 5  # the morning after the newest: not


def test_the_sample_morning_follows_the_channels_time(fresh_db: Store) -> None:
    load_sample(fresh_db)
    subscribe(fresh_db, "C1", "facial recognition", hour=7, minute=30, tz="America/New_York")
    d = preview_digest(fresh_db, TEAM, "C1", dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert d is not None and d.facts is not None and d.facts.sample_at is not None
    local = d.facts.sample_at.astimezone(digest_mod.schedule.zone("America/New_York"))
    assert (local.hour, local.minute) == (7, 30)


def test_a_database_with_more_than_the_sample_is_not_the_sample(fresh_db: Store) -> None:
    load_sample(fresh_db)
    add_article(fresh_db, "Facial recognition elsewhere", dt.datetime(2019, 1, 1, tzinfo=UTC))
    subscribe(fresh_db, "C1", "facial recognition")
    d = preview_digest(fresh_db, TEAM, "C1", dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert d is not None and d.facts is not None and d.facts.sample is None
