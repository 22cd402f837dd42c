"""Words, numbers and amounts of an article's text, as story grouping compares them.

Rules, each from a judged pair it had to get right:

- HTML entities are unescaped (``AT&amp;T`` is ``AT&T``) and possessives dropped
  (``Microsoft’s Azure`` / ``Microsoft Azure``).
- A joined word is split *and* kept whole: ``health-care`` gives ``health``, ``care`` and
  ``healthcare``, so it meets ``healthcare`` (the Cloud for Healthcare pairs) as well as
  ``health``; ``AT&T`` gives ``att``.
- Stop words are left out; the rest are stemmed with the Snowball (Porter 2) English stemmer
  (``launches``/``launched``, ``acquires``/``acquisition`` stay apart but ``acquires``/
  ``acquired`` meet).
- Numbers are read as values (digits only: "three months" is words, and no number, so that it
  cannot differ from "Q4 2020"): ``$100k`` and ``$100,000`` are both 100000 (the Azure Sphere
  bounty, judged one story), ``47%`` is 47; a token with digits in it (``Q4``,
  ``A100``, ``20.08``, ``AZ-300``) is a number too. Amounts of money are kept apart, as values
  (``$38 billion`` / ``$35.7 billion``: two quarters' results; ``$1 billion`` / ``$1 Bln``:
  one investment in Poland, judged one story). A whole number standing alone, and no year, is
  a *figure* (``59%``, ``5 Big Things``): reports of one event pick different ones, so figures
  are no substitution (:mod:`.vetoes`); years, numbers in codes and versions after a name
  (``PostgreSQL 12``) name the event.
- Each word is also seen with its case: capitalised in the middle of a sentence, or written in
  lower case. That is what :mod:`.stats` counts to tell a name (``Datadog``, ``Sphere``) from a
  word (``tablet``, ``frontier``). Headlines in Title Case say nothing of case and are skipped;
  one ordinary word in lower case is enough to show a headline is in sentence case.
- A headline's release stage (preview or general availability; the excerpt's when the headline
  names none), whether it lists several stories (a roundup), and the kinds of event it
  reports: a company's results, an outage (:func:`kinds`).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import Stemmer  # type: ignore[import-not-found]  # PyStemmer publishes no type information

_STEMMER = Stemmer.Stemmer("english")

STOP_WORDS = frozenset(
    """a an the and or but nor of to in on at by for from with without into onto over under
    about after before as is are was were be been being it its it's this that these those their
    theirs his her hers our ours your yours my we you they he she i me us them him not no
    than then so if up out off via vs versus will would can could may might must shall should has
    have had having do does did done just more most says say said how why what when where who
    whom which while amid also all any each other some such only own same too very s t don now
    here there again further once both few am isn't aren't wasn't weren't hasn't haven't
    hadn't doesn't don't didn't won't wouldn't can't couldn't per""".split()  # noqa: SIM905
)

_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "bln": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trillion": 1e12,
}
# A word: letters and digits, possibly joined by - & / . + (AT&T, health-care, 20.08, AZ-300);
# an apostrophe inside (possessive, don't) is dealt with after.
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)+(?![\w.,-]\w)|\w+(?:['’][a-zA-Z]+)?(?:[-&/.+]\w+(?:['’][a-zA-Z]+)?)*",
    re.UNICODE,
)
_JOINERS = re.compile(r"[-&/.+]")
_NUMERIC = re.compile(r"^\d+(?:[.,]\d+)*$")
_MONEY = re.compile(
    r"(?:US|USD|C|A|AU|CA|NZ|S|HK)?([$€£¥₹])\s?(\d[\d,]*(?:\.\d+)?)"
    r"(?:\s?(k|m|mn|mln|bn|bln|b|t|tn|thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_SCALED = re.compile(r"^(\d+(?:\.\d+)?)(k|m|mn|mln|bn|bln|b|tn)$")
_SENTENCE_END = re.compile(r"[.!?:;\"“”|]$")

STAGE_PREVIEW = "preview"
STAGE_GA = "ga"
_PREVIEW = re.compile(r"\b(?:preview|beta)\b", re.IGNORECASE)
_GA = re.compile(
    r"\b(?:(?i:generally available|general availability|now available in all regions)|GA)\b"
)
_LISTED = r"(?:announcements|things|stories|features|updates|takeaways|highlights|news)"
_ROUNDUP = re.compile(
    r"\b(?:week in review|weekly (?:update|roundup|round-up|digest|news)|round-?ups?|recap|"
    rf"^(?:the )?top \d+\b|\btop \d+ (?:\w+ ){{0,2}}{_LISTED}|\d+ (?:top|biggest|key|major) |"
    r"(?:top|biggest|key|major|all the|everything) (?:\w+ ){0,2}(?:announcements|news|stories)|"
    r"everything (?:\w+ ){0,2}announced|more news|news roundup|this week in|what's new in|what’s new in|highlights from|"
    r"newsletter|digest)\b",
    re.IGNORECASE,
)


# Kinds of event that outlets word every which way, and that one company has once at a time:
# its quarter's results, and an outage. "Microsoft Q3 FY20 Earnings: Azure cloud services
# revenue grew 59%" / "Microsoft weathers the coronavirus storm as earnings rise on cloud
# business"; "Microsoft Office 365, Azure plagued by disruptions for hours" / "Microsoft cloud
# services suffer global outage" (each judged one story) share a company and a kind, little else.
KIND_RESULTS = "results"
KIND_OUTAGE = "outage"
_KINDS = (
    (KIND_RESULTS, re.compile(r"\b(?:earnings|results|revenues?|profits?)\b", re.IGNORECASE)),
    (
        KIND_OUTAGE,
        re.compile(
            r"\b(?:outages?|disrupt(?:ions?|ed|s)|downtime|offline|down for|"
            r"(?:goes|go|went|is|are|was|were|takes?|took|knocks?|knocked) down|crash(?:es|ed)?)\b",
            re.IGNORECASE,
        ),
    ),
)
# A headline that looks ahead announces no results yet: "Microsoft Reports Earnings Today.
# Here’s What to Expect" / "Microsoft reports $35.0 billion in Q3 2020 revenue" (judged two
# stories: the preview and the results).
_AHEAD = re.compile(
    r"\b(?:expect\w*|ahead|preview|pre-?earnings|before|watch|await\w*|bracing|upcoming|"
    r"what to|could|would|may|maybe|might|will|to (?:post|report))\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Snowball English stem of a lower-case word (cached: the same words come again and again)."""
    return str(_STEMMER.stemWord(word))


