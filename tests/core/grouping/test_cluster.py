"""Stories over a stream of articles (bot.core.grouping.cluster): the seed pairs, chaining
(the JEDI affair), the span, vetoes across a story, and the Power Apps corpus."""

from __future__ import annotations

import itertools

import pytest

from bot.core.grouping.cluster import MAX_SPAN, Grouper, Link, _enough
from bot.core.grouping.evidence import Evidence
from bot.core.grouping.model import Doc, Item
from bot.core.grouping.stats import CorpusStats
from bot.core.grouping.text import features
from tests.conftest import POWER_APPS, SEED
from tests.core.grouping.conftest import DAY, HOUR, T0, as_item, fixture_articles, item

WEEK = 7 * DAY


def _grouped(items: list[Item], stats: CorpusStats) -> Grouper:
    grouper = Grouper(stats)
    for one in sorted(items, key=lambda i: (i.published_ts, i.key)):
        grouper.add(one)
    return grouper


def _by_title(grouper: Grouper, title: str) -> list[str]:
    keys = [k for k, d in grouper.docs.items() if d.item.title == title]
    assert keys, title
    return keys


# -- the seed file ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Grouper:
    return _grouped([as_item(a) for a in fixture_articles(SEED)], CorpusStats())


def test_seed_ny_bill_is_one_story(seed: Grouper) -> None:
    [ny] = _by_title(seed, "NY Senate bill would ban police facial recognition technology")
    [proposed] = _by_title(
        seed, "Proposed bill would ban police from using facial recognition technology"
    )
    assert seed.story_of(ny) == seed.story_of(proposed)


def test_seed_reuters_pair_is_one_story(seed: Grouper) -> None:
    uk, us = _by_title(seed, "British watchdog urges caution over police facial recognition plans")
    assert seed.story_of(uk) == seed.story_of(us)


def test_seed_550_million_pair_is_one_story(seed: Grouper) -> None:
    [nyt] = _by_title(seed, "Facebook to Pay $550 Million to Settle Facial Recognition Suit")
    [forbes] = _by_title(seed, "Facebook To Pay $550 Million To Settle Facial Recognition Lawsuit")
    assert seed.story_of(nyt) == seed.story_of(forbes)


def test_seed_other_stories_stay_apart(seed: Grouper) -> None:
    [ny] = _by_title(seed, "NY Senate bill would ban police facial recognition technology")
    [nyt] = _by_title(seed, "Facebook to Pay $550 Million to Settle Facial Recognition Suit")
    [uk, _] = _by_title(seed, "British watchdog urges caution over police facial recognition plans")
    assert len({seed.story_of(ny), seed.story_of(nyt), seed.story_of(uk)}) == 3
    sizes = [len(s.keys) for s in seed.stories()]
    assert max(sizes) <= 3  # facial recognition everywhere, and still no heap


# -- chaining -----------------------------------------------------------------------------------

WATCHDOG = [
    (
        "Pentagon watchdog clears Microsoft’s $10 billion JEDI win over Amazon",
        "stripes.com",
        "The Defense Department’s watchdog found no evidence that the Pentagon’s decision to award "
        "a $10 billion cloud-computing contract to Microsoft was improper.",
    ),
    (
        "DoD watchdog clears Microsoft JEDI win, but admits it was blocked from investigating "
        "Trump interference claims",
        "datacenterdynamics.com",
        "The Department of Defense Inspector General cleared the military's decision to award a "
        "contentious major cloud contract to Microsoft.",
    ),
    (
        "Watchdog Finds Few Problems in Pentagon Award of JEDI Contract to Microsoft Over Amazon",
        "wsj.com",
        "The Pentagon watchdog’s report concluded few actual problems occurred in "
        "awarding the hotly disputed JEDI cloud-computing contract, in a victory for Microsoft.",
    ),
]
JUDGE = [
    (
        "U.S. judge puts Amazon challenge to Pentagon JEDI contract on hold",
        "reuters.com",
        "A U.S. judge on Friday put on hold a suit by Amazon challenging the Pentagon’s decision "
        "to award a $10 billion contract to Microsoft.",
    ),
    (
        "Judge puts Amazon challenge to Pentagon JEDI contract on hold",
        "foxbusiness.com",
        "Known as Joint Enterprise Defense Infrastructure, or JEDI, the cloud computing contract "
        "was put on hold by a federal judge.",
    ),
    (
        "Amazon's JEDI lawsuit is on hold until mid-August",
        "engadget.com",
        "US federal judge Patricia Campbell-Smith has put Amazon's JEDI case on hold.",
    ),
]
BRIDGE = (
    "JEDI war continues for Amazon, Microsoft",
    "politico.com",
    "JEDI latest: the Pentagon’s watchdog is out with a report, and a judge put Amazon's "
    "JEDI suit on hold to let the Pentagon reconsider the contract.",
)


