"""Synthetic article corpora for the benchmarks (issue 2).

Deterministic given a seed. Files look like the real ones in ``shared/corpus/power-apps``: a
60-90 character headline, a 200-300 character excerpt, a provider mapping (name, domain, logo),
topics, images, quality and heat, an opaque ``secured`` token, sometimes ``related`` entries,
and some same-story duplicates (the same headline from another outlet within a day).

The vocabulary is built so that the search benchmark has three classes of query:

- ``COMMON_WORD`` ("apps") is in ~99% of articles (the corpus's own subject, as in the real
  Power Apps feed): in the topics, often in the headline or excerpt;
- ``PERCENT_WORD`` ("copilot") is in ~1% of articles;
- each of ``RARE_WORDS`` is in a handful (``RARE_COUNT``) of articles, whatever the size.

Everything else is drawn from a Zipf-distributed vocabulary of made-up words (consonant-vowel
syllables, so they can never spell one of the words above).

Two ways out:

- ``write_files(folder, n, seed)``: ``n`` article files (plus, inside them, related entries);
- ``article_rows(n, seed)``: store rows with ids and story ids already assigned, for
  ``Store.insert_articles`` to build a million-article database without files or YAML.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import heapq
import json
import random
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

COMMON_WORD = "apps"
PERCENT_WORD = "copilot"
PERCENT_SHARE = 0.01
RARE_WORDS = ("zorbaxite", "quexolith", "vizzquant", "xylofrond", "jazqwyre")
RARE_COUNT = 5

START = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
STEP_SECONDS = 60  # mean spacing of publications: 20k files cover ~2 weeks, 1M ~2 years
DUPLICATE_SHARE = 0.05  # stories also told by another outlet (same headline, within a day)
RELATED_SHARE = 0.10  # files that list related entries
REPEAT_SHARE = 0.03  # related entries that are an earlier file's article (another address form)

OUTLETS = [
    ("Contoso Daily", "contoso-daily.com"),
    ("Fabrikam Tribune", "fabrikam.net"),
    ("Northwind Journal", "northwindjournal.com"),
    ("Tailspin Wire", "tailspinwire.io"),
    ("Litware Review", "litware-review.com"),
    ("Woodgrove Ledger", "woodgroveledger.com"),
    ("Adatum Post", "adatumpost.org"),
    ("Proseware Times", "prosewaretimes.com"),
    ("Wingtip Report", "wingtipreport.com"),
    ("Lamna Herald", "lamnaherald.co.uk"),
    ("Trey Research Notes", "treyresearch.net"),
    ("Humongous Insider", "humongousinsider.com"),
    ("Coho Chronicle", "cohochronicle.com"),
    ("Alpine Ski Gazette", "alpineskigazette.de"),
    ("Blue Yonder Observer", "blueyonderobserver.com"),
    ("Fourth Coffee Bulletin", "4coffee.news"),
    ("Graphic Design Institute", "gdi.edu"),
    ("Margie's Travel Week", "margiestravel.com"),
    ("Relecloud Signal", "relecloud.tv"),
    ("VanArsdel Business", "vanarsdel.biz"),
]
TOPICS = [
    "Power Platform",
    "AI Builder",
    "Dataverse",
    "Power Automate",
    "Low Code",
    "Power BI",
    "Dynamics 365",
    "Microsoft Teams",
    "Azure",
    "Portals",
]
CATEGORIES = ["news", "news", "news", "blog", "press"]
_CONSONANTS = "bdfgklmnprstv"
_VOWELS = "aeiou"


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))
        if rng.random() < 0.3:
            word += rng.choice("nrst")
        words[word] = None
    # Zipf's law of abbreviation: the frequent words are the short ones (as "the", "new" and
    # "app" are), so a headline's longest words are among its rarer ones, as in real news.
    return sorted(words, key=lambda w: len(w) + rng.random() * 3)


class Corpus:
    """The generator: call :meth:`stories` for the front-matter mappings, in file order."""

    def __init__(self, n: int, seed: int = 1, realistic: bool = False) -> None:
        self.n = n
        self.seed = seed
        self.realistic = realistic
        rng = random.Random(seed)
        self.vocab = _vocabulary(rng, 6000)
        # Zipf: the k-th word is drawn with weight 1/k (a few very common words, a long tail).
        self.cum = list(accumulate(1.0 / (k + 1) for k in range(len(self.vocab))))
        # Headlines name their subject with a few specific words (the long tail: long, rare
        # words) among common ones, as real news does ("watchdog", "recognition").
        self.subjects = self.vocab[len(self.vocab) // 3 :]
        self.names = [w.capitalize() for w in _vocabulary(rng, 400)]
        # Rare words: each in RARE_COUNT files, spread over the corpus.
        self.rare: dict[int, list[str]] = {}
        for word in RARE_WORDS:
            for index in rng.sample(range(1, max(2, int(n * 0.9))), min(RARE_COUNT, n)):
                self.rare.setdefault(index, []).append(word)
        self._token_rng = random.Random(seed ^ 0x5EC)
        self._secrets = [
            base64.b64encode(self._token_rng.randbytes(300)).decode()
            + ";"
            + base64.b64encode(self._token_rng.randbytes(16)).decode()
            for _ in range(64)
        ]

    # -- text ----------------------------------------------------------------------------

    def _words(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def _title(self, rng: random.Random, extra: list[str]) -> str:
        name = rng.choice(self.names)
        words = self._words(rng, 14)
        picks = [name, *rng.sample(self.subjects, rng.randint(2, 3)), *extra]
        for w in words:
            if len(" ".join(picks)) >= rng.randint(60, 88):
                break
            picks.insert(rng.randint(1, len(picks)), w)
        title = " ".join(picks)
        while len(title) < 60:
            title += " " + rng.choice(self.vocab)
        return title[0].upper() + title[1:]

    def _excerpt(self, rng: random.Random, extra: list[str]) -> str:
        target = rng.randint(200, 300)
        words = [rng.choice(self.names), *self._words(rng, 60)]
        for w in extra:
            words.insert(rng.randint(1, 20), w)
        text, out = 0, []
        for w in words:
            if text + len(w) + 1 > target - 4 and len(out) > 8:
                break
            out.append(w)
            text += len(w) + 1
        sentence = " ".join(out)
        if rng.random() < 0.2:
            sentence = sentence.replace(" ", " &amp; ", 1)  # HTML entities, as upstream sends
        return sentence[0].upper() + sentence[1:] + " ..."

    # -- one article ---------------------------------------------------------------------

    def _article(
        self,
        rng: random.Random,
        index: int,
        ts: int,
        *,
        related_of: bool = False,
        outlet: int | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        common = rng.random() < 0.99
        percent = rng.random() < PERCENT_SHARE
        extra_title: list[str] = []
        extra_text: list[str] = []
        if common and rng.random() < 0.5:
            (extra_title if rng.random() < 0.5 else extra_text).append(COMMON_WORD)
        if percent:
            (extra_title if rng.random() < 0.5 else extra_text).append(PERCENT_WORD)
        if not related_of:
            extra_text.extend(self.rare.get(index, ()))
        name, domain = OUTLETS[outlet if outlet is not None else rng.randrange(len(OUTLETS))]
        headline = title or self._title(rng, extra_title)
        slug = "-".join(headline.lower().split()[:8])
        web = (
            f"https://www.{domain}/{dt.datetime.fromtimestamp(ts, dt.UTC):%Y/%m/%d}/{slug}-{index}"
        )
        topics = ["Power Apps" if common else "Power Platform"]
        topics += [t for t in rng.sample(TOPICS, rng.randint(0, 2)) if t not in topics]
        mapping: dict[str, Any] = {
            "category": rng.choice(CATEGORIES),
            "title": headline,
            "excerpt": self._excerpt(rng, extra_text),
            "publishedDateTime": dt.datetime.fromtimestamp(ts, dt.UTC),
            "webUrl": web + ("?utm_source=feed&utm_medium=rss" if rng.random() < 0.2 else ""),
            "type": "video" if rng.random() < 0.1 else "article",
            "quality": rng.randint(5, 220) if rng.random() < 0.9 else None,
            "heat": rng.randint(5, 200) if rng.random() < 0.7 else -1,
            "published": rng.random() < 0.5,
            "provider": {
                "name": name,
                "domain": domain,
                "images": [
                    {"url": f"https://img.{domain}/logo-50x50.jpg", "width": 50, "height": 50}
                ],
            },
            "topics": topics,
            "images": [
                {
                    "url": f"https://img.{domain}/media/{index}-{rng.randrange(10**6)}.jpg",
                    "width": 1280,
                    "height": 720,
                    "isCached": rng.random() < 0.5,
                }
            ],
        }
        if mapping["quality"] is None:
            del mapping["quality"]
        if rng.random() < 0.3:
            mapping["ampWebUrl"] = web + "/amp"
        if related_of:
            del mapping["topics"]  # related entries take their parent's topics
            del mapping["published"]
        else:
            mapping["secured"] = rng.choice(self._secrets)
        return mapping

    def stories(self) -> Iterator[dict[str, Any]]:
        """``n`` files' front matters, in file order (publication order, near enough)."""
        rng = random.Random(self.seed * 7919 + self.n)
        ts = int(START.timestamp())
        pending: list[tuple[int, int, dict[str, Any]]] = []  # (due, index, mapping): duplicates
        earlier: list[dict[str, Any]] = []  # a few earlier articles, to be mentioned again
        mentioned: list[dict[str, Any]] = []  # --realistic: main articles as related entries
        index = produced = 0
        while produced < self.n:
            produced += 1
            if pending and pending[0][0] <= produced:
                yield heapq.heappop(pending)[2]
                continue
            index += 1
            ts += rng.randint(1, 2 * STEP_SECONDS)
            mapping = self._article(rng, index, ts)
            if rng.random() < DUPLICATE_SHARE:
                # The same headline from another outlet, published within a day.
                mine = OUTLETS.index((mapping["provider"]["name"], mapping["provider"]["domain"]))
                copy = self._article(
                    rng,
                    index + self.n,
                    ts + rng.randint(600, 20 * 3600),
                    outlet=(mine + rng.randint(1, 5)) % len(OUTLETS),
                    title=mapping["title"],
                )
                copy["topics"] = mapping["topics"]
                heapq.heappush(pending, (produced + rng.randint(3, 200), index, copy))
            if self.realistic:
                mapping["related"] = self._related_as_real(rng, ts, index, mentioned)
                mentioned.append(_as_related(mapping))
                del mentioned[:-REAL_POOL]
            elif rng.random() < RELATED_SHARE:
                related = []
                for j in range(rng.randint(1, 3)):
                    if earlier and rng.random() < REPEAT_SHARE:
                        again = dict(rng.choice(earlier))
                        again["webUrl"] = again["webUrl"].split("?")[0] + "?utm_campaign=again"
                        again.pop("topics", None)
                        again.pop("secured", None)
                        related.append(again)
                    else:
                        when = ts - rng.randint(3600, 30 * 24 * 3600)
                        related.append(
                            self._article(rng, index + (j + 2) * self.n, when, related_of=True)
                        )
                mapping["related"] = related
            if rng.random() < 0.01:
                earlier.append({k: v for k, v in mapping.items() if k != "related"})
                del earlier[:-50]
            yield mapping

    def _related_as_real(
        self, rng: random.Random, ts: int, index: int, mentioned: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Related entries as real files list them (issue 15): 30-150 of them, each another
        file's main article written word for word as every other file lists it (the popular
        ones in many files), so most of a file's text is entries that other files repeat."""
        count = rng.randint(*REAL_RELATED)
        picks: list[dict[str, Any]] = []
        if mentioned:
            # Zipf over the pool: the first articles of a topic are listed by many files.
            weights = list(accumulate(1.0 / (k + 1) for k in range(len(mentioned))))
            picks = rng.choices(mentioned, cum_weights=weights, k=count)
            picks = list({id(p): p for p in picks}.values())
        while len(picks) < min(count, 5):  # the first files: entries of their own
            when = ts - rng.randint(3600, 30 * 24 * 3600)
            picks.append(
                self._article(rng, index + (len(picks) + 2) * self.n, when, related_of=True)
            )
        return picks


