"""Search ranking on stored articles (issue 12, items 2 and 4): the story that matters first,
each story once, and pages that never repeat one. The formula's parts are in test_ranking.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.core.loader import Loader
from bot.core.search import search
from storage.store import Store
from tests.conftest import FIXTURES, NOW, SEED, FixedClock
from tests.helpers import article, front, write, write_article

COSMOS = FIXTURES / "cosmos"  # 12 files of the Azure corpus, July-August 2021: ChaosDB and
# the routine Cosmos DB posts of the weeks before it
AFTER_CHAOSDB = dt.datetime(2021, 8, 30, 12, tzinfo=dt.UTC)


def load(store: Store, *paths: Path) -> None:
    report = Loader(store, FixedClock()).load(list(paths))
    assert report.ok, report.bad


def titles(store: Store, query: str, now: dt.datetime, limit: int = 5) -> list[str]:
    return [h.article["title"] for h in search(store, query, limit=limit, now=now).hits]


def when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the story that matters first -------------------------------------------------------------


@pytest.mark.parametrize("query", ["cosmos db", "cosmos", "azure cosmos db"])
def test_the_chaosdb_breach_leads_the_routine_cosmos_db_posts(fresh_db, query):
    """Eight routine "Cosmos DB" posts outranked the breach that 18 outlets reported."""
    load(fresh_db, COSMOS)
    result = search(fresh_db, query, limit=5, now=AFTER_CHAOSDB)
    top = result.hits[0]
    assert "Security Flaw Exposed Client Data" in top.article["title"]
    assert len(top.also) >= 10  # the other outlets, named once each


def test_the_seed_files_lead_story_is_on_the_first_page(fresh_db):
    """All 23 articles of the seed say "facial recognition"; the one the file is about
    (London police rolling out live facial recognition) ranked 11th, under a market study."""
    load(fresh_db, SEED)
    first_page = titles(fresh_db, "facial recognition", NOW)
    assert "Police to Roll Out Live Facial Recognition Cameras in London" in first_page


def test_the_word_as_typed_beats_another_word_of_its_stem(fresh_db, tmp_path):
    """Porter stems "earnings" and "earned" alike: a partner's "earned" badge press release
    ranked above the earnings it was not about."""
    day = when(AFTER_CHAOSDB - dt.timedelta(hours=3))
    write_article(
        tmp_path / "news",
        "badge.md",
        "Partner earned badge",
        "https://pr.example/badge",
        when=day,
        quality=95,
    )
    write_article(
        tmp_path / "news",
        "earnings.md",
        "Microsoft quarterly earnings beat analyst estimates on cloud growth",
        "https://news.example/earnings",
        when=day,
        quality=40,
    )
    load(fresh_db, tmp_path / "news")
    assert titles(fresh_db, "earnings", AFTER_CHAOSDB)[0].startswith("Microsoft quarterly")


def test_a_headline_match_is_not_drowned_by_a_long_excerpt(fresh_db, tmp_path):
    """FTS5's bm25 divides by the whole row's length: a story about the word, with a long
    excerpt, lost to one naming it in passing in a short one."""
    day = when(AFTER_CHAOSDB - dt.timedelta(hours=3))
    write_article(
        tmp_path / "news",
        "about.md",
        "Synapse Analytics gains serverless pools",
        "https://news.example/about",
        when=day,
        excerpt=" ".join(["The data warehouse service adds pools, billing and tooling."] * 6),
    )
    write_article(
        tmp_path / "news",
        "passing.md",
        "Cloud roundup",
        "https://news.example/passing",
        when=day,
        excerpt="A week of cloud news: new regions, price cuts for storage, a preview of a "
        "database feature, changes to synapse billing, and notes from partners on migration.",
        quality=300,
    )
    load(fresh_db, tmp_path / "news")
    assert titles(fresh_db, "synapse", AFTER_CHAOSDB)[0].startswith("Synapse Analytics")


def test_a_fresh_passing_mention_does_not_outrank_a_relevant_story_days_old(fresh_db, tmp_path):
    """Freshness was added to the score: on fresh news it lifted a minor post over the story."""
    write_article(
        tmp_path / "news",
        "story.md",
        "Azure Arc brings Kubernetes management to any cloud",
        "https://news.example/arc",
        when=when(AFTER_CHAOSDB - dt.timedelta(days=3)),
        excerpt="Azure Arc now manages Kubernetes clusters running anywhere.",
    )
    write_article(
        tmp_path / "news",
        "minor.md",
        "Partner roundup: storage, Arc, networking, identity, billing and more",
        "https://news.example/minor",
        when=when(AFTER_CHAOSDB - dt.timedelta(hours=1)),
        excerpt="Small notes from partners this week, one of them about arc.",
        quality=90,
    )
    load(fresh_db, tmp_path / "news")
    assert titles(fresh_db, "azure arc", AFTER_CHAOSDB)[0].startswith("Azure Arc brings")


def test_an_old_corpus_still_ranks_by_relevance(fresh_db, tmp_path):
    """Freshness scales relevance: moved weeks or years into the past, the order is the same
    (an added freshness term was 0 for everything two weeks old, and quality decided)."""
    load(fresh_db, COSMOS)
    now_order = titles(fresh_db, "cosmos db", AFTER_CHAOSDB, limit=8)
    for later in (dt.timedelta(days=14), dt.timedelta(days=800)):
        assert titles(fresh_db, "cosmos db", AFTER_CHAOSDB + later, limit=8)[:3] == now_order[:3]


def test_between_equal_stories_the_one_more_outlets_reported_wins(fresh_db, tmp_path):
    day = AFTER_CHAOSDB - dt.timedelta(hours=6)
    outlets = ["reuters.com", "theverge.com", "zdnet.com", "cnbc.com"]
    text = front(
        **article(
            "Microsoft to buy Nuance for $19.7 billion",
            f"https://{outlets[0]}/nuance",
            when(day),
            provider={"name": outlets[0], "domain": outlets[0]},
            related=[
                article(
                    "Microsoft to buy Nuance for $19.7 billion",
                    f"https://{o}/nuance",
                    when(day + dt.timedelta(minutes=10 * i)),
                    provider={"name": o, "domain": o},
                )
                for i, o in enumerate(outlets[1:], start=1)
            ],
        )
    )
    write(tmp_path / "news", "nuance.md", text)
    write_article(
        tmp_path / "news",
        "other.md",
        "Microsoft to buy speech startup for $50 million",
        "https://blog.example/speech",
        when=when(day + dt.timedelta(hours=2)),
        quality=95,
    )
    load(fresh_db, tmp_path / "news")
    result = search(fresh_db, "microsoft buy", limit=5, now=AFTER_CHAOSDB)
    assert "Nuance" in result.hits[0].article["title"]
    assert len(result.hits[0].also) == 3


# -- one story once; pages that never repeat one -------------------------------------------------


def test_an_answer_lists_each_story_once(fresh_db):
    load(fresh_db, COSMOS, SEED)
    for query in ("cosmos db", "azure", "facial recognition", "microsoft vulnerability data"):
        result = search(fresh_db, query, limit=10_000, now=AFTER_CHAOSDB)
        stories = [h.story_id for h in result.hits]
        assert len(stories) == len(set(stories)) == result.total


def pages(store: Store, query: str, now: dt.datetime, between=None) -> list[list[int]]:
    """Every page of ``query``, five stories each, as the More button asks for them (the
    articles shown so far travel with it); ``between(n)`` runs before page n."""
    shown: list[int] = []
    out: list[list[int]] = []
    while True:
        if between is not None:
            between(len(out))
        result = search(store, query, limit=5, offset=len(shown), now=now, shown=shown)
        if not result.hits:
            return out
        out.append([h.story_id for h in result.hits])
        shown += [h.article["id"] for h in result.hits]


def test_more_pages_through_every_story_once(fresh_db):
    load(fresh_db, COSMOS)
    everything = search(fresh_db, "azure", limit=10_000, now=AFTER_CHAOSDB)
    paged = [s for page in pages(fresh_db, "azure", AFTER_CHAOSDB) for s in page]
    assert paged == [h.story_id for h in everything.hits]


def test_more_never_repeats_a_story_when_the_news_changed_between_pages(fresh_db, tmp_path):
    """New articles arrive (and stories regroup) between two clicks on More: the stories shown
    earlier stay out of later pages, whatever their rank is now."""
    load(fresh_db, COSMOS)

    def news_arrives(page: int) -> None:
        if page in (1, 2):
            folder = tmp_path / f"late{page}"
            for i in range(4):
                write_article(
                    folder,
                    f"{i}.md",
                    f"Azure Cosmos DB flaw: update {page}.{i} from researchers",
                    f"https://late.example/{page}/{i}",
                    when=when(AFTER_CHAOSDB - dt.timedelta(minutes=5 * i)),
                )
            load(fresh_db, folder)

    got = pages(fresh_db, "cosmos db", AFTER_CHAOSDB, between=news_arrives)
    seen: set[int] = set()
    for page in got:
        for story in page:
            members = {m["id"] for m in fresh_db.story_members([story])} | {story}
            assert not members & seen, "a story came back on a later page"
            seen |= members


@pytest.mark.parametrize(
    "query",
    [
        "facial recognition police",
        "police london cameras live",
        "moscow facebook facial",  # the two rarest never meet
        "facebook settle lawsuit million",
        '"facial recognition" police ban',
        "power apps microsoft canvas",
        "zzyzx police facial",  # a word the index lacks
    ],
)
def test_the_rare_words_shortcut_never_changes_an_answer(fresh_db, query):
    """Search first asks whether the two rarest words ever meet (an AND of frequent words
    that never meet is slow in FTS5); the stories with every word are the same either way."""
    from bot.core.query import parse
    from bot.core.search import _rank, _rank_all_words

    load(fresh_db, SEED, FIXTURES / "power-apps")
    parsed = parse(query)
    assert parsed is not None
    now = NOW.timestamp()
    shortcut = [h.story_id for h in _rank_all_words(fresh_db, parsed, set(), now)]
    full = [h.story_id for h in _rank(fresh_db, parsed, parsed.fts(), set(), now)]
    assert shortcut == full