def _number(token: str) -> str | None:
    """The value of a numeric token, as text ("100,000" and "100000" alike; "2.50" is "2.5")."""
    if not _NUMERIC.match(token):
        return None
    if "," in token:
        parts = token.split(",")
        if all(len(p) == 3 for p in parts[1:]):  # thousands separators
            token = "".join(parts)
        else:
            token = token.replace(",", ".")  # a decimal comma
    if token.count(".") > 1 or (
        token.count(".") == 1 and len(token.split(".")[1]) == 2 and len(token.split(".")[0]) == 2
    ):
        return token  # a version or a date (20.08, 1.2.3): kept as written
    return _format(float(token))


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _amount(digits: str, unit: str | None) -> float:
    value = float(digits.replace(",", ""))
    return round(value * _MULTIPLIERS.get((unit or "").lower(), 1.0), 2)


def money(text: str) -> frozenset[float]:
    """Amounts of money written with a currency sign: ``$100k`` and ``$100,000`` are one."""
    return frozenset(_amount(m.group(2), m.group(3)) for m in _MONEY.finditer(text))


@dataclass(frozen=True)
class Token:
    """One word of a text: its stem, whether it is a number, and how it was written."""

    stem: str
    number: bool
    capitalised: bool  # first letter upper-case as written
    sentence_start: bool  # first word of a sentence (its capital says nothing)
    figure: bool = False  # a number that counts or measures, and names nothing (see _figure)


