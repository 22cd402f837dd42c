"""Each cannot-link rule on the judged near-misses that called for it, and on a same-story
pair it must let through (bot.core.grouping.vetoes)."""

from __future__ import annotations

from bot.core.grouping.stats import CorpusStats
from bot.core.grouping.vetoes import (
    TEMPLATE_REST,
    follow_up_and_launch,
    foreign_names,
    money_disagrees,
    names_substituted,
    numbers_substituted,
    roundup_and_single,
    same_outlet_substitution,
    stages_differ,
    subjects_differ,
    unlinked_substitution,
    update_of_release,
    veto,
)
from tests.core.grouping.conftest import DAY, HOUR, T0, doc, learn


def test_money_in_both_headlines_that_disagrees() -> None:
    q4 = doc("Microsoft reports $38 billion in Q4 2020 revenue: Azure up 47%")
    q1 = doc("Microsoft reports $35.7 billion in Q1 2021 revenue: Azure up 48%")
    assert money_disagrees(q4, q1)
    zdnet = doc("Microsoft to hackers: Break our Azure Sphere Linux IoT OS and earn up to $100k")
    verge = doc("Microsoft offers $100,000 to hack its custom Linux OS")
    assert not money_disagrees(zdnet, verge)
    assert not money_disagrees(q4, doc("Microsoft just had a stellar three months"))


def test_a_number_in_each_headline_the_other_never_mentions() -> None:
    nc = doc("NC-series Azure Virtual Machines will be retired by 31 August 2022")
    classic = doc("Cloud Services (classic) deployment model is retiring on 31 August 2024")
    assert numbers_substituted(nc, classic)
    assert numbers_substituted(
        doc("Azure Sphere OS version 20.08 is now available"),
        doc("Azure Sphere OS update 20.09 is now available"),
    )
    # a number on one side only is an addition
    geekwire = doc("Microsoft signs Coca-Cola to 5-year cloud tech and business software deal")
    neowin = doc("Coca-Cola partners with Microsoft to use its cloud and AI services")
    assert not numbers_substituted(geekwire, neowin)
    # a number the other article mentions in its excerpt is no substitution
    assert not numbers_substituted(
        doc("Azure ND A100 v4 instances generally available"),
        doc("Microsoft Azure launches A100 supercomputing", "Azure ND A100 v4 instances"),
    )


def test_template_press_release(stats: CorpusStats) -> None:
    datavisor = doc(
        "DataVisor Now Available in the Microsoft Azure Marketplace",
        "DataVisor, the leading fraud detection company, announced it.",
    )
    ebao = doc(
        "eBaoCloud InsureMO is Now Available in the Microsoft Azure Marketplace",
        "eBaoTech Corporation announced the availability of eBaoCloud InsureMO.",
    )
    learn(stats, datavisor, ebao)
    assert names_substituted(datavisor, ebao, stats)
    assert veto(datavisor, ebao, stats) == "names"


def test_two_subjects_opening_their_headlines(stats: CorpusStats) -> None:
    viasat = doc(
        "Viasat Real-Time Earth Ground Service Available via Microsoft Azure Orbital",
        "The company Viasat said its ground service joins Azure Orbital.",
    )
    ses = doc(
        "SES Becomes Microsoft Azure Orbital Founding Connectivity Partner",
        "The operator SES joined as partner for Azure Orbital.",
    )
    learn(stats, viasat, ses)
    assert names_substituted(viasat, ses, stats)


def test_details_named_in_reworded_reports_are_no_template(stats: CorpusStats) -> None:
    itpro = doc(
        "Microsoft offers hackers $100K to break Azure Sphere",
        "The company built Sphere for devices; Sphere runs on chips.",
    )
    cnet = doc(
        "Microsoft offers bug hunters $100K to hack its Linux smart home software",
        "A custom version of Linux, and Linux powers it.",
    )
    learn(stats, itpro, cnet)
    assert stats.is_name("sphere") and stats.is_name("linux")
    assert not names_substituted(itpro, cnet, stats)


def test_preview_and_general_availability() -> None:
    ga = doc("Azure Arc enabled servers are now generally available")
    preview = doc("Azure Arc enabled data services now in preview")
    assert stages_differ(ga, preview)
    assert not stages_differ(preview, doc("Microsoft debuts Azure Arc data services"))