REAL_RELATED = (30, 150)  # related entries per file in --realistic mode
REAL_POOL = 3000  # the main articles a --realistic file's entries are drawn from


def _as_related(mapping: dict[str, Any]) -> dict[str, Any]:
    """A main article as other files list it: no labels (its parent's apply), no token."""
    return {
        k: v for k, v in mapping.items() if k not in ("topics", "secured", "published", "related")
    }


# -- files -----------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _emit(mapping: dict[str, Any], indent: str, out: list[str], first: str = "") -> None:
    lead = first
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.append(f"{lead or indent}{key}:")
            _emit(value, indent + "  ", out)
        elif isinstance(value, list):
            out.append(f"{lead or indent}{key}:")
            for item in value:
                if isinstance(item, dict):
                    _emit(item, indent + "    ", out, first=indent + "  - ")
                else:
                    out.append(f"{indent}  - {_scalar(item)}")
        else:
            out.append(f"{lead or indent}{key}: {_scalar(value)}")
        lead = ""


def to_text(mapping: dict[str, Any]) -> str:
    """An article file: front matter between '---' lines, an empty body."""
    out = ["---"]
    _emit(mapping, "", out)
    out += ["---", ""]
    return "\n".join(out)


def write_files(folder: str | Path, n: int, seed: int = 1, realistic: bool = False) -> list[Path]:
    folder = Path(folder)
    paths = []
    for i, mapping in enumerate(Corpus(n, seed, realistic).stories()):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{i:06d}_{mapping['publishedDateTime']:%Y-%m-%d}.md"
        path.write_text(to_text(mapping), encoding="utf-8")
        paths.append(path)
    return paths


