"""Cannot-link rules: two articles that one of these separates are never one story, whatever
else they share (and no story may hold two such articles: see :mod:`.cluster`).

Real news is full of near-misses that share most of their words: template press releases,
retirement notices cut from one form, the same product's preview and general availability,
quarterly results of two quarters, the launch and its follow-up, two partners of one launch.
Each rule below names the judged pairs that called for it (set B:
``/work/shared/judged/azure-story-pairs-dev.json``; the own and held-out sets under
``bench/judged/``).
"""

from __future__ import annotations

import re

from bot.core.grouping.evidence import RARE_NAME_FRACTION, RARE_NAME_MIN_DF
from bot.core.grouping.model import Doc
from bot.core.grouping.stats import RARE_MIN_DF, CorpusStats
from bot.core.grouping.text import stem


def money_disagrees(a: Doc, b: Doc) -> bool:
    """Both headlines name amounts of money, and none of one is among the other's.

    "Microsoft reports $38 billion in Q4 2020 revenue" / "... $35.7 billion in Q1 2021 revenue"
    (two quarters, one outlet's template). "$100k" / "$100,000" agree (read as values).
    """
    ma, mb = a.f.title_money, b.f.title_money
    return bool(ma and mb and not (ma & b.f.money) and not (mb & a.f.money))


def numbers_substituted(a: Doc, b: Doc) -> bool:
    """Each headline has a number the other article never mentions, and not a figure.

    "NC-series ... retired by 31 August 2022" / "Cloud Services (classic) ... retiring on
    31 August 2024"; "Azure Sphere OS version 20.08" / "update 20.09"; "CVE-2020-8559" /
    "CVE-2020-8557"; "AZ-300 Exam Dumps" / "AZ-500 Exam Dumps". A number on one side only is an
    addition, not a substitution ("Microsoft signs Coca-Cola to 5-year cloud deal" / "Coca-Cola
    partners with Microsoft", judged one story). A figure (a count, a share: a whole number
    outside a code, and no year) is one of many a report picks from, and names no event:
    "Nutanix .NEXT 2020: HCI Clusters Are Now Available on Microsoft Azure" / "Nutanix On
    Microsoft Azure: 5 Big Things You Should Know"; "Judge Grants DoD’s Request for 120-Day
    Remand ..." / "Judge puts Amazon's lawsuit ... $10 billion cloud contract ... on hold" (each
    judged one story; amounts of money have their own rule, :func:`money_disagrees`).
    """
    return bool(a.f.title_ids - b.f.numbers) and bool(b.f.title_ids - a.f.numbers)


# Stems of the words that name a release stage: the stage rule weighs them, and "Goes GA" is
# no name ("Azure Government Top Secret now generally available for US national security
# missions" / "Microsoft 'Azure Government Top Secret' Goes GA", judged one story).
STAGE_WORDS = frozenset({"ga", "preview", "beta"})


def foreign_names(a: Doc, b: Doc, stats: CorpusStats) -> list[str]:
    """Rare name-like words of ``a``'s headline that ``b`` never mentions."""
    return [
        w
        for w in a.f.title_words - b.f.words
        if w not in STAGE_WORDS and stats.is_rare(w) and stats.is_name(w)
    ]


TEMPLATE_REST = 0.6  # headlines alike beyond their names: one template ...
TEMPLATE_SLACK = 1  # ... and one's other words all in the other headline, but for this many