def test_roundup_never_joins_a_single_story() -> None:
    roundup = doc("The top Azure announcements from Microsoft Build 2020")
    single = doc("Microsoft Builds Massive Supercomputer For OpenAI")
    assert roundup_and_single(roundup, single)
    assert not roundup_and_single(single, doc("Microsoft built a top supercomputer for OpenAI"))


def test_one_outlet_two_subjects(stats: CorpusStats) -> None:
    arc = doc(
        "Microsoft’s Azure Arc multi-cloud platform now supports machine learning",
        "With Azure Arc, customers run Azure anywhere.",
        domain="techcrunch.com",
    )
    cassandra = doc(
        "Microsoft Azure expands its NoSQL portfolio with Apache Cassandra",
        "A managed Apache Cassandra, rival to Cassandra vendors.",
        domain="techcrunch.com",
    )
    learn(stats, arc, cassandra)
    assert same_outlet_substitution(arc, cassandra, stats)
    elsewhere = doc(cassandra.item.title, cassandra.item.excerpt, domain="zdnet.com")
    assert not same_outlet_substitution(arc, elsewhere, stats)


def test_two_events_of_one_affair_without_evidence_of_their_own(stats: CorpusStats) -> None:
    watchdog = doc(
        "Pentagon watchdog clears Microsoft’s $10 billion JEDI win over Amazon",
        "The Defense Department’s watchdog found no evidence of bias.",
    )
    judge = doc(
        "U.S. judge puts Amazon challenge to Pentagon JEDI contract on hold",
        "A U.S. judge on Friday put on hold a suit by Amazon.",
    )
    learn(stats, watchdog, judge)
    assert veto(watchdog, judge, stats) is None  # no veto of its own ...
    assert unlinked_substitution(watchdog, judge, stats)  # ... but a substitution
    assert not unlinked_substitution(watchdog, doc(watchdog.item.title), stats)


def test_one_outlet_writes_its_two_subjects_in_capitals(stats: CorpusStats) -> None:
    # Common words, but written as names in their own articles: two services, one template.
    insight = doc(
        "General availability: Application Insight in Germany West Central, UAE North",
        "Application Insight, a part of Azure Monitor, is now generally available in Germany "
        "West Central and UAE North.",
        domain="microsoft.com",
    )
    analytics = doc(
        "General availability: Azure Log Analytics in Germany West Central, UAE North",
        "Log Analytics, a feature of Azure Monitor, is now generally available for customers.",
        domain="microsoft.com",
    )
    assert same_outlet_substitution(insight, analytics, stats)
    assert veto(insight, analytics, stats) == "outlet"
    # One outlet's blog post and update notice on one preview: a word on one side only.
    update = doc("Query Acceleration for Azure Data Lake Storage now in preview", domain="ms.com")
    blog = doc(
        "Optimize cost and performance with Query Acceleration for Azure Data Lake Storage",
        "Query Acceleration for Azure Data Lake Storage, now in preview, filters data.",
        domain="ms.com",
    )
    assert not same_outlet_substitution(update, blog, stats)
    # A report and its root cause: ordinary words on one side, a name on the other only.
    down = doc("Microsoft Cloud services were down for some users", domain="zdnet.com")
    cause = doc(
        "Microsoft: Here's what caused our Azure cloud-computing outage", domain="zdnet.com"
    )
    assert not same_outlet_substitution(down, cause, stats)


def test_a_release_stage_is_no_name(stats: CorpusStats) -> None:
    dcd = doc(
        "Azure Government Top Secret now generally available for US national security missions",
        "Azure Government Top Secret serves the US intelligence community.",
    )
    redmond = doc(
        "Microsoft 'Azure Government Top Secret' Goes GA",
        "Microsoft said its Top Secret cloud is GA, for the US national security community.",
        domain="redmondmag.com",
    )
    learn(stats, dcd, redmond)
    assert stats.is_rare("ga") and stats.is_name("ga")
    assert "ga" not in foreign_names(redmond, dcd, stats)
    assert stages_differ(dcd, redmond) is False  # both say GA: the stage rule agrees