def _jedi(stats: CorpusStats, with_bridge: bool) -> Grouper:
    # As in the azure corpus, where the affair ran for months: its words are common, not rare.
    for _ in range(60):
        stats.add(
            features(
                "Amazon, Microsoft and the Pentagon JEDI cloud contract",
                "The Defense Department (DoD) awarded its $10 billion JEDI cloud "
                "contract to Microsoft over Amazon Web Services.",
            )
        )
    grouper = Grouper(stats)
    for i, (title, domain, excerpt) in enumerate(WATCHDOG):
        grouper.add(item(title, excerpt, domain, at=T0 + i * HOUR))
    for i, (title, domain, excerpt) in enumerate(JUDGE):
        grouper.add(item(title, excerpt, domain, at=T0 + 2 * DAY + i * HOUR))
    if with_bridge:
        title, domain, excerpt = BRIDGE
        grouper.add(item(title, excerpt, domain, at=T0 + 3 * DAY))
    return grouper


def test_jedi_events_grouped_each_apart(stats: CorpusStats) -> None:
    grouper = _jedi(stats, with_bridge=False)
    watchdog = [grouper.story_of(f"{d}/{t}") for t, d, _ in WATCHDOG]
    judge = [grouper.story_of(f"{d}/{t}") for t, d, _ in JUDGE]
    assert len(set(watchdog)) < len(watchdog) and len(set(judge)) < len(judge)
    assert set(watchdog).isdisjoint(judge)


def test_an_article_on_both_events_does_not_chain_them(stats: CorpusStats) -> None:
    grouper = _jedi(stats, with_bridge=True)
    watchdog = {grouper.story_of(f"{d}/{t}") for t, d, _ in WATCHDOG}
    judge = {grouper.story_of(f"{d}/{t}") for t, d, _ in JUDGE}
    assert watchdog.isdisjoint(judge)


