"""parse_feed: a feed's bytes to articles (bot.feeds.items), on fixtures in real feeds' shapes."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path

import feedparser
import pytest

from bot.core.articles import Article, canonical_url
from bot.feeds import items
from bot.feeds.items import ParsedFeed, parse_feed

FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
FETCHED = dt.datetime(2020, 1, 31, tzinfo=dt.UTC)
FETCHED_TS = int(FETCHED.timestamp())


def parse(name: str, topics: tuple[str, ...] = (), url: str = "") -> ParsedFeed:
    address = url or f"https://feeds.example.com/{name}"
    return parse_feed((FEEDS / name).read_bytes(), address, FETCHED, topics)


def by_title(feed: ParsedFeed) -> dict[str, Article]:
    return {a.title: a for a in feed.articles}


def ts(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


# -- formats ----------------------------------------------------------------------------------


def test_rss2_items_become_articles() -> None:
    feed = parse("rss2.xml", topics=("Tech",))
    assert feed.ok and feed.error is None
    assert feed.title == "The Example Times – Technology"
    assert feed.ttl_minutes == 45
    assert len(feed.articles) == 5
    assert feed.skipped == 1  # "Live: the day in tech": no link, a GUID that is no address
    first = feed.articles[0]
    assert first.title == "Chipmaker’s profits jump as AI demand & cloud spending soar"
    assert first.excerpt.startswith(
        "Shares rose 8% after the company said demand for AI chips had “never been higher”."
    )
    assert "<" not in first.excerpt and "&" not in first.excerpt.replace(" & ", "")
    assert "© Example Times" in first.excerpt
    assert first.web_url.endswith("?CMP=rss&utm_source=rss&utm_medium=feed")
    assert first.url == canonical_url(first.web_url)
    assert "utm_" not in first.url
    assert first.published_ts == ts("2020-01-30T08:45:00+00:00")
    assert first.topics == ["Technology", "Artificial intelligence", "Tech"]
    assert first.provider == "The Example Times – Technology"
    assert first.domain == "example-times.com"
    assert first.extra == {"feed_date": "published"}


def test_rss2_escaped_html_guid_permalink_and_content() -> None:
    articles = by_title(parse("rss2.xml"))
    fine = articles["Regulator fines app maker £2m over children's data"]
    assert fine.excerpt == "The fine is the largest of its kind. Read more"
    assert fine.topics == ["Privacy", "Technology"]
    guid = articles["Only a permalink GUID"]
    assert guid.url == "https://www.example-times.com/technology/2020/jan/28/permalink-guid"
    assert guid.excerpt == "Plain text, with a < sign & an ampersand."
    assert articles["A long read about long reads"].excerpt == "Short summary."


def test_outlet_is_the_links_host_when_the_link_leaves_the_feeds_site() -> None:
    other = by_title(parse("rss2.xml"))["Syndicated from elsewhere"]
    assert (other.provider, other.domain) == ("news.other-wire.com", "news.other-wire.com")


def test_atom() -> None:
    feed = parse("atom.xml", url="https://blog.example.org/feed.atom")
    assert feed.title == "Example Engineering Blog" and feed.ttl_minutes is None
    articles = by_title(feed)
    post = articles["Scaling sqlite to a million rows"]
    assert post.url == "https://blog.example.org/2020/01/scaling-sqlite"  # rel=alternate
    assert post.excerpt == "How we made full-text search fast."
    assert post.published_ts == ts("2020-01-29T08:00:00+00:00")  # published, not updated
    assert post.topics == ["Databases", "performance"]  # a label where there is one
    assert post.provider == "Example Engineering Blog"
    updated = articles["Only updated, no published"]
    assert updated.published_ts == ts("2020-01-28T15:30:00+00:00")
    assert updated.extra == {"feed_date": "updated"}
    assert updated.excerpt == "Content but no summary: the excerpt comes from here."
    relative = articles["Relative link"]
    assert relative.url == "https://blog.example.org/2020/01/relative"  # against the feed's URL


def test_rdf() -> None:
    feed = parse("rdf.xml")
    assert feed.title == "RDF Nachrichten"
    (article,) = feed.articles
    assert article.title == "Größere Brücke für München"  # decoded from ISO-8859-1
    assert article.topics == ["Verkehr"]
    assert article.published_ts == ts("2020-01-28T07:00:00+00:00")


def test_json_feed() -> None:
    feed = parse("jsonfeed.json", topics=("Podcasts",))
    assert feed.title == "Example Podcast Notes"
    assert feed.skipped == 2  # an item without any address, and one that is no object
    articles = {a.url: a for a in feed.articles}
    episode = articles["https://notes.example.net/2020/01/episode-42"]
    assert episode.title == "Episode 42: Robots & rights"
    assert episode.excerpt == "Robots and the law."
    assert episode.published_ts == ts("2020-01-30T01:00:00+00:00")
    assert episode.topics == ["Robotics", "Law", "Podcasts"]
    assert episode.provider == "Example Podcast Notes"
    untitled = articles["https://notes.example.net/2020/01/episode-41"]
    assert untitled.title.startswith("A micro-post without a title") and untitled.title[-1] == "…"
    assert len(untitled.title) <= items.TITLE_FROM_EXCERPT + 1
    assert untitled.extra == {"feed_date": "updated"}
    link_post = articles["https://elsewhere.example.com/a-link-post"]  # external_url
    assert link_post.provider == "elsewhere.example.com"


def test_json_feed_version_1_and_not_a_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old",
        "items": [{"id": "1", "url": "https://old.example.com/1", "title": "One"}],
    }
    feed = parse_feed(json.dumps(doc).encode(), "https://old.example.com/f.json", FETCHED, [])
    assert [a.title for a in feed.articles] == ["One"]
    for body in (b'{"version": "2", "items": []}', b"[1, 2]", b'{"items": "x"', b"{" * 100_000):
        result = parse_feed(body, "https://x.example.com/", FETCHED, [])
        assert result.error and result.error.startswith("not a feed"), body[:20]
        assert result.articles == []


# -- Google Alerts ----------------------------------------------------------------------------


def test_google_alerts_links_unwrapped_and_outlet_is_the_target() -> None:
    feed = parse("google-alerts.xml", url="https://www.google.com/alerts/feeds/1/2")
    assert feed.title == "Google Alert - facial recognition"
    first, second = feed.articles
    assert first.url == (
        "https://www.usnews.com/news/world/articles/2020-01-24/"
        "police-to-roll-out-live-facial-recognition-cameras-in-london"
    )
    assert first.title == "Police to roll out live facial recognition cameras in London"
    assert "&amp;" not in first.excerpt and "suspects & find" in first.excerpt
    assert (first.provider, first.domain) == ("usnews.com", "usnews.com")
    assert second.domain == "theverge.com"
    assert all("google" not in a.url and "google" not in a.provider for a in feed.articles)


@pytest.mark.parametrize(
    ("wrapped", "real"),
    [
        ("https://www.google.com/url?rct=j&sa=t&url=https://a.example.com/x&ct=ga", "https://a.example.com/x"),
        ("https://google.co.uk/url?q=https%3A%2F%2Fb.example.com%2Fy%3Fz%3D1", "https://b.example.com/y?z=1"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://www.google.com/search?url=https://c.example.com/", "https://www.google.com/search?url=https://c.example.com/"),
    ],
)  # fmt: skip
def test_unwrap(wrapped: str, real: str) -> None:
    assert items._unwrap(wrapped) == real


# -- dates, duplicates, links -----------------------------------------------------------------


def test_missing_future_garbage_and_duplicate_dates() -> None:
    feed = parse("dates.xml")
    articles = by_title(feed)
    assert articles["No date at all"].published_ts == FETCHED_TS
    assert articles["No date at all"].extra == {"feed_date": "first seen"}
    assert articles["From the future"].published_ts == FETCHED_TS
    assert articles["From the future"].extra == {"feed_date": "future, clamped"}
    assert articles["A date that is no date"].published_ts == FETCHED_TS
    assert articles["Zoned date"].published_ts == ts("2020-01-28T12:00:00+00:00")
    # The same address twice (the second under http, with utm_source): kept once, the first.
    assert feed.duplicates == 1
    assert "Duplicate, second copy" not in articles and "Duplicate, first copy" in articles
    assert articles["Same date as the duplicate"].published_ts == ts("2020-01-28T12:00:00+00:00")


def test_naive_fetch_time_is_utc() -> None:
    body = (FEEDS / "dates.xml").read_bytes()
    naive = parse_feed(body, "https://dates.example.com/", FETCHED.replace(tzinfo=None), [])
    assert by_title(naive)["No date at all"].published_ts == FETCHED_TS


def rss(
    *entries: str, channel: str = "<title>T</title><link>https://t.example.com/</link>"
) -> bytes:
    inner = "".join(f"<item>{e}</item>" for e in entries)
    return f'<rss version="2.0"><channel>{channel}{inner}</channel></rss>'.encode()


@pytest.mark.parametrize(
    "link",
    [
        "",
        "ftp://t.example.com/a",
        "javascript:alert(1)",
        "mailto:a@example.com",
        "https://t.example.com:99999/a",
        "https://t.example.com/" + "a" * 3000,
        "tag:t.example.com,2020:1",
    ],
)
def test_items_without_a_usable_link_are_skipped(link: str) -> None:
    feed = parse_feed(
        rss(f"<title>x</title><link>{link}</link>"), "https://t.example.com/", FETCHED, []
    )
    assert feed.articles == [] and feed.skipped == 1 and feed.error is None


def test_item_without_title_or_text_is_skipped_and_title_falls_back_to_excerpt() -> None:
    feed = parse_feed(
        rss(
            "<link>https://t.example.com/empty</link>",
            "<link>https://t.example.com/text</link><description>Only text here.</description>",
        ),
        "https://t.example.com/",
        FETCHED,
        [],
    )
    assert [a.title for a in feed.articles] == ["Only text here."]
    assert feed.skipped == 1


def test_excerpt_is_cut_near_300_characters_at_a_space() -> None:
    words = " ".join(["word"] * 200)
    feed = parse_feed(
        rss(
            f"<title>t</title><link>https://t.example.com/a</link><description>{words}</description>"
        ),
        "https://t.example.com/",
        FETCHED,
        [],
    )
    excerpt = feed.articles[0].excerpt
    assert 200 < len(excerpt) <= items.EXCERPT_CHARS + 1
    assert excerpt.endswith("word…")


def test_script_and_style_are_not_text_and_a_long_attribute_does_not_stay() -> None:
    html = (
        "&lt;style&gt;p{color:red}&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        f'&lt;img alt="{"x" * 2000}"&gt;Visible &amp;lt;b&amp;gt; text'
    )
    feed = parse_feed(
        rss(
            f"<title>t</title><link>https://t.example.com/a</link><description>{html}</description>"
        ),
        "https://t.example.com/",
        FETCHED,
        [],
    )
    assert feed.articles[0].excerpt == "Visible text"


def test_source_topics_follow_the_items_own_without_repeats() -> None:
    feed = parse_feed(
        rss("<title>t</title><link>https://t.example.com/a</link><category>AI</category>"),
        "https://t.example.com/",
        FETCHED,
        ["AI", "Cloud", ""],
    )
    assert feed.articles[0].topics == ["AI", "Cloud"]


@pytest.mark.parametrize(
    ("ttl", "minutes"),
    [
        ("60", 60),
        (" 5 ", 5),
        ("0", None),
        ("-3", None),
        ("soon", None),
        ("999999", items.MAX_TTL_MINUTES),
    ],
)
def test_ttl(ttl: str, minutes: int | None) -> None:
    channel = f"<title>T</title><link>https://t.example.com/</link><ttl>{ttl}</ttl>"
    assert (
        parse_feed(rss(channel=channel), "https://t.example.com/", FETCHED, []).ttl_minutes
        == minutes
    )


def test_a_feed_without_items_is_a_feed() -> None:
    feed = parse_feed(rss(), "https://t.example.com/", FETCHED, [])
    assert feed.ok and feed.articles == [] and feed.title == "T"


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("empty.xml", "not a feed (the response is empty)"),
        ("html-page.html", "not a feed (an HTML page)"),
        ("malformed.xml", "malformed XML: line 8, column 4: mismatched tag"),
        ("billion-laughs.xml", "refused: the document declares XML entities (<!ENTITY>)"),
        ("external-entity.xml", "refused: the document declares XML entities (<!ENTITY>)"),
    ],
)
def test_failures_in_plain_words(name: str, error: str) -> None:
    feed = parse(name)
    assert feed.error == error and not feed.ok
    assert feed.articles == []


@pytest.mark.parametrize(
    "body",
    [b"   \n\t", b"\xef\xbb\xbf", b"just some text", b"<note><to>x</to></note>", b"\x00\x01\x02"],
)
def test_other_bodies_are_not_feeds(body: bytes) -> None:
    feed = parse_feed(body, "https://x.example.com/", FETCHED, [])
    assert feed.error and feed.articles == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'<?xml version="1.0" encoding="\xff"?><rss/>', "not a feed (its encoding cannot be read)"),
        (b"<rss><channel><title>&#99999999;<item>", "malformed XML: chr() arg not in range(0x110000)"),
    ],
)  # fmt: skip
def test_what_feedparser_raises_on_is_a_plain_failure(body: bytes, error: str) -> None:
    assert parse_feed(body, "https://x.example.com/", FETCHED, []).error == error


def test_malformed_xml_with_entries_is_still_read() -> None:
    feed = parse("malformed-with-items.xml")
    assert feed.ok
    assert [a.url for a in feed.articles] == [
        "https://sloppy.example.com/one",
        "https://sloppy.example.com/two",
    ]
    assert feed.articles[0].title == "An unescaped & ampersand & a tag"


def test_body_is_never_taken_for_a_file_name(tmp_path: Path) -> None:
    """feedparser.parse(bytes) opens the bytes as a path first: a server answering with a file
    name must not make us read that file."""
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss("<title>Secret</title><link>https://s.example.com/</link>"))
    assert feedparser.parse(str(secret).encode()).entries  # the hazard, shown
    feed = parse_feed(str(secret).encode(), "https://x.example.com/", FETCHED, [])
    assert feed.articles == [] and feed.error


def test_entities_hidden_by_a_declared_encoding_are_refused() -> None:
    """What is checked is what feedparser parses, after its own decoding."""
    laughs = (FEEDS / "billion-laughs.xml").read_text()
    for encoding in ("utf-16", "utf-7"):
        body = laughs.replace(
            '<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'
        )
        feed = parse_feed(body.encode(encoding), "https://x.example.com/", FETCHED, [])
        assert feed.error == "refused: the document declares XML entities (<!ENTITY>)", encoding


def test_a_large_entity_used_many_times_is_refused_at_once() -> None:
    """Measured without the check: 65 s and 6 GB for this 2 MB body (feedparser's fallback
    parser expands the entity 2,000 times)."""
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "x" * 1_000_000 + '">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>' + "&a;" * 2000 + "</title>"
        "<link>https://e.example.com/a</link></item></channel></rss>"
    ).encode()
    assert parse_feed(body, "https://e.example.com/", FETCHED, []).error == (
        "refused: the document declares XML entities (<!ENTITY>)"
    )


def test_a_doctype_without_entities_is_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
        b"<title>Old</title><link>https://old.example.com/</link><item><title>Hi</title>"
        b"<link>https://old.example.com/hi</link></item></channel></rss>"
    )
    feed = parse_feed(body, "https://old.example.com/rss", FETCHED, [])
    assert [a.title for a in feed.articles] == ["Hi"]


def test_feedparser_raising_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(items.feedparser, "parse", boom)
    feed = parse("rss2.xml")
    assert feed.error == "cannot read the feed (RuntimeError)" and feed.articles == []


# -- fuzz -------------------------------------------------------------------------------------

_INJECTIONS = [
    b"<item><title>x</title><link>https://f.example.com/x</link></item>",
    b"&amp;&lt;&#0;&#xFFFFFF;&nbsp;&undefined;&#9999999999;",
    b"<!DOCTYPE x>",
    b"<![CDATA[<b>cdata</b>]]>",
    b"<?pi x?>",
    b"<!-- comment",
    b"]]>",
    b'<a href="' + b"h" * 100_000 + b'">',
    b"<" * 5000,
    b"<b>" * 5000,
    b"\x00\xff\xfe",
    "ünïcödé ✓ 😀".encode(),
    b"<pubDate>Mon, 99 Foo 99999 99:99:99 +9999</pubDate>",
    b"<link>https://www.google.com/url?url=https%3A%2F%2Fg.example.com</link>",
    b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": 1}]}',
]
_ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-7"]


def _mutate(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        if choice == 0 and data:  # truncate
            del data[rng.randrange(len(data)) :]
        elif choice == 1 and data:  # flip bytes
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice == 2:  # inject
            at = rng.randint(0, len(data))
            data[at:at] = rng.choice(_INJECTIONS)
        elif choice == 3:  # re-encode, declaring it or not
            text = bytes(data).decode("utf-8", "replace")
            encoding = rng.choice(_ENCODINGS)
            if rng.random() < 0.5:
                text = text.replace('encoding="UTF-8"', f'encoding="{encoding}"')
                text = text.replace('encoding="utf-8"', f'encoding="{encoding}"')
            data = bytearray(text.encode(encoding, "replace"))
        elif choice == 4 and data:  # duplicate a slice
            a = rng.randrange(len(data))
            b = min(len(data), a + rng.randint(1, 2000))
            data[b:b] = data[a:b] * rng.randint(1, 50)
        elif choice == 5:  # a huge attribute on the first element
            at = bytes(data).find(b"<", 1)
            if at > 0:
                data[at + 1 : at + 1] = b'x a="' + b"y" * rng.randint(1000, 200_000) + b'" '
    return bytes(data)


def test_fuzz_never_raises() -> None:
    """300 random mutations of the fixtures: parse_feed returns a ParsedFeed each time (no
    exception, no hang: the test completes)."""
    rng = random.Random(13)
    fixtures = [p.read_bytes() for p in sorted(FEEDS.iterdir()) if p.stat().st_size]
    for i in range(300):
        body = _mutate(rng, rng.choice(fixtures))
        feed = parse_feed(body, "https://fuzz.example.com/feed", FETCHED, ["Fuzz"])
        assert isinstance(feed, ParsedFeed), i
        assert (feed.error is None) or feed.articles == [], i
        for article in feed.articles:
            assert article.url == canonical_url(article.url)
            assert article.url.startswith(("http://", "https://"))
            assert article.title and len(article.title) <= items.TITLE_CHARS + 1
            assert len(article.excerpt) <= items.EXCERPT_CHARS + 1
            assert article.published_ts is not None and article.published_ts <= FETCHED_TS
            assert "Fuzz" in article.topics


def test_parse_is_bytes_in_and_never_touches_feedparser_with_a_str(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[object] = []
    real = feedparser.parse

    def spy(source: object, **kwargs: object) -> object:
        seen.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(items.feedparser, "parse", spy)
    parse("rss2.xml")
    assert len(seen) == 1 and isinstance(seen[0], io.BytesIO)