def test_reworded_reports_have_words_of_their_own_on_both_sides(stats: CorpusStats) -> None:
    for _ in range(20):  # as in Azure news, where these words are everywhere
        learn(stats, doc("Microsoft announces plans for cloud region expansion"))
    dcd = doc(
        "Microsoft announces new Azure China data center region in Hebei",
        "The region, in Hebei province, opens in 2022.",
        domain="datacenterdynamics.com",
    )
    dck = doc(
        "Microsoft Azure Plans New China Data Centers in Asia Cloud Expansion",
        "Microsoft is adding capacity in Asia with a region in northern China.",
        domain="datacenterknowledge.com",
    )
    learn(stats, dcd, dck)
    hebei, asia = foreign_names(dcd, dck, stats), foreign_names(dck, dcd, stats)
    assert hebei == ["hebei"] and asia == ["asia"]
    rest = dcd.f.title_words - {"hebei"}, dck.f.title_words - {"asia"}
    assert stats.cosine(*rest) >= TEMPLATE_REST  # alike by weight: China, data center ...
    assert not names_substituted(dcd, dck, stats)  # ... but reworded: no form
    # A filled-in form: one headline's words, its names apart, all in the other's (one word
    # of slack).
    healthper = doc(
        "Healthper USA, Inc. Now Available in the Microsoft Azure Marketplace",
        "Healthper announced its platform on the marketplace.",
        domain="pr.com",
    )
    ebao = doc(
        "eBaoCloud InsureMO is Now Available in the Microsoft Azure Marketplace",
        "eBaoTech Corporation announced the availability of eBaoCloud InsureMO.",
        domain="prnewswire.com",
    )
    learn(stats, healthper, ebao)
    assert names_substituted(healthper, ebao, stats)


def test_an_events_own_words_stay_rare_in_a_young_corpus(stats: CorpusStats) -> None:
    # The coverage of an event makes its words frequent while the corpus is young (Poland in
    # 7 of about 250 articles, over 1%): still rare, so two events a third article links stay
    # apart ("Microsoft Cloud Regions Planned For New Zealand, Poland").
    for _ in range(20):
        learn(stats, doc("Microsoft invests and lands new cloud"))
    poland = doc("Microsoft invests in Poland")
    zealand = doc("Microsoft lands in New Zealand")
    for _ in range(6):
        learn(stats, poland, zealand)
    assert stats.df["poland"] > 0.01 * stats.n and stats.is_rare("poland")
    assert unlinked_substitution(poland, zealand, stats)
    assert not unlinked_substitution(poland, doc("Microsoft to invest in Poland"), stats)


def test_figures_are_no_substitution() -> None:
    # a count or an amount is one of many figures a report picks from
    release = doc("Nutanix .NEXT 2020: HCI Clusters Are Now Available on Microsoft Azure")
    listicle = doc("Nutanix On Microsoft Azure: 5 Big Things You Should Know")
    assert not numbers_substituted(release, listicle)
    remand = doc("Judge Grants DoD’s Request for 120-Day Remand to Review JEDI Contract Award")
    hold = doc("Judge puts Amazon's lawsuit challenging the $10 billion cloud contract on hold")
    assert not numbers_substituted(remand, hold)
    # versions after a name are no figures: two features of one day's notices
    citus = doc("Hyperscale (Citus): Support for Citus 10 now generally available")
    postgres = doc("Hyperscale (Citus): PostgreSQL 12 & 13 now generally available")
    assert numbers_substituted(citus, postgres)
    assert numbers_substituted(doc("Latest AZ-220 PDF and dumps"), doc("Official AI-900 dumps"))


def test_a_word_in_two_percent_of_a_grown_corpus_is_no_events_own() -> None:
    zdnet = doc("Microsoft Cloud services are down for some users")
    local = doc("Microsoft Azure outage affects Xbox Live")
    common = {w: 900 for w in zdnet.f.words | local.f.words}
    df = {**common, "down": 51, "xbox": 5}  # of 4,000: the April 1, 2021 outage
    stats = CorpusStats.from_dict({"n": 4000, "df": df, "capitals": {}, "lower": {}})
    assert not unlinked_substitution(zdnet, local, stats)
    stats = CorpusStats.from_dict(
        {"n": 4000, "df": {**df, "down": 12}, "capitals": {}, "lower": {}}
    )
    assert unlinked_substitution(zdnet, local, stats)  # a dozen: its own, however large the corpus