def test_a_veto_across_the_story_keeps_an_article_out(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    grouper.add(
        item(
            "Azure Maps Creator now available in preview",
            "Azure Maps Creator extends maps indoors.",
            "microsoft.com",
            key="preview",
        )
    )
    grouper.add(
        item(
            "Microsoft previews Azure Maps Creator for indoor maps",
            "Azure Maps Creator, a new tool for indoor maps.",
            "siliconangle.com",
            at=T0 + HOUR,
            key="review",
        )
    )
    assert grouper.story_of("preview") == grouper.story_of("review")
    grouper.add(
        item(
            "Azure Maps Creator indoor maps now generally available",
            "Azure Maps Creator for indoor maps.",
            "zdnet.com",
            at=T0 + 2 * HOUR,
            key="ga",
        )
    )
    # alike to the review, but the preview it would join says otherwise
    assert grouper.story_of("ga") != grouper.story_of("preview")
    assert grouper.links(grouper.docs["ga"])  # it was linked: the veto kept it out


def test_a_story_spans_a_few_days_at_most(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    title = "Microsoft acquires Kinvolk to accelerate container-optimized innovation"
    stamps = [T0 + i * 2 * DAY for i in range(6)]
    for i, ts in enumerate(stamps):
        grouper.add(item(title, "", f"site{i}.com", at=ts))
    stories = [grouper.story_of(f"site{i}.com/{title}") for i in range(6)]
    assert stories[0] == stories[1] == stories[2]  # 4 days
    assert stories[5] != stories[0]
    for story in grouper.stories():
        members = [grouper.docs[k].ts for k in story.keys]
        assert max(members) - min(members) <= MAX_SPAN


def test_republished_article_joins_its_story_weeks_later(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    title, excerpt = (
        "Singtel offers 5G edge computing on Microsoft Azure",
        "Singapore telco offers its Multi-access Edge Compute 5G platform on Azure.",
    )
    grouper.add(item(title, excerpt, "zdnet.com", key="a"))
    grouper.add(item(title, excerpt, "zdnet.com", at=T0 + 36 * DAY, key="b"))
    grouper.add(item(title, excerpt, "other.com", at=T0 + 36 * DAY, key="c"))
    first, again, elsewhere = (grouper.story_of(k) for k in "abc")
    assert again == first
    assert elsewhere != first  # another outlet 36 days later: not the same publication


def test_one_weak_link_does_not_bring_an_article_into_a_story() -> None:
    def link(score: float) -> Link:
        return Link("k", Evidence(0.0, 0.0, 0.0, 0.0, False, False, False, score))

    assert _enough([link(0.8)], story_size=1)
    assert not _enough([link(0.8)], story_size=3)  # one weak match
    assert _enough([link(1.2)], story_size=3)  # one strong one
    assert _enough([link(0.8), link(0.55)], story_size=3)  # corroborated by another member
    assert not _enough([link(0.6), link(0.55)], story_size=1)  # nothing accepted


def test_adding_twice_changes_nothing(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    one = item("Microsoft acquires Kinvolk", "Kinvolk joins Azure.")
    story = grouper.add(one)
    n = grouper.stats.n
    assert grouper.add(one) == story
    assert grouper.stats.n == n


# -- the Power Apps corpus ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def power_apps() -> Grouper:
    return _grouped([as_item(a) for a in fixture_articles(POWER_APPS)], CorpusStats())


def test_power_apps_no_absurd_merges(power_apps: Grouper) -> None:
    for story in power_apps.stories():
        docs = [power_apps.docs[k] for k in story.keys]
        stamps = [d.ts for d in docs]
        assert max(stamps) - min(stamps) <= MAX_SPAN
        assert len(docs) <= 6, [d.item.title for d in docs]
        stages = {d.f.stage for d in docs} - {None}
        assert len(stages) <= 1, [d.item.title for d in docs]
        for a, b in itertools.combinations(docs, 2):
            assert a.f.roundup == b.f.roundup


def test_power_apps_release_waves_stay_apart(power_apps: Grouper) -> None:
    waves = {k: d for k, d in power_apps.docs.items() if "release wave" in d.item.title.lower()}
    assert len(waves) >= 2
    for (ka, a), (kb, b) in itertools.combinations(waves.items(), 2):
        if a.f.title_numbers != b.f.title_numbers:
            assert power_apps.story_of(ka) != power_apps.story_of(kb), (a.item.title, b.item.title)


def test_power_apps_groups_something(power_apps: Grouper) -> None:
    assert any(len(s.keys) > 1 for s in power_apps.stories())


# -- two events bridged in a young corpus -------------------------------------------------------

POLAND = [
    ("Microsoft to invest $1 billion in Poland: statement", "reuters.com"),
    ("Microsoft to Invest $1 Billion in Polish Cloud Project", "usnews.com"),
    ("Microsoft announces $1 billion investment plan in Poland", "mspoweruser.com"),
    ("Microsoft to invest $1 billion in Poland, including new datacenter", "windowscentral.com"),
    ("Microsoft to invest $1 billion in Poland cloud", "thejakartapost.com"),
    ("Microsoft plans $1bn cloud investment in Poland", "datacenterdynamics.com"),
]
ZEALAND = [
    ("Microsoft lands public cloud in New Zealand with new datacenter region", "reseller.co.nz"),
    ("Microsoft expands data centre region to New Zealand", "zdnet.com"),
    ("New Zealand to get its own Microsoft Azure region", "itnews.com.au"),
    ("Microsoft to open first data center in New Zealand as cloud usage grows", "techcrunch.com"),
    ("Microsoft could be the first to launch a cloud region in New Zealand", "computerworld.com"),
]


def test_a_report_of_two_regions_does_not_chain_them(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    for i, (title, domain) in enumerate(POLAND):
        grouper.add(item(title, "", domain, at=T0 + i * HOUR))
    for i, (title, domain) in enumerate(ZEALAND):
        grouper.add(item(title, "", domain, at=T0 + 14 * HOUR + i * HOUR))
    poland = {grouper.story_of(f"{d}/{t}") for t, d in POLAND}
    zealand = {grouper.story_of(f"{d}/{t}") for t, d in ZEALAND}
    assert len(poland) == 1 and len(zealand) == 1 and poland != zealand
    grouper.add(
        item("Microsoft Cloud Regions Planned For New Zealand, Poland", "", "crn.com", T0 + DAY)
    )
    poland = {grouper.story_of(f"{d}/{t}") for t, d in POLAND}
    zealand = {grouper.story_of(f"{d}/{t}") for t, d in ZEALAND}
    assert poland.isdisjoint(zealand)


# -- re-runs and the week ---------------------------------------------------------------------

REMINDER = "Reminder: Save 95% on the Complete Microsoft Azure eBook & Video Course Bundle"


def test_a_headline_run_again_by_its_outlet_joins_weeks_later(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    for i, price in enumerate(["$29", "$31", "$27"]):
        excerpt = f"A quick reminder of the deal on the Azure course bundle, now {price}."
        grouper.add(item(REMINDER, excerpt, "geeky-gadgets.com", T0 + i * 3 * WEEK, str(i)))
    assert grouper.story_of("0") == grouper.story_of("1") == grouper.story_of("2")
    grouper.add(item(REMINDER, "The same deal, elsewhere.", "other.com", T0 + 7 * WEEK, "x"))
    assert grouper.story_of("x") != grouper.story_of("0")  # another outlet: a link, in a week


def test_a_roundup_headline_comes_back_over_other_news(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    title = "This week in Azure: the news roundup for cloud developers"
    grouper.add(item(title, "Arc, Purview and Sentinel.", "blog.example", T0, "one"))
    grouper.add(item(title, "Cosmos DB and Synapse.", "blog.example", T0 + WEEK + DAY, "two"))
    assert grouper.story_of("one") != grouper.story_of("two")


def test_a_republished_article_joins_its_story_even_when_linked(stats: CorpusStats) -> None:
    # The story of a piece republished three weeks later spans three weeks; a third copy two
    # days after the second is linked to it too, and that link alone would break the span.
    grouper = Grouper(stats)
    title, excerpt = REMINDER, "A quick reminder of the deal on the Azure course bundle."
    for i, at in enumerate([T0, T0 + 3 * WEEK, T0 + 3 * WEEK + 2 * DAY]):
        grouper.add(item(title, excerpt, "geeky-gadgets.com", at, str(i)))
    assert grouper.story_of("0") == grouper.story_of("1") == grouper.story_of("2")


def test_an_update_notice_six_days_after_the_blog_post(stats: CorpusStats) -> None:
    grouper = Grouper(stats)
    blog = item(
        "Optimize cost and performance with Query Acceleration for Azure Data Lake Storage",
        "Query Acceleration for Azure Data Lake Storage, now in preview, filters data.",
        "microsoft.com",
        T0,
        "blog",
    )
    grouper.add(blog)
    title = "Query Acceleration for Azure Data Lake Storage now in preview"
    grouper.add(item(title, "", "microsoft.com", T0 + 150 * HOUR, "update"))
    grouper.add(item(title, "", "other.com", T0 + 8 * DAY, "late"))
    assert grouper.story_of("update") == grouper.story_of("blog")
    assert grouper.story_of("late") != grouper.story_of("blog")  # beyond a week


def test_reports_of_one_results_day_are_compared_and_joined(stats: CorpusStats) -> None:
    for _ in range(30):  # as in Azure news: these words are everywhere, no candidate's mark
        stats.add(features("Microsoft cloud earnings and business", "Microsoft cloud earnings."))
    grouper = Grouper(stats)
    wapo = item(
        "Microsoft weathers the coronavirus storm, posting earnings boost from its cloud business",
        "Microsoft recorded huge revenue gains in its fiscal third quarter.",
        "washingtonpost.com",
        T0,
        "wapo",
    )
    siliconangle = item(
        "No malaise at Microsoft as cloud helps office giant toast earnings forecast",
        "Nearly every part of Microsoft's business benefited from the shift to working from home.",
        "siliconangle.com",
        T0 + 4 * HOUR,
        "siliconangle",
    )
    grouper.add(wapo)
    grouper.add(siliconangle)
    assert grouper.story_of("wapo") == grouper.story_of("siliconangle")
    later = item("Microsoft earnings lift Seattle-area stocks", "", "other.com", T0 + 2 * DAY, "x")
    grouper.add(later)
    assert grouper.story_of("x") != grouper.story_of("wapo")  # two days on: other news


def test_two_stories_stay_apart_when_most_cross_pairs_are_substitutions(
    stats: CorpusStats,
) -> None:
    def stories(unlinked_pairs: int) -> bool:
        grouper = Grouper(CorpusStats.from_dict(stats.to_dict()))
        race = "Microsoft gets into 5G race with Azure cloud for telecom operators"
        playbook = "Microsoft unveils its telco playbook, Azure for Operators"
        for i in range(3):
            grouper.add(item(race, "", f"race{i}.com", T0 + i * HOUR, f"r{i}"))
        for i in range(2):
            grouper.add(item(playbook, "", f"book{i}.com", T0 + i * HOUR, f"p{i}"))
        assert grouper.story_of("r0") != grouper.story_of("p0")
        cross = [(f"r{i}", f"p{j}") for i in range(3) for j in range(2)][:unlinked_pairs]

        def unlinked(a: Doc, b: Doc) -> bool:  # as vetoes.unlinked_substitution would say
            return (a.key, b.key) in cross or (b.key, a.key) in cross

        grouper._unlinked_pair = unlinked  # type: ignore[method-assign]
        return grouper._merge(grouper.story_of("r0"), grouper.story_of("p0"), check_span=True)

    assert stories(unlinked_pairs=3)  # half of the six: one announcement worded two ways
    assert not stories(unlinked_pairs=4)  # most: two events