def tokens(text: str, cased: bool = True) -> Iterator[Token]:
    """The content words of ``text`` (already plain: :func:`plain`), in order. ``cased``: the
    text's capitals are its writer's (not a Title Case headline's), so that a number right
    after a capitalised word is a version or a model ("PostgreSQL 12", "Citus 10")."""
    start = True
    after_name = False
    end = 0
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        end_of_sentence = bool(_SENTENCE_END.search(text[match.end() : match.end() + 1]))
        capitalised = raw[0].isupper() or any(c.isupper() for c in raw[1:])  # eBaoCloud
        named = after_name and not text[end : match.start()].strip()
        after_name = cased and capitalised and raw.lower() not in STOP_WORDS
        end = match.end()
        raw = re.sub(r"['’]s$", "", raw)  # possessive
        raw = raw.replace("'", "").replace("’", "")
        parts = [p for p in _JOINERS.split(raw) if p] if _JOINERS.search(raw) else [raw]
        if len(parts) > 1 and _NUMERIC.match(raw):
            parts = [raw]  # 100,000 or 2.5 or 20.08: one number
        coded = named or (len(parts) > 1 and any(c.isalpha() for c in raw))  # AZ-300, CVE-...
        for word in parts:
            yield from _word(word, capitalised, start, coded)
        if len(parts) > 1:  # kept whole too: health-care -> healthcare (a word, never a number)
            joined = "".join(parts).lower()
            if joined not in STOP_WORDS:
                has_digit = any(c.isdigit() for c in joined)
                yield Token(joined if has_digit else stem(joined), False, False, start)
        start = end_of_sentence


_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _figure(value: str, coded: bool) -> bool:
    """A whole number as a figure: a count, a share, an amount ("59%", "75 million", "5 Big
    Things"), one of many a report picks from. A year and a number inside a code ("AZ-300",
    "CVE-2020-8559") name which event it is; so may a number with a point ("20.08" and "7.3"
    are versions as often as "2.5" is a figure)."""
    return not coded and "." not in value and not _YEAR.match(value)


def _word(word: str, capitalised: bool, start: bool, coded: bool = False) -> Iterator[Token]:
    lower = word.lower()
    if lower in STOP_WORDS:
        return
    value = _number(lower)
    if value is not None:
        yield Token(value, True, False, start, _figure(value, coded))
        return
    scaled = _SCALED.match(lower)
    if scaled:  # 100k, 2bn
        yield Token(_format(_amount(scaled.group(1), scaled.group(2))), True, False, start, True)
        return
    if any(c.isdigit() for c in lower):
        yield Token(lower, True, capitalised, start)  # Q4, A100, O3b, 10th
        return
    if len(lower) < 2:
        return
    yield Token(stem(lower), False, capitalised, start)


_SHAPED = re.compile(
    r"\b(?:[A-Z]{2,}|[A-Za-z][a-z]+[A-Z]\w*)\b"
)  # NBA, AMERGINT; DataVisor, eBaoCloud


def _shaped_names(title: str) -> list[str]:
    """Stems of headline words written as only names are (all capitals, or a capital inside
    the word), whatever the headline's case; none from a headline in capitals throughout."""
    words = re.findall(r"[A-Za-z]{2,}", title)
    if not words or sum(w.isupper() for w in words) * 2 > len(words):
        return []
    return [stem(w.lower()) for w in _SHAPED.findall(title) if w.lower() not in STOP_WORDS]


_TAG = re.compile(r"<[^<>]{0,500}>")


