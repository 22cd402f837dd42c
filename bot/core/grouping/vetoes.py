"""Cannot-link rules: two articles that one of these separates are never one story, whatever
else they share (and no story may hold two such articles: see :mod:`.cluster`).

Real news is full of near-misses that share most of their words: template press releases,
retirement notices cut from one form, the same product's preview and general availability,
quarterly results of two quarters. Each rule below names the judged pairs that called for it
(set B: ``/work/shared/judged/azure-story-pairs-dev.json``).
"""

from __future__ import annotations

from bot.core.grouping.model import Doc
from bot.core.grouping.stats import CorpusStats


def money_disagrees(a: Doc, b: Doc) -> bool:
    """Both headlines name amounts of money, and none of one is among the other's.

    "Microsoft reports $38 billion in Q4 2020 revenue" / "... $35.7 billion in Q1 2021 revenue"
    (two quarters, one outlet's template). "$100k" / "$100,000" agree (read as values).
    """
    ma, mb = a.f.title_money, b.f.title_money
    return bool(ma and mb and not (ma & b.f.money) and not (mb & a.f.money))


def numbers_substituted(a: Doc, b: Doc) -> bool:
    """Each headline has a number the other article never mentions.

    "NC-series ... retired by 31 August 2022" / "Cloud Services (classic) ... retiring on
    31 August 2024"; "Azure Sphere OS version 20.08" / "update 20.09"; "CVE-2020-8559" /
    "CVE-2020-8557"; "AZ-300 Exam Dumps" / "AZ-500 Exam Dumps". A number on one side only is an
    addition, not a substitution ("Microsoft signs Coca-Cola to 5-year cloud deal" / "Coca-Cola
    partners with Microsoft", judged one story).
    """
    return bool(a.f.title_numbers - b.f.numbers) and bool(b.f.title_numbers - a.f.numbers)


def foreign_names(a: Doc, b: Doc, stats: CorpusStats) -> list[str]:
    """Rare name-like words of ``a``'s headline that ``b`` never mentions."""
    return [w for w in a.f.title_words - b.f.words if stats.is_rare(w) and stats.is_name(w)]


TEMPLATE_REST = 0.6  # headlines alike beyond their names: one template


def names_substituted(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """The template press release: each headline has a rare name the other article never
    mentions, and the rest of the two headlines is alike (IDF cosine at least
    ``TEMPLATE_REST``): "DataVisor Now Available in the Microsoft Azure Marketplace" /
    "eBaoCloud InsureMO is Now Available ..."; "Kratos Collaborates with Microsoft ... Azure
    Orbital" / "AMERGINT Collaborates with Microsoft ...".

    Two outlets reporting one event also name details the other leaves out ("Microsoft offers
    hackers $100K to break Azure Sphere" / "... $100K to hack its Linux smart home software";
    "... data center region in Hebei" / "... China Data Centers in Asia"), but there the rest
    of the headlines differs too: they are reworded, not filled-in forms. Two headlines that
    each *open* with their foreign name have two subjects whatever follows ("Viasat Real-Time
    Earth Ground Service Available via Microsoft Azure Orbital" / "SES Becomes Microsoft Azure
    Orbital Founding Connectivity Partner").
    """
    fa, fb = foreign_names(a, b, stats), foreign_names(b, a, stats)
    if not fa or not fb:
        return False
    if a.f.lead in fa and b.f.lead in fb:
        return True  # each headline opens with its own subject
    rest_a, rest_b = a.f.title_words - set(fa), b.f.title_words - set(fb)
    return stats.cosine(rest_a, rest_b) >= TEMPLATE_REST


def stages_differ(a: Doc, b: Doc) -> bool:
    """One headline says preview (or beta), the other general availability: two stories of
    one product ("Azure Arc enabled servers are now generally available" / "Azure Arc enabled
    data services now in preview"; "Query Acceleration ... now in preview" / "... is now
    generally available")."""
    return a.f.stage is not None and b.f.stage is not None and a.f.stage != b.f.stage


def roundup_and_single(a: Doc, b: Doc) -> bool:
    """A roundup never joins a single story it lists ("The top Azure announcements from
    Microsoft Build 2020" / "Microsoft Builds Massive Supercomputer For OpenAI"; "Microsoft
    Updates Teams Video Conferencing, Verizon Buys BlueJeans, More News" / "Verizon acquires
    BlueJeans ..."): joined, it would pull every story it lists into one."""
    return a.f.roundup != b.f.roundup


def same_outlet_substitution(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """Within one outlet, each headline has a rare name the other article never mentions: one
    outlet does not report one event twice under two subjects ("Microsoft’s Azure Arc
    multi-cloud platform now supports machine learning workloads" / "Microsoft Azure expands
    its NoSQL portfolio with Managed Instances for Apache Cassandra", TechCrunch, the same
    minute; "Azure Database for MariaDB: Planned Maintenance Notifications ..." / "Azure
    Database for MySQL ...", microsoft.com). Its own article listed twice keeps its names, and
    two angles on one event ("FedEx Teams Up With Microsoft to Fight Amazon" / "FedEx Is Using
    Microsoft's A.I. Tools to Speed Up Package Delivery", Barron's) differ in words, not names.
    (A direct link within one outlet also needs alike headlines: :mod:`.evidence`.)
    """
    if not a.domain or a.domain != b.domain:
        return False
    return bool(foreign_names(a, b, stats)) and bool(foreign_names(b, a, stats))


CROSS_RARE_FRACTION = 0.01  # a word in under 1% of the articles: an event's own word


def _foreign_rare(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    limit = max(3.0, CROSS_RARE_FRACTION * stats.n)
    return any(stats.df.get(w, 0) <= limit for w in a.f.title_words - b.f.words)


def unlinked_substitution(a: Doc, b: Doc, stats: CorpusStats) -> bool:
    """For two articles that only a third links (no evidence of their own joins them): each
    headline has a word in under 1% of the articles that the other article never mentions.
    "Pentagon watchdog clears Microsoft's $10 billion JEDI win over Amazon" / "U.S. judge puts
    Amazon challenge to Pentagon JEDI contract on hold" (two events of one affair, that "JEDI
    war continues for Amazon, Microsoft" would chain); "Microsoft to invest $1 billion in
    Poland" / "Microsoft lands public cloud in New Zealand with new datacenter region" (that
    "Microsoft Cloud Regions Planned For New Zealand, Poland" would chain). Reworded reports of
    one event are spared where their own evidence links them.
    """
    return _foreign_rare(a, b, stats) and _foreign_rare(b, a, stats)


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
    return None