def names_substituted(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """The template press release: each headline has a rare name the other article never
    mentions, and the rest of the two headlines is alike (IDF cosine at least
    ``TEMPLATE_REST``): "DataVisor Now Available in the Microsoft Azure Marketplace" /
    "eBaoCloud InsureMO is Now Available ..."; "Kratos Collaborates with Microsoft ... Azure
    Orbital" / "AMERGINT Collaborates with Microsoft ...".

    Two outlets reporting one event also name details the other leaves out ("Microsoft offers
    hackers $100K to break Azure Sphere" / "... $100K to hack its Linux smart home software";
    "... data center region in Hebei" / "... China Data Centers in Asia"), but there the rest
    of the headlines differs too: they are reworded, not filled-in forms. A form's other words
    are the form's: one headline's words, its names apart, are all in the other headline (but
    for ``TEMPLATE_SLACK``: "SymphonyCare WellStack Now Available ..." / "Cloud Data Analytics
    Platform Teradata Vantage Now Available ..."), where a reworded report has words of its own
    on both sides, however alike by weight ("Microsoft announces new Azure China data center
    region in Hebei" / "Microsoft Azure Plans New China Data Centers in Asia Cloud Expansion";
    "SolarWinds hackers downloaded some Microsoft source code for Azure, Exchange, and Intune" /
    "Microsoft Affirms Solorigate Attackers Saw Azure, Intune and Exchange Source Code", each
    judged one story). Two headlines that each *open* with their foreign name have two subjects
    whatever follows ("Viasat Real-Time Earth Ground Service Available via Microsoft Azure
    Orbital" / "SES Becomes Microsoft Azure Orbital Founding Connectivity Partner").
    """
    fa, fb = foreign_names(a, b, stats), foreign_names(b, a, stats)
    if not fa or not fb:
        return False
    if a.f.lead in fa and b.f.lead in fb:
        return True  # each headline opens with its own subject
    rest_a, rest_b = a.f.title_words - set(fa), b.f.title_words - set(fb)
    if stats.cosine(rest_a, rest_b) < TEMPLATE_REST:
        return False
    own_a, own_b = rest_a - b.f.title_words, rest_b - a.f.title_words
    return min(len(own_a), len(own_b)) <= TEMPLATE_SLACK


def stages_differ(a: Doc, b: Doc) -> bool:
    """One article says preview (or beta), the other general availability: two stories of
    one product ("Azure Arc enabled servers are now generally available" / "Azure Arc enabled
    data services now in preview"; "Query Acceleration ... now in preview" / "... is now
    generally available"). The headline says it, or else the excerpt: "Infrastructure double
    encryption for Azure Database for PostgreSQL-single server is in preview" / "Data
    encryption with customer managed keys for Azure DB for PostgreSQL-single server", whose
    excerpt says "(generally available)", the same minute (judged two stories)."""
    return a.f.stage is not None and b.f.stage is not None and a.f.stage != b.f.stage


def roundup_and_single(a: Doc, b: Doc) -> bool:
    """A roundup never joins a single story it lists ("The top Azure announcements from
    Microsoft Build 2020" / "Microsoft Builds Massive Supercomputer For OpenAI"; "Microsoft
    Updates Teams Video Conferencing, Verizon Buys BlueJeans, More News" / "Verizon acquires
    BlueJeans ..."): joined, it would pull every story it lists into one."""
    return a.f.roundup != b.f.roundup


def same_outlet_substitution(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """Within one outlet, each headline has a name the other article never mentions: one
    outlet does not report one event twice under two subjects ("Microsoft’s Azure Arc
    multi-cloud platform now supports machine learning workloads" / "Microsoft Azure expands
    its NoSQL portfolio with Managed Instances for Apache Cassandra", TechCrunch, the same
    minute; "Azure Database for MariaDB: Planned Maintenance Notifications ..." / "Azure
    Database for MySQL ...", microsoft.com). Its own article listed twice keeps its names, and
    two angles on one event ("FedEx Teams Up With Microsoft to Fight Amazon" / "FedEx Is Using
    Microsoft's A.I. Tools to Speed Up Package Delivery", Barron's) differ in words, not names.
    (A direct link within one outlet also needs alike headlines: :mod:`.evidence`.)

    A name here is a rare name of the corpus, or a word the article itself writes as a name
    (capitalised mid-sentence, or shaped as one): an outlet's products are often named with
    common words, which the corpus mostly writes in lower case, and its notices use them
    again and again ("General availability: Application Insight in Germany West Central ..."
    / "General availability: Azure Log Analytics in Germany West Central ...", the same
    minute; "We’re retiring Network Performance Monitor on 29 February 2024" / "We’re retiring
    Classic Application Insights on 29 February 2024"; "Azure SQL—public preview updates for
    April 2021" / "Azure Security Center: Public preview updates for April 2021", each judged
    two stories). A blog post and the update notice of one preview have ordinary words of
    their own, not names ("Optimize cost and performance with Query Acceleration ..." /
    "Query Acceleration ... now in preview", judged one story).
    """
    if not a.domain or a.domain != b.domain:
        return False
    return bool(_outlet_names(a, b, stats)) and bool(_outlet_names(b, a, stats))


def _outlet_names(a: Doc, b: Doc, stats: CorpusStats) -> list[str]:
    """Names of ``a``'s headline (its own, or rare ones of the corpus) ``b`` never mentions."""
    capitals = set(a.f.capitals)
    return [
        w
        for w in a.f.title_words - b.f.words
        if w not in STAGE_WORDS and (w in capitals or (stats.is_rare(w) and stats.is_name(w)))
    ]


CROSS_RARE_FRACTION = 0.01  # a word in under 1% of the articles (or a dozen): an event's own


def _foreign_rare(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    limit = max(RARE_MIN_DF, CROSS_RARE_FRACTION * stats.n)
    return any(stats.df.get(w, 0) <= limit for w in a.f.title_words - b.f.words)


def unlinked_substitution(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """For two articles that only a third links (no evidence of their own joins them): each
    headline has a word in under 1% of the articles (or in a dozen at most) that the other
    article never mentions.
    "Pentagon watchdog clears Microsoft's $10 billion JEDI win over Amazon" / "U.S. judge puts
    Amazon challenge to Pentagon JEDI contract on hold" (two events of one affair, that "JEDI
    war continues for Amazon, Microsoft" would chain); "Microsoft to invest $1 billion in
    Poland" / "Microsoft lands public cloud in New Zealand with new datacenter region" (that
    "Microsoft Cloud Regions Planned For New Zealand, Poland" would chain). Reworded reports of
    one event are spared where their own evidence links them. An event's own word is rare
    though its coverage counts in its frequency: "Poland", in 9 of the first 589 articles when
    the two stories met, is as much Poland's own as it will be among 5,000 (the share alone, 1%,
    let the two regions chain); a word in 2% of them is no event's own ("down", in 51 of 4,000:
    "Microsoft Cloud services are down for some users" is the April 1, 2021 outage that
    "Microsoft Azure outage affects XBox Live and more across US" reports).
    """
    return _foreign_rare(a, b, stats) and _foreign_rare(b, a, stats)


# A headline that reports a follow-up of an earlier launch: more regions, or an addition to an
# earlier notice ("Additional Azure SQL Database gateways changes ...").
_FOLLOW_UP = re.compile(
    r"^additional\b|\badditional (?:\w+ )?regions?\b|"
    r"\b(?:in|to) (?:(?:\d+|two|three|four|five|six|seven|eight|nine|ten) )?"
    r"(?:new|more|additional) (?:\w+ )?regions\b",
    re.IGNORECASE,
)


def is_follow_up(title: str) -> bool:
    """Whether a headline reports an expansion of something launched before: "Additional Azure
    regions for IoT Connector for Azure API for FHIR (preview)", "... (public preview)
    available in new regions", "Additional Azure SQL Database gateways changes ...". A new
    region of a cloud is a launch ("Microsoft Azure available from new cloud regions in
    Arizona"), and "seven additional services" an item of a list: neither is a follow-up."""
    return bool(_FOLLOW_UP.search(title))


def follow_up_and_launch(a: Doc, b: Doc) -> bool:
    """One headline reports a follow-up (:func:`is_follow_up`), the other does not: the launch
    and its expansion days later are two items ("Microsoft Azure IoT Connector for FHIR now in
    preview" / "Additional Azure regions for IoT Connector for Azure API for FHIR (preview)",
    five days apart; "Azure SQL Database gateways changes effective September 2020" /
    "Additional Azure SQL Database gateways changes effective September 10, 2020"; "Public
    preview: Azure Database for PostgreSQL – Flexible Server now connects with Azure CLI" /
    "... Flexible Server (public preview) available in new regions", each judged two
    stories)."""
    return is_follow_up(a.item.title) != is_follow_up(b.item.title)


_UPDATE = re.compile(r"\b(?:update|patch|hotfix|refresh)\s+(\d+)(?![.,]?\d)", re.IGNORECASE)


def update_of_release(a: Doc, b: Doc) -> bool:
    """Both headlines name one release (a version number they share, no figure) and different
    updates of it ("Update 1" against none): "Azure Sphere OS version 20.12 Update 1 is now
    available for evaluation" / "Azure Sphere OS version 20.12 is now available", six days
    apart (judged two stories: an update for evaluation and the release). Two reports of one
    release name the same update, or none."""
    ua = {m.group(1) for m in _UPDATE.finditer(a.item.title)}
    ub = {m.group(1) for m in _UPDATE.finditer(b.item.title)}
    return ua != ub and bool((a.f.title_ids & b.f.title_ids) - ua - ub)


_FIRST_WORD = re.compile(r"[^\W_]+")


def _subject(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """``a``'s headline opens with a very rare word (as rare as the names of
    :func:`.evidence.shares_rare_name`) that ``b`` never mentions, and no stage word. A
    headline opening with a stop word names no subject first: "US Department of Defense
    Inspector General finds no issues in Microsoft JEDI cloud contract" opens with a place, and
    its agency is the one "Pentagon's inspector general says Microsoft's JEDI cloud win should
    stand" names otherwise (judged one story)."""
    lead = a.f.lead
    limit = max(RARE_NAME_MIN_DF, RARE_NAME_FRACTION * stats.n)
    first = _FIRST_WORD.search(a.item.title)
    return (
        first is not None
        and stem(first.group(0).lower()) == lead
        and lead not in b.f.words
        and lead not in STAGE_WORDS
        and not any(c.isdigit() for c in lead)
        and stats.df.get(lead, 0) <= limit
    )


def _name_evidence(word: str, stats: CorpusStats) -> bool:
    """Never written in lower case more often than capitalised (a new company's name has no
    evidence either way: "Onfido", "Socure")."""
    return stats.lower.get(word, 0) <= stats.capitals.get(word, 0)


def subjects_differ(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """Partners of one launch: each headline opens with its own subject, a very rare word the
    other article never mentions, and both are names (never written in lower case more often
    than capitalised). "Onfido Partners with Microsoft on Azure Active Directory
    Verifiable Credentials" / "Socure to Provide Identity Verification for Microsoft Azure
    Active Directory Verifiable Credentials"; "IFI Techsolutions Recognized as a Finalist ... Partner of the
    Year" / "Axilion Smart Mobility recognized as the finalist ..." (each judged two stories).
    Reports of one event open with its subject, or with ordinary words ("ChaosDB Vulnerability
    Exposes Thousands of Microsoft Azure Databases" / "Critical Cosmos Database Flaw Affected
    Thousands ...", judged one story: "critical" is a word). "Principled Technologies Releases
    Two Studies ... 3rd Generation Intel Xeon ..." opens with a word too, and stays with
    "DataON announces new DataON Integrated Systems ... 3rd Generation Intel® Xeon® ..." (judged
    two stories; left for now)."""
    if not (_subject(a, b, stats) and _subject(b, a, stats)):
        return False
    return _name_evidence(a.f.lead, stats) and _name_evidence(b.f.lead, stats)


def veto(a: Doc, b: Doc, stats: CorpusStats) -> str | None:
    """The first rule that keeps ``a`` and ``b`` apart, by name, or None."""
    if roundup_and_single(a, b):
        return "roundup"
    if stages_differ(a, b):
        return "stage"
    if money_disagrees(a, b):
        return "money"
    if numbers_substituted(a, b):
        return "numbers"
    if names_substituted(a, b, stats):
        return "names"
    if same_outlet_substitution(a, b, stats):
        return "outlet"
    if follow_up_and_launch(a, b):
        return "follow-up"
    if update_of_release(a, b):
        return "update"
    if subjects_differ(a, b, stats):
        return "subjects"
    return None
