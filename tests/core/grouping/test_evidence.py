"""Each kind of evidence, on judged pairs (bot.core.grouping.evidence)."""

from __future__ import annotations

from bot.core.grouping.evidence import ACCEPT, W_KIND, W_NAME, W_SHORT, evidence
from bot.core.grouping.stats import CorpusStats
from tests.core.grouping.conftest import DAY, HOUR, T0, doc, learn


def test_reworded_headlines_by_cosine(stats: CorpusStats) -> None:
    crn = doc("Microsoft Acquires ADRM To Create Intelligent Data Lake In Azure", domain="crn.com")
    e2e = doc(
        "Microsoft Acquires ADRM for Azure Cloud, Intelligent Data Lakes", domain="channele2e.com"
    )
    learn(stats, crn, e2e)
    ev = evidence(crn, e2e, stats)
    assert ev.title_cosine > 0.6
    assert ev.accepted


def test_headline_covered_by_the_other_text(stats: CorpusStats) -> None:
    cnbc = doc(
        "Microsoft launches Cloud for Healthcare",
        "Microsoft’s first industry cloud is for hospitals and health systems.",
        domain="cnbc.com",
    )
    zdnet = doc(
        "Microsoft announces first vertical cloud offering",
        "Microsoft launches Cloud for Healthcare, bundling Teams and Azure for hospitals.",
        domain="zdnet.com",
    )
    learn(stats, cnbc, zdnet)
    ev = evidence(cnbc, zdnet, stats)
    assert ev.cover_a > 0.9 > ev.title_cosine
    assert ev.accepted


def test_whole_texts_alike(stats: CorpusStats) -> None:
    excerpt = (
        "Microsoft and FedEx will develop logistics and commerce services under a "
        "multiyear partnership to compete with Amazon."
    )
    a = doc("FedEx and Microsoft form a new partnership", excerpt, domain="fool.com")
    b = doc("Microsoft teams up against Amazon", excerpt, domain="geekwire.com")
    learn(stats, a, b)
    ev = evidence(a, b, stats)
    assert ev.text_cosine > 0.7
    assert ev.accepted


def test_short_article_fully_covered(stats: CorpusStats) -> None:
    update = doc("Query Acceleration for Azure Data Lake Storage now in preview")
    blog = doc(
        "Optimize cost and performance with Query Acceleration",
        "Query Acceleration for Azure Data Lake Storage, now in preview, filters data.",
        domain="azure.microsoft.com",
    )
    learn(stats, update, blog)
    ev = evidence(update, blog, stats)
    assert ev.short_covered
    longer = doc(update.item.title, "An excerpt of its own about storage.")
    assert not evidence(longer, blog, stats).short_covered
    assert ev.score - evidence(longer, blog, stats).score > W_SHORT / 2


def test_shared_rare_name_within_a_day(stats: CorpusStats) -> None:
    a = doc("Microsoft acquires Kinvolk", "Microsoft said Kinvolk joins Azure.", at=T0)
    b = doc(
        "Kinvolk bought to boost containers",
        "The startup Kinvolk makes Flatcar.",
        domain="siliconangle.com",
        at=T0 + 10 * HOUR,
    )
    late = doc(b.item.title, b.item.excerpt, domain="other.com", at=T0 + 2 * DAY)
    learn(stats, a, b, late)
    near, far = evidence(a, b, stats), evidence(a, late, stats)
    assert near.shared_name and not far.shared_name
    assert abs(near.score - far.score - W_NAME) < 1e-9


def test_one_outlet_needs_alike_headlines(stats: CorpusStats) -> None:
    a = doc(
        "Azure SQL auditing of Microsoft operations is now in general availability",
        "Azure SQL auditing of Microsoft operations for Azure SQL Database is available.",
        domain="microsoft.com",
    )
    b = doc(
        "Azure SQL auditing to Log Analytics and Event Hub are now generally available",
        "Auditing for Azure SQL Database to Log Analytics and Event Hub is available.",
        domain="microsoft.com",
    )
    learn(stats, a, b)
    ev = evidence(a, b, stats)
    assert ev.score >= ACCEPT  # alike enough between two outlets ...
    assert not ev.accepted  # ... not within one: one outlet words one event alike
    elsewhere = doc(b.item.title, b.item.excerpt, domain="zdnet.com")
    assert evidence(a, elsewhere, stats).accepted


def test_unrelated_articles_are_not_linked(stats: CorpusStats) -> None:
    a = doc("Microsoft targets health-care industry with new cloud offering")
    b = doc("Microsoft builds OpenAI’s dream system, an Azure supercomputer", domain="geekwire.com")
    learn(stats, a, b)
    assert not evidence(a, b, stats).supports


def test_one_companys_results_the_same_day(stats: CorpusStats) -> None:
    mspu = doc(
        "Microsoft Q3 FY20 Earnings: Azure cloud services revenue grew 59%",
        "Microsoft today announced FY20 Q3 earnings results.",
        domain="mspoweruser.com",
        at=T0,
    )
    seattle = doc(
        "Microsoft weathers the coronavirus storm as earnings rise on cloud business",
        "Analysts expected as much, and the stock is near its high.",
        domain="seattletimes.com",
        at=T0 + HOUR,
    )
    learn(stats, mspu, seattle)
    ev = evidence(mspu, seattle, stats)
    assert ev.same_kind and ev.accepted
    assert ev.score - W_KIND < ACCEPT  # the kind made it
    # Two days later, it could be another company's day or a week's commentary.
    later = doc(seattle.item.title, seattle.item.excerpt, "seattletimes.com", T0 + 2 * DAY)
    assert not evidence(mspu, later, stats).same_kind
    # A preview is no report of the results.
    preview = doc("Microsoft Reports Earnings Today. Here’s What to Expect", at=T0 - 8 * HOUR)
    assert not evidence(mspu, preview, stats).same_kind
    # Another company's results the same day: no name in common.
    google = doc("Google Cloud revenue rises 52% as tech giant tempers hiring", at=T0)
    assert not evidence(mspu, google, stats).same_kind


def test_one_outage_worded_two_ways(stats: CorpusStats) -> None:
    marketwatch = doc(
        "Microsoft Office 365, Azure plagued by disruptions for hours",
        "Microsoft on Monday suffered disruptions with Office 365 and its Azure cloud.",
        domain="marketwatch.com",
        at=T0,
    )
    mybroadband = doc(
        "Microsoft cloud services suffer global outage",
        "Microsoft suffered an outage which brought down Teams, Outlook, and Office 365.",
        domain="mybroadband.co.za",
        at=T0 + 4 * HOUR,
    )
    learn(stats, marketwatch, mybroadband)
    ev = evidence(marketwatch, mybroadband, stats)
    assert ev.same_kind and ev.accepted
    results = doc("Microsoft cloud strength drives quarter results", at=T0 + HOUR)
    assert not evidence(marketwatch, results, stats).same_kind  # another kind