def test_the_excerpt_tells_the_stage_a_headline_leaves_out() -> None:
    double = doc(
        "Infrastructure double encryption for Azure Database for PostgreSQL-single server is in "
        "preview",
        "Infrastructure double encryption adds a second layer of encryption.",
    )
    keys = doc(
        "Data encryption with customer managed keys for Azure DB for PostgreSQL-single server",
        "Data encryption with customer-managed keys for Azure Database for PostgreSQL-single "
        "server (generally available) enables you to bring your own key.",
    )
    assert stages_differ(double, keys)
    # an excerpt naming both stages says nothing
    both = doc(keys.item.title, "Purview enters preview, and Synapse is generally available.")
    assert not stages_differ(double, both)


def test_a_follow_up_is_not_the_launch() -> None:
    launch = doc("Microsoft Azure IoT Connector for FHIR now in preview", domain="microsoft.com")
    regions = doc(
        "Additional Azure regions for IoT Connector for Azure API for FHIR (preview)",
        domain="microsoft.com",
        at=T0 + 5 * DAY,
    )
    assert follow_up_and_launch(launch, regions)
    assert follow_up_and_launch(
        doc("Public preview: Azure Database for PostgreSQL – Flexible Server now connects"),
        doc(
            "Azure Database for PostgreSQL - Flexible Server (public preview) available in new"
            " regions"
        ),
    )
    assert veto(launch, regions, CorpusStats()) == "follow-up"
    # a new region of a cloud is a launch, and "additional services" an item of a list
    assert not follow_up_and_launch(
        doc("Expanding cloud services: Microsoft launches its sustainable datacenter region"),
        doc("Microsoft Azure available from new cloud regions in Arizona"),
    )
    assert not follow_up_and_launch(
        doc("Azure IRAP has assessed seven additional services and granted them PROTECTED"),
        doc("Slew of Azure services granted ‘protected’ IRAP clearance"),
    )
    assert not follow_up_and_launch(
        doc("Microsoft to add new cloud regions in Italy, New Zealand and Poland"),
        doc("Microsoft to invest $1.5 billion in Italy, new datacenter region coming"),
    )


def test_an_update_of_a_release_is_another_release() -> None:
    update = doc("Azure Sphere OS version 20.12 Update 1 is now available for evaluation")
    release = doc("Azure Sphere OS version 20.12 is now available", at=T0 + 6 * DAY)
    assert update_of_release(update, release)
    assert veto(update, release, CorpusStats()) == "update"
    # two reports of one release name the same update (or none)
    assert not update_of_release(
        update, doc("Azure Sphere 20.12 Update 1 now available for evaluation")
    )
    assert not update_of_release(release, doc("Microsoft releases Azure Sphere OS 20.12"))
    # "update 20.08" is the version itself, no update number
    assert not update_of_release(
        doc("Azure Sphere OS update 20.08 is now available"),
        doc("Azure Sphere OS version 20.08 is now available"),
    )


def test_partners_of_one_launch_have_their_own_subjects(stats: CorpusStats) -> None:
    onfido = doc(
        "Onfido Partners with Microsoft on Azure Active Directory Verifiable Credentials",
        "Onfido, the identity verification company, today announced it.",
    )
    socure = doc(
        "Socure to Provide Identity Verification for Microsoft Azure Active Directory"
        " Verifiable Credentials",
        "Socure, a provider of digital identity verification, announced.",
        at=T0 + 12 * HOUR,
    )
    learn(stats, onfido, socure)
    assert subjects_differ(onfido, socure, stats)
    # one event's reports open with its subject, or with ordinary words
    geekwire = doc("Onfido teams up with Microsoft on verifiable credentials")
    assert not subjects_differ(onfido, geekwire, stats)
    critical = doc(
        "Critical Cosmos Database Flaw Affected Thousands of Azure Customers",
        "Researchers found a critical flaw.",
    )
    chaos = doc(
        "ChaosDB Vulnerability Exposes Thousands of Microsoft Azure Databases",
        "Wiz found a flaw in Cosmos DB.",
    )
    learn(stats, critical, chaos)
    assert not subjects_differ(chaos, critical, stats)  # "critical" is a word, no name
    # a headline opening with a stop word ("US") names its subject later, or not at all
    pentagon = doc("Pentagon's inspector general says Microsoft's JEDI cloud win should stand")
    us_ig = doc("US Department of Defense Inspector General finds no issues in JEDI contract")
    learn(stats, pentagon, us_ig)
    assert not subjects_differ(pentagon, us_ig, stats)
