"""Words, numbers and amounts as grouping reads them (bot.core.grouping.text)."""

from __future__ import annotations

from bot.core.grouping.text import (
    KIND_OUTAGE,
    KIND_RESULTS,
    STAGE_GA,
    STAGE_PREVIEW,
    features,
    is_roundup,
    is_title_case,
    kinds,
    money,
    stage,
)


def test_entities_unescaped_and_possessives_dropped() -> None:
    f = features("Microsoft’s deal with AT&amp;T", "")
    assert {"microsoft", "att", "deal"} <= f.title_words
    assert "amp" not in f.title_words


def test_joined_words_split_and_kept_whole() -> None:
    joined = features("Microsoft targets health-care industry", "").title_words
    whole = features("Microsoft Cloud for Healthcare", "").title_words
    assert {"health", "care"} <= joined
    assert joined & whole == {"microsoft", "healthcar"}


def test_stop_words_out_and_stems_meet() -> None:
    a = features("Microsoft launches the Azure regions", "").title_words
    b = features("Microsoft launched an Azure region", "").title_words
    assert a == b
    assert "the" not in a


def test_money_read_as_values() -> None:
    assert money("earn up to $100k") == money("offers $100,000 to hack") == {100000.0}
    assert money("$38 billion in Q4") == {38e9}
    assert money("$35.7 billion") != money("$38 billion")


def test_numbers_are_digits_only() -> None:
    f = features("Azure Sphere OS version 20.08 is now available, Q4 results, AZ-300", "")
    assert {"20.08", "q4", "300"} <= f.title_numbers
    assert features("Microsoft had a stellar three months", "").title_numbers == frozenset()


def test_joined_word_with_digits_is_no_number() -> None:
    f = features("Microsoft Azure launches Nvidia A100-powered instances", "")
    assert f.title_numbers == {"a100"}
    assert "a100powered" in f.title_words


def test_release_stage() -> None:
    assert stage("Azure Arc enabled servers are now generally available") == STAGE_GA
    assert stage("Azure Arc enabled data services now in preview") == STAGE_PREVIEW
    assert stage("General availability: Azure Communication Services") == STAGE_GA
    assert stage("Microsoft previews Azure Maps Creator") is None  # a verb, not a stage
    assert stage("Preview features reach general availability") is None  # both: no stage


def test_roundups() -> None:
    assert is_roundup("The top Azure announcements from Microsoft Build 2020")
    assert is_roundup("11 Top Azure Announcements From Microsoft Inspire 2021")
    assert is_roundup(
        "Microsoft Updates Teams Video Conferencing, Verizon Buys BlueJeans, More News"
    )
    assert is_roundup("Azure week in review")
    assert not is_roundup(
        "Microsoft builds OpenAI’s ‘dream system,’ an Azure supercomputer that ranks among top 5"
    )
    assert not is_roundup("Microsoft Azure outage: key takeaways")


def test_case_seen_mid_sentence_only() -> None:
    f = features(
        "Datadog pops after Microsoft Azure strategic partnership",  # sentence case: read too
        "Shares of Datadog rose. The deal gives Azure customers a monitoring tablet.",
    )
    assert "datadog" in f.capitals and "azur" in f.capitals
    assert "tablet" in f.lower
    assert "share" not in f.capitals  # the first word of a sentence says nothing


def test_title_case_headline_says_nothing_of_names_but_shapes_do() -> None:
    f = features("DataVisor Now Available In The Microsoft Azure Marketplace From AMERGINT", "")
    assert set(f.capitals) == {"datavisor", "amergint"}


def test_sentence_case_headline_full_of_names() -> None:
    # one ordinary word in lower case ("retiring") shows the capitals are the writer's
    title = "We’re retiring Network Performance Monitor on 29 February 2024"
    assert not is_title_case(title)
    assert {"network", "perform", "monitor"} <= set(features(title, "").capitals)
    assert is_title_case("Open Systems Acquires Microsoft Partner Born in the Cloud")
    assert is_title_case("FedEx Teams Up With Microsoft to Fight Amazon")  # short words aside


def test_billions_abbreviated_bln() -> None:
    assert money("Microsoft To Invest $1 Bln In Poland Cloud") == money(
        "Microsoft to invest $1 billion in Poland: statement"
    )
    assert money("Microsoft to invest $1 bln") == {1e9}
    assert money("$35.7 billion in Q1") != money("$1 bln")


def test_kinds_of_event_a_headline_reports() -> None:
    assert kinds("Microsoft cloud strength drives second quarter results") == {KIND_RESULTS}
    assert kinds("Microsoft (MSFT) Q2 Earnings Beat, Azure & Gaming Aid Top Line") == {KIND_RESULTS}
    assert kinds("Microsoft cloud services suffer global outage") == {KIND_OUTAGE}
    assert kinds("Microsoft Cloud services were down for some users") == {KIND_OUTAGE}
    assert kinds("Microsoft Office 365, Azure plagued by disruptions for hours") == {KIND_OUTAGE}
    assert kinds("Microsoft Office 365, Azure Cloud Disrupted by Service Issues") == {KIND_OUTAGE}
    # a headline that looks ahead reports nothing yet
    assert not kinds("Microsoft Reports Earnings Today. Here’s What to Expect")
    assert not kinds("Will Azure & Teams Adoption Aid Microsoft (MSFT) Q3 Earnings?")
    assert not kinds("Microsoft And Amazon Pre-Earnings: A Look At The Numbers")
    assert not kinds("Microsoft down 3% in a week")  # no outage: a share price
    # an outage has no preview: "May" is no look ahead there
    assert kinds(
        "Microsoft Azure Outage: Services Mostly Restored But Some Users May Still Encounter Issues"
    ) == {KIND_OUTAGE}
    assert features("Microsoft cloud services suffer global outage", "").kinds == {KIND_OUTAGE}


def test_figures_are_told_from_numbers_that_name() -> None:
    def ids(title: str) -> set[str]:
        return set(features(title, "").title_ids)

    results = "Microsoft reports $35.0 billion in Q3 2020 revenue: Azure up 59%, Surface up 1%"
    assert ids(results) == {"q3", "2020"}  # shares and amounts are figures
    assert "59" in features(results, "").title_numbers  # still numbers
    assert ids("Nutanix On Microsoft Azure: 5 Big Things You Should Know") == set()
    assert ids("Latest AZ-220 PDF and dumps") == {"220"}  # in a code
    assert ids("Azure Sphere OS version 20.08 is now available") == {"20.08"}
    # after a name, in a headline whose capitals are the writer's: a version
    assert ids("Hyperscale (Citus): PostgreSQL 12 & 13 now generally available") == {"12"}
    assert ids("Microsoft Reports Quarterly Revenue Grew 59%") == set()  # Title Case: no telling
