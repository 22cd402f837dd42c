"""One story, many articles: the same_story rule on real and written headlines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.loader import Loader
from bot.core.stories import StoryText, same_story, title_keys, title_similarity, words
from tests.conftest import POWER_APPS, SEED, FixedClock
from tests.helpers import article, by_url, front, rows, stories, story_of, write

DAY = 24 * 3600
T0 = int(dt.datetime(2020, 5, 4, 9, 0, tzinfo=dt.UTC).timestamp())


def s(title: str, excerpt: str = "", at: int = T0) -> StoryText:
    return StoryText(title, excerpt, at)


# -- the corpus ------------------------------------------------------------------------------

REUTERS_UK = (
    "https://uk.reuters.com/article/britain-data-privacy/british-watchdog-urges-caution-over-"
    "police-facial-recognition-plans-idUKL8N29X4CD"
)
REUTERS_US = (
    "https://www.reuters.com/article/us-britain-data-privacy/british-watchdog-urges-caution-over-"
    "police-facial-recognition-plans-idUSKBN1ZR273"
)
NYT = "https://www.nytimes.com/2020/01/29/technology/facebook-privacy-lawsuit-earnings.html"
FORBES = (
    "https://www.forbes.com/sites/rachelsandler/2020/01/29/"
    "facebook-to-pay-550-million-to-settle-facial-recognition-lawsuit/"
)
LONDON = (
    "https://www.usnews.com/news/world/articles/2020-01-24/"
    "police-to-roll-out-live-facial-recognition-cameras-in-london"
)
MOSCOW = (
    "https://www.theverge.com/2020/1/30/21115119/"
    "moscow-live-facial-recognition-roll-out-ntechlab-deployment"
)
FINDFACE = (
    "https://www.forbes.com/sites/thomasbrewster/2020/01/29/"
    "findface-rolls-out-huge-facial-recognition-surveillance-in-moscow-russia/"
)
EU_BAN = "https://www.cpomagazine.com/data-privacy/eu-ponders-temporary-facial-recognition-ban/"
NY_BAN = (
    "https://www.thedailynewsonline.com/bdn01/"
    "ny-senate-bill-would-ban-police-facial-recognition-technology-20200205"
)


@pytest.fixture
def seeded(fresh_db):
    Loader(fresh_db, FixedClock()).load([SEED])
    return fresh_db


def test_the_two_reuters_pieces_are_one_story(seeded):
    assert story_of(seeded, REUTERS_UK) == story_of(seeded, REUTERS_US)


def test_nyt_and_forbes_on_the_550_million_settlement_are_one_story(seeded):
    assert story_of(seeded, NYT) == story_of(seeded, FORBES)


def test_distinct_facial_recognition_stories_stay_apart(seeded):
    ids = {url: story_of(seeded, url) for url in (LONDON, MOSCOW, EU_BAN, NY_BAN, NYT, REUTERS_UK)}
    assert len(set(ids.values())) == len(ids)
    # Moscow, told by two outlets with different headlines, is not merged with London either
    assert story_of(seeded, FINDFACE) not in {ids[LONDON], ids[REUTERS_UK]}


def test_the_seed_has_exactly_those_two_shared_stories(seeded):
    assert stories(seeded) == [
        [
            "forbes.com: Facebook To Pay $550 Million To Settle Facial Recognition Lawsuit",
            "nytimes.com: Facebook to Pay $550 Million to Settle Facial Recognition Suit",
        ],
        [
            "reuters.com: British watchdog urges caution over police facial recognition plans",
            "reuters.com: British watchdog urges caution over police facial recognition plans",
        ],
    ]
    assert seeded.count_stories() == 21


@pytest.fixture
def power_apps(fresh_db):
    Loader(fresh_db, FixedClock()).load([POWER_APPS])
    return fresh_db


def test_power_apps_shared_stories(power_apps):
    shared = stories(power_apps)
    assert [
        "infoworld.com: Microsoft fleshes out Power Apps",
        "reseller.co.nz: Microsoft fleshes out Power Apps",
    ] in shared
    # a press release, re-issued and re-transmitted (once with "ISTM" for "ITSM"), over 3 days
    release = "Provance Releases ServiceTeam a New Family of {} Power Apps Products"
    (provance,) = [g for g in shared if any("Provance" in t for t in g)]
    assert provance == sorted([
        "bignewsnetwork.com: RE-TRANSMISSION: " + release.format("ITSM"),
        "digitaljournal.com: RE-TRANSMISSION: " + release.format("ITSM"),
        "digitaljournal.com: " + release.format("ISTM"),
        "digitaljournal.com: " + release.format("ISTM"),
        "finanznachrichten.de: " + release.format("ITSM"),
    ])
    assert len(shared) == 2
    assert power_apps.count_stories() == 191 - 1 - 4


def test_power_apps_preview_and_general_availability_stay_apart(power_apps):
    titles = {r["title"]: r["story_id"] for r in rows(power_apps)}
    preview = titles["Announcing Visual Data Prep public preview (Diagram View in Power Platform Dataflows)"]
    ga = titles["Announcing Visual Data Prep general availability (Diagram View in Power Query Online)"]
    assert preview != ga
    # the 2019 and 2020 release-wave overviews are one template, months apart
    assert titles["Microsoft Power Apps | 2019 release wave 2 overview"] != titles[
        "Microsoft Power Apps | 2020 release wave 1 overview"
    ]


# -- the rule on written cases ---------------------------------------------------------------


def test_template_press_releases_stay_apart():
    acme = s(
        "Acme now available in the Contoso Marketplace",
        "Acme, the leading widget platform, is now available in the Contoso Marketplace.",
    )
    globex = s(
        "Globex now available in the Contoso Marketplace",
        "Globex, the gadget company, is now available in the Contoso Marketplace.",
        T0 + 3600,
    )
    assert not same_story(acme, globex) and not same_story(globex, acme)


def test_same_product_preview_in_may_and_ga_in_october_stay_apart():
    may = s("Contoso Widgets is now available", "Contoso Widgets, in preview.", T0)
    october = s("Contoso Widgets is now available", "Contoso Widgets, generally available.",
                T0 + 160 * DAY)
    assert not same_story(may, october)
    assert not same_story(
        s("Contoso Widgets enters public preview", "", T0),
        s("Contoso Widgets reaches general availability", "", T0 + 160 * DAY),
    )


def test_the_same_event_from_two_outlets_within_days_is_one_story():
    a = s(
        "Acme to acquire Globex for $2 billion",
        "Acme said on Monday it would buy rival Globex for $2 billion in cash.",
    )
    b = s(
        "Acme To Acquire Globex For $2 Billion",
        "Acme has agreed to buy Globex in a deal worth $2 billion.",
        T0 + 2 * DAY,
    )
    assert same_story(a, b) and same_story(b, a)


def test_different_amounts_are_different_stories():
    assert not same_story(
        s("Acme to acquire Globex for $2 billion"), s("Acme to acquire Globex for $3 billion")
    )


def test_four_days_apart_is_too_far():
    a = s("Acme to acquire Globex for $2 billion")
    assert same_story(a, s(a.title, at=T0 + 3 * DAY))
    assert not same_story(a, s(a.title, at=T0 + 3 * DAY + 1))


def test_an_undated_article_is_its_own_story():
    assert not same_story(s("Acme to acquire Globex"), StoryText("Acme to acquire Globex", "", None))


def test_an_addition_to_a_near_identical_headline_is_the_same_story():
    a = s("Provance Releases ServiceTeam a New Family of ITSM Power Apps Products")
    b = s("RE-TRANSMISSION: Provance Releases ServiceTeam a New Family of ITSM Power Apps Products")
    assert same_story(a, b)


def test_title_similarity_and_words():
    assert words("The Facebook To Pay $550 Million") == ["facebook", "pay", "$550", "million"]
    assert title_similarity(["suit"], ["lawsuit"]) == 1.0
    assert title_similarity([], ["x"]) == 0.0


def test_title_keys_are_the_longest_content_words():
    assert title_keys('Facebook "to" pay $550 million (settle) NEAR OR AND') == [
        "facebook", "million", "settle", "near"]
    assert title_keys("a to of 2020") == []
    # the two $550 million headlines share enough keys to find each other
    a = set(title_keys("Facebook to Pay $550 Million to Settle Facial Recognition Suit"))
    b = set(title_keys("Facebook To Pay $550 Million To Settle Facial Recognition Lawsuit"))
    assert len(a & b) >= 2


# -- through the loader ----------------------------------------------------------------------


def load_files(store, folder: Path, files: dict[str, dict]) -> None:
    for name, fields in files.items():
        write(folder, name, front(**fields))
    report = Loader(store, FixedClock()).load([folder])
    assert report.ok, report.bad


def test_written_cases_through_the_loader(fresh_db, tmp_path):
    load_files(fresh_db, tmp_path / "in", {
        "acme.md": article("Acme now available in the Contoso Marketplace", "https://pr.example/acme",
                           "2020-05-04T09:00:00Z",
                           excerpt="Acme is now available in the Contoso Marketplace."),
        "globex.md": article("Globex now available in the Contoso Marketplace",
                             "https://pr.example/globex", "2020-05-04T10:00:00Z",
                             excerpt="Globex is now available in the Contoso Marketplace."),
        "may.md": article("Contoso Widgets is now available", "https://blog.example/may",
                          "2020-05-12T09:00:00Z"),
        "october.md": article("Contoso Widgets is now available", "https://blog.example/oct",
                              "2020-10-20T09:00:00Z"),
        "deal-1.md": article("Acme to acquire Globex for $2 billion", "https://wire.example/deal",
                             "2020-06-01T09:00:00Z"),
        "deal-2.md": article("Acme To Acquire Globex For $2 Billion", "https://paper.example/deal",
                             "2020-06-03T18:00:00Z"),
    })
    story = {r["url"]: r["story_id"] for r in rows(fresh_db)}
    assert story["https://pr.example/acme"] != story["https://pr.example/globex"]
    assert story["https://blog.example/may"] != story["https://blog.example/oct"]
    assert story["https://wire.example/deal"] == story["https://paper.example/deal"]
    assert fresh_db.count_stories() == 5


def test_a_related_entry_joins_the_story_of_an_article_in_another_file(fresh_db, tmp_path):
    load_files(fresh_db, tmp_path / "in", {
        "1.md": article("Acme to acquire Globex for $2 billion", "https://wire.example/deal",
                        "2020-06-01T09:00:00Z"),
        "2.md": {
            **article("Something else entirely", "https://other.example/x", "2020-06-02T09:00:00Z"),
            "related": [article("Acme to acquire Globex for $2 billion, sources say",
                                "https://paper.example/deal", "2020-06-02T09:00:00Z")],
        },
    })
    assert story_of(fresh_db, "https://wire.example/deal") == story_of(
        fresh_db, "https://paper.example/deal"
    )
    assert by_url(fresh_db, "https://other.example/x")["story_id"] != story_of(
        fresh_db, "https://wire.example/deal"
    )