# -- rows, without files -------------------------------------------------------------------


def article_rows(n: int, seed: int = 1, now: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Store rows for ``n`` files' articles (related entries too), ids and stories assigned.

    Each mapping goes through newsbot's own ``article_from_mapping`` and the loader's row
    builder, so the rows are what loading the files would store; what this skips is the YAML,
    the per-article look-ups and the story search: ids are time keys numbered here, an address
    seen again is skipped, and a duplicate joins the story of the headline it repeats.
    """
    from bot.core.articles import article_from_mapping
    from bot.core.loader import _row
    from storage.store import time_key

    now = now or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    seq: dict[int, int] = {}
    seen: set[str] = set()
    story_of_title: dict[str, tuple[int, int]] = {}  # title -> (story id, published_ts)

    def one(article: Any, parent_id: int | None) -> dict[str, Any] | None:
        if article.url in seen:
            return None
        seen.add(article.url)
        ts = article.published_ts
        k = seq.get(ts, 0)
        seq[ts] = k + 1
        article_id = time_key(ts, k)
        story = story_of_title.get(article.title)
        if story and abs(story[1] - ts) <= 24 * 3600:
            story_id = story[0]
        else:
            story_id = article_id
            story_of_title[article.title] = (article_id, ts)
        row = _row(article, parent_id, "synthetic", now)
        return {"id": article_id, **row, "story_id": story_id}

    for mapping in Corpus(n, seed).stories():
        article = article_from_mapping(mapping)
        main = one(article, None)
        if main is None:
            continue
        yield main
        for related in article.related:
            row = one(related, main["id"])
            if row is not None:
                yield row


def main() -> None:
    parser = argparse.ArgumentParser(description="write a synthetic corpus of article files")
    parser.add_argument("folder")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--realistic", action="store_true", help="tens of related entries per file, as real ones"
    )
    args = parser.parse_args()
    paths = write_files(args.folder, args.files, args.seed, args.realistic)
    print(f"{len(paths)} files in {args.folder}")


if __name__ == "__main__":
    main()