def plain(text: str) -> str:
    """Text with HTML entities unescaped and mark-up dropped (the loader does it already; the
    package must not depend on that)."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return text


def is_title_case(title: str) -> bool:
    """Whether a headline capitalises its words ("Microsoft Launches Cloud For ..."), so that
    its capitals say nothing of which words are names.

    A headline in sentence case writes its ordinary words in lower case, however many names it
    holds: one word of four letters or more in lower case, not a stop word and not the first,
    is enough ("We’re retiring Network Performance Monitor on 29 February 2024" names a product
    in capitals, and "retiring" shows the case is the writer's, not the style's). Title Case
    leaves only short and function words in lower case ("Open Systems Acquires Microsoft
    Partner Born in the Cloud").
    """
    words = [w for w in re.findall(r"[A-Za-z][a-z]+", title)[1:] if len(w) >= 4]
    if len(words) < 2:
        return True
    return not any(w[0].islower() and w.lower() not in STOP_WORDS for w in words)


def stage(title: str) -> str | None:
    """``preview`` or ``ga`` when the headline names one release stage (and not both)."""
    preview, ga = bool(_PREVIEW.search(title)), bool(_GA.search(title))
    if preview == ga:
        return None
    return STAGE_PREVIEW if preview else STAGE_GA


def kinds(title: str) -> frozenset[str]:
    """The kinds of event (``results``, ``outage``) a headline reports; no results in one that
    looks ahead ("What to expect", "could", "to report"). An outage has no preview: "Microsoft
    Azure Outage: Services Mostly Restored But Some Users May Still Encounter Issues" reports
    one (judged the story of "Microsoft Azure outage takes down Teams, Xbox Live, Office 365")."""
    found = {kind for kind, pattern in _KINDS if pattern.search(title)}
    if KIND_RESULTS in found and _AHEAD.search(title):
        found.discard(KIND_RESULTS)
    return frozenset(found)


def is_roundup(title: str) -> bool:
    """A headline that lists several stories ("The top Azure announcements from Build 2020",
    "Microsoft Updates Teams Video Conferencing, Verizon Buys BlueJeans, More News")."""
    return bool(_ROUNDUP.search(title))


@dataclass(frozen=True)
class Features:
    """What grouping needs of one article's text, worked out once when it arrives."""

    title_words: frozenset[str]  # stems of the headline (numbers included)
    words: frozenset[str]  # stems of headline and excerpt
    title_numbers: frozenset[str]  # amounts of money included, as values
    numbers: frozenset[str]
    title_money: frozenset[float]
    money: frozenset[float]
    stage: str | None  # the headline's release stage, or else the excerpt's
    roundup: bool
    capitals: tuple[str, ...]  # stems seen capitalised mid-sentence (one each per article)
    lower: tuple[str, ...]  # stems seen in lower case
    has_excerpt: bool
    text_key: str  # normalised headline + excerpt: word-for-word syndication has the same one
    lead: str  # the headline's first word (its subject, as a rule), "" for none
    kinds: frozenset[str] = frozenset()  # kinds of event the headline reports (see kinds())
    title_ids: frozenset[str] = frozenset()  # the headline's numbers that are no figures

    @property
    def word_count(self) -> int:
        return len(self.words)


def features(title: str, excerpt: str) -> Features:
    """The :class:`Features` of an article."""
    title, excerpt = plain(title), plain(excerpt)
    title_case = is_title_case(title)
    title_tokens = list(tokens(title, cased=not title_case))
    excerpt_tokens = list(tokens(excerpt))
    case_tokens = excerpt_tokens if title_case else title_tokens + excerpt_tokens
    capitals: dict[str, None] = dict.fromkeys(_shaped_names(title))
    lower: dict[str, None] = {}
    for tok in case_tokens:
        if tok.number or tok.sentence_start:
            continue
        (capitals if tok.capitalised else lower)[tok.stem] = None
    title_money, excerpt_money = money(title), money(excerpt)
    title_words = frozenset(t.stem for t in title_tokens)
    words = title_words | frozenset(t.stem for t in excerpt_tokens)
    key_words = [t.stem for t in title_tokens + excerpt_tokens]
    return Features(
        title_words=title_words,
        words=words,
        title_numbers=frozenset(t.stem for t in title_tokens if t.number)
        | frozenset(_format(v) for v in title_money),
        numbers=frozenset(t.stem for t in title_tokens + excerpt_tokens if t.number)
        | frozenset(_format(v) for v in title_money | excerpt_money),
        title_money=title_money,
        money=title_money | excerpt_money,
        stage=stage(title) or stage(excerpt),
        roundup=is_roundup(title),
        capitals=tuple(capitals),
        lower=tuple(lower),
        has_excerpt=bool(excerpt_tokens),
        text_key=" ".join(key_words),
        lead=title_tokens[0].stem if title_tokens else "",
        kinds=kinds(title),
        title_ids=frozenset(t.stem for t in title_tokens if t.number and not t.figure),
    )
