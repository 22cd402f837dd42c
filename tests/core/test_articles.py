"""Reading one article file: canonical addresses, fields, and every kind of bad file."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.articles import (
    BadFile,
    canonical_url,
    clean_text,
    parse_file,
    parse_text,
    parse_timestamp,
)
from tests.conftest import POWER_APPS, SEED_FILE
from tests.helpers import article, front, write

# -- canonical addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        # scheme and host are case-insensitive; the path is not
        ("HTTPS://WWW.Reuters.COM/Article/X", "https://www.reuters.com/Article/X"),
        ("Http://Example.com/a", "http://example.com/a"),
        # the fragment never reaches the server
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?x=1#top", "https://example.com/a?x=1"),
        # tracking parameters go, whatever their case; the others stay, in order
        ("https://example.com/a?utm_source=tw&utm_medium=social", "https://example.com/a"),
        ("https://example.com/a?UTM_Campaign=x&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&fbclid=abc&a=1&gclid=z", "https://example.com/a?b=2&a=1"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&ocid=3&smid=4", "https://example.com/a"),
        (
            "https://uk.reuters.com/article/idUKL8N29X4CD?feedType=RSS&feedName=technology",
            "https://uk.reuters.com/article/idUKL8N29X4CD",
        ),
        ("https://example.com/a?page=2", "https://example.com/a?page=2"),
        # default ports go, others stay; an empty path is "/"
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        # surrounding blanks are not part of an address
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_url(given: str, canonical: str) -> None:
    assert canonical_url(given) == canonical


def test_canonical_url_is_stable() -> None:
    urls = [
        "HTTPS://WWW.Reuters.COM/Article/X?utm_source=a&q=1#f",
        "https://example.com/a%20b?x=%C3%A9&y=1+2",
        "http://example.com:8080",
        "http://[::1]:8080/x",
    ]
    for url in urls:
        once = canonical_url(url)
        assert canonical_url(once) == once


def test_canonical_url_keeps_an_ipv6_host_an_address() -> None:
    # Bug fixed: "http://[::1]:8080/x" came out as "http://::1:8080/x", which is no URL.
    assert canonical_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
    assert canonical_url("HTTP://[2001:DB8::1]/x#f") == "http://[2001:db8::1]/x"


def test_same_article_whatever_the_decoration() -> None:
    base = "https://www.nytimes.com/2020/01/29/technology/facebook-privacy-lawsuit-earnings.html"
    variants = [
        base.replace("https://www.nytimes.com", "HTTPS://WWW.NYTIMES.COM"),
        base + "#story-continues-1",
        base + "?utm_source=twitter&utm_medium=social&smid=tw-nytimes",
        base + "?smtyp=cur&smid=fb-nytimes",
    ]
    assert {canonical_url(v) for v in variants} == {canonical_url(base)}


def test_amp_addresses_become_aliases() -> None:
    a = parse_text(
        front(
            **article(
                "Moscow rolls out live facial recognition",
                "https://www.theverge.com/2020/1/30/moscow?utm_source=x",
                ampWebUrl="https://www.theverge.com/platform/amp/2020/1/30/moscow",
                cdnAmpWebUrl="https://WWW-THEVERGE-COM.cdn.ampproject.org/c/s/x#frag",
            )
        )
    )
    assert a.url == "https://www.theverge.com/2020/1/30/moscow"
    assert a.web_url == "https://www.theverge.com/2020/1/30/moscow?utm_source=x"
    assert a.aliases == [
        "https://www.theverge.com/platform/amp/2020/1/30/moscow",
        "https://www-theverge-com.cdn.ampproject.org/c/s/x",
    ]


def test_an_alias_equal_to_the_address_is_not_kept() -> None:
    url = "https://www.infoworld.com/article/3617869/microsoft-fleshes-out-power-apps.html"
    a = parse_text(front(title="t", webUrl=url, originalUrl=url + "#x"))
    assert a.aliases == []


def test_an_odd_amp_address_does_not_reject_the_article() -> None:
    a = parse_text(front(title="t", webUrl="https://a.example/x", ampWebUrl="not a url"))
    assert a.url == "https://a.example/x" and a.aliases == []


def test_an_amp_address_with_a_bad_port_does_not_reject_the_article() -> None:
    # Bug fixed: canonical_url raised ValueError ("Port out of range") past the loader.
    a = parse_text(
        front(title="t", webUrl="https://a.example/x", ampWebUrl="https://a.example:99999/x")
    )
    assert a.url == "https://a.example/x" and a.aliases == []


# -- fields ----------------------------------------------------------------------------------


def test_the_seed_file() -> None:
    a = parse_file(SEED_FILE)
    assert a.title == "Police to Roll Out Live Facial Recognition Cameras in London"
    assert a.provider == "U.S. News & World Report" and a.domain == "usnews.com"
    assert a.topics == ["AI", "Computer Vision"]
    assert a.published == "2020-01-26T10:57:00Z"
    assert a.quality == 49 and a.heat == -1
    assert len(a.related) == 22
    # the related entries have no labels of their own: they inherit the file's, kept apart
    assert all(r.topics == [] for r in a.related)
    assert all(r.inherited_topics == ["AI", "Computer Vision"] for r in a.related)
    assert "secured" not in a.extra and all("secured" not in r.extra for r in a.related)


def test_every_power_apps_file_parses() -> None:
    files = sorted(POWER_APPS.iterdir())
    assert len(files) == 192
    parsed = [parse_file(f) for f in files]
    assert all(a.title and a.url.startswith("https://") for a in parsed)
    assert all(a.topics for a in parsed)
    # a video gives no webUrl: its originalUrl is its address
    video = parse_file(POWER_APPS / "2020-11-12-ai-builder-receipt-scanning.md")
    assert video.type == "video" and video.featured_content
    assert video.url.startswith("https://")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01-26T10:57:00Z", "2020-01-26T10:57:00Z"),
        ("2020-01-26T12:57:00+02:00", "2020-01-26T10:57:00Z"),
        ("2020-01-26T10:57:00", "2020-01-26T10:57:00Z"),  # no zone: UTC
        ("2020-01-26 10:57", "2020-01-26T10:57:00Z"),
        (dt.datetime(2020, 1, 26, 10, 57), "2020-01-26T10:57:00Z"),  # YAML hands it over
        (dt.date(2020, 1, 26), "2020-01-26T00:00:00Z"),
    ],
)
def test_publication_times(value: object, expected: str) -> None:
    ts = parse_timestamp(value)
    assert dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == expected


def test_publication_time_unquoted_in_yaml() -> None:
    text = (
        "---\ntitle: t\nwebUrl: https://a.example/x\npublishedDateTime: 2020-01-26T10:57:00Z\n---\n"
    )
    assert parse_text(text).published == "2020-01-26T10:57:00Z"


def test_no_publication_time_is_unknown() -> None:
    assert parse_text(front(title="t", webUrl="https://a.example/x")).published_ts is None


def test_text_fields_are_cleaned() -> None:
    a = parse_text(
        front(
            title="  AT&amp;T   <b>wins</b> ",
            webUrl="https://a.example/x",
            excerpt="<p>Five &lt; six &amp; seven&nbsp;&#8212; fine</p>",
        )
    )
    assert a.title == "AT&T wins"
    assert a.excerpt == "Five < six & seven \u2014 fine"
    assert clean_text(None) == ""


def test_forgiven_field_shapes() -> None:
    # an integer written as a string, one topic given as a string, a number as a title
    a = parse_text(
        front(
            title=1984,
            webUrl="https://a.example/x",
            quality="97",
            topics="Power Apps",
            heat=None,
            provider=None,
            images=None,
        )
    )
    assert a.title == "1984" and a.quality == 97 and a.heat is None
    assert a.topics == ["Power Apps"]
    assert a.provider == "a.example" and a.domain == "a.example"
    assert a.images == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        # Bug fixed: a title given as a list was stored as "['a', 'b']".
        ({"title": ["a", "b"]}, "title is a list, not a string"),
        ({"title": {"a": 1}}, "title is a mapping, not a string"),
        ({"title": True}, "title is a boolean, not a string"),
        ({"excerpt": ["a"]}, "excerpt is a list, not a string"),
        ({"category": {"x": 1}}, "category is a mapping, not a string"),
        ({"type": [1]}, "type is a list, not a string"),
        ({"featuredContent": ["<iframe>"]}, "featuredContent is a list"),
        ({"ampWebUrl": ["https://a.example/amp"]}, "ampWebUrl is a list"),
        ({"heat": "hot"}, "heat is not an integer: 'hot'"),
        ({"quality": 9.5}, "quality is a number, not an integer"),
        ({"quality": [1]}, "quality is a list, not an integer"),
        ({"published": "yes please"}, "published is a string, not a boolean"),
        ({"provider": "not a mapping"}, "provider is a string, not a mapping"),
        ({"provider": {"name": ["R"]}}, "provider name is a list, not a string"),
        ({"provider": {"domain": {"a": 1}}}, "provider domain is a mapping, not a string"),
        ({"topics": {"AI": 1}}, "topics is a mapping, not a list of strings"),
        ({"topics": ["AI", ["nested"]]}, "topic 2 is a list, not a string"),
        ({"images": "not a list"}, "images is a string, not a list"),
        ({"images": ["https://a.example/i.png"]}, "image 1 is a string, not a mapping"),
        ({"publishedDateTime": ["2020-01-01"]}, "publishedDateTime is a list, not a time"),
        (
            {"related": [{"title": ["x"], "webUrl": "https://b.example/"}]},
            "related entry 1: title is a list, not a string",
        ),
    ],
)
def test_a_known_field_of_the_wrong_type_is_a_bad_file(fields: dict, reason: str) -> None:
    with pytest.raises(BadFile) as caught:
        parse_text(front(**{"title": "t", "webUrl": "https://a.example/x", **fields}))
    assert reason in str(caught.value)


def test_an_integer_too_large_for_sqlite_is_unknown() -> None:
    # Bug fixed: it parsed, then made the loader crash with OverflowError at INSERT.
    a = parse_text(
        "---\ntitle: t\nwebUrl: https://a.example/x\nquality: 99999999999999999999999\n"
        "heat: -99999999999999999999999\n---\n"
    )
    assert a.quality is None and a.heat is None


def test_unknown_fields_are_kept_and_secured_is_not() -> None:
    a = parse_text(
        front(
            title="t",
            webUrl="https://a.example/x",
            secured="TOKEN-abc",
            newField={"nested": [1, 2]},
            related=[
                {"title": "r", "webUrl": "https://b.example/r", "secured": "TOKEN-def", "x": 1}
            ],
        )
    )
    assert a.extra == {"newField": {"nested": [1, 2]}}
    assert a.related[0].extra == {"x": 1}
    assert "TOKEN" not in repr(a)


def test_related_entries_inherit_the_parents_topics_unless_they_have_their_own() -> None:
    a = parse_text(
        front(
            title="t",
            webUrl="https://a.example/x",
            topics=["AI"],
            related=[
                {"title": "r1", "webUrl": "https://b.example/1"},
                {"title": "r2", "webUrl": "https://b.example/2", "topics": ["Robots"]},
            ],
        )
    )
    assert [r.topics for r in a.related] == [[], ["Robots"]]
    assert [r.inherited_topics for r in a.related] == [["AI"], []]
    assert a.inherited_topics == []


def test_video_without_web_url_uses_original_url() -> None:
    a = parse_text(front(title="t", originalUrl="https://www.youtube.com/watch?v=abc"))
    assert a.url == "https://www.youtube.com/watch?v=abc"


def test_bom_and_crlf_are_fine(tmp_path) -> None:
    text = front(title="t", webUrl="https://a.example/x").replace("\n", "\r\n")
    path = write(tmp_path, "crlf.txt", "\ufeff" + text)
    assert parse_file(path).title == "t"


# -- bad files -------------------------------------------------------------------------------

GOOD = {"title": "t", "webUrl": "https://a.example/x"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("title: t\nwebUrl: https://a.example/x\n", "no front matter"),
        ("", "no front matter"),
        ("# Markdown\n---\ntitle: t\n---\n", "no front matter"),
        ("---\ntitle: t\nwebUrl: https://a.example/x\n", "not closed"),
        ("---\n- a\n- b\n---\n", "not a YAML mapping (got list)"),
        ("---\njust a sentence\n---\n", "not a YAML mapping (got str)"),
        ("---\n---\n", "not a YAML mapping"),
        (front(webUrl="https://a.example/x"), "missing title"),
        (front(title="   ", webUrl="https://a.example/x"), "missing title"),
        (front(title="t"), "missing webUrl"),
        (front(title="t", webUrl=""), "missing webUrl"),
        (front(title="t", webUrl="ftp://a.example/x"), "not an http(s) URL"),
        (front(title="t", webUrl="javascript:alert(1)"), "not an http(s) URL"),
        (front(title="t", webUrl="https://"), "not an http(s) URL"),
        (front(title="t", webUrl="/relative/path"), "not an http(s) URL"),
        (front(title="t", webUrl=42), "not a string"),
        (front(title="t", webUrl="https://a.example:99999/x"), "webUrl"),
        (front(title="t", webUrl="http://a.example:port/x"), "webUrl"),
        (front(**GOOD, publishedDateTime="yesterday"), "publishedDateTime"),
        (front(**GOOD, publishedDateTime="2020-02-30T10:00:00Z"), "publishedDateTime"),
        (front(**GOOD, publishedDateTime=1580000000), "publishedDateTime"),
        # YAML itself reads these as timestamps, then cannot build them (bug fixed: ValueError)
        (
            "---\ntitle: t\nwebUrl: https://a.example/x\npublishedDateTime: 2020-13-45\n---\n",
            "YAML error: month must be in 1..12",
        ),
        (
            "---\ntitle: t\nwebUrl: https://a.example/x\n"
            "publishedDateTime: 2020-01-26T25:00:00Z\n---\n",
            "YAML error: hour must be in 0..23",
        ),
        (front(**GOOD, related="not a list"), "related is not a list"),
        (front(**GOOD, related=["text"]), "related entry 1 is not a mapping"),
        (
            front(
                **GOOD, related=[{"title": "ok", "webUrl": "https://b.example/"}, {"title": "x"}]
            ),
            "related entry 2: missing webUrl",
        ),
    ],
)
def test_bad_text(text: str, reason: str) -> None:
    with pytest.raises(BadFile) as caught:
        parse_text(text)
    assert reason in str(caught.value)


def test_yaml_error_gives_the_files_line_number() -> None:
    text = (
        "---\n"  # line 1
        "title: t\n"  # 2
        "webUrl: https://a.example/x\n"  # 3
        "excerpt: fine\n"  # 4
        "topics: [AI, Robots\n"  # 5: never closed
        "quality: 5\n"  # 6
        "---\n"
    )
    with pytest.raises(BadFile) as caught:
        parse_text(text)
    assert caught.value.line == 6  # where YAML noticed: the first line after the open list
    assert str(caught.value).startswith("line 6: YAML error")

    text = "---\ntitle: t\nwebUrl: https://a.example/x\n\tquality: 5\n---\n"
    with pytest.raises(BadFile) as caught:
        parse_text(text)
    assert caught.value.line == 4  # the tab


def test_yaml_aliases_that_loop_are_a_bad_file() -> None:
    # Bug fixed: a related list that contains itself recursed until RecursionError.
    text = (
        "---\ntitle: t\nwebUrl: https://a.example/x\n"
        "related: &r\n  - title: u\n    webUrl: https://b.example/u\n    related: *r\n"
        "---\n"
    )
    with pytest.raises(BadFile, match="alias"):
        parse_text(text)
    text = "---\ntitle: t\nwebUrl: https://a.example/x\nfoo: &f\n  bar: *f\n---\n"
    with pytest.raises(BadFile, match="alias"):
        parse_text(text)


def test_yaml_aliases_that_explode_are_a_bad_file() -> None:
    # "Billion laughs": a few hundred bytes that expand to 9**6 strings once serialised (and
    # to 9**9, minutes of work and gigabytes, with three more lines).
    lines = ["---", "title: t", "webUrl: https://a.example/x"]
    lines += ["l0: &l0 [" + ",".join(["lol"] * 9) + "]"]
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 6)]
    with pytest.raises(BadFile, match="alias"):
        parse_text("\n".join(lines + ["---", ""]))


def test_a_few_yaml_aliases_are_fine() -> None:
    text = (
        "---\ntitle: t\nwebUrl: https://a.example/x\ntopics: &t [AI]\n"
        "related:\n  - title: u\n    webUrl: https://b.example/u\n    topics: *t\n---\n"
    )
    assert parse_text(text).related[0].topics == ["AI"]


def test_not_utf8(tmp_path) -> None:
    path = write(tmp_path, "latin1.txt", front(**GOOD, excerpt="café").encode("latin-1"))
    with pytest.raises(BadFile, match="not UTF-8"):
        parse_file(path)
    path = write(tmp_path, "utf16.txt", front(**GOOD).encode("utf-16"))
    with pytest.raises(BadFile, match="not UTF-8"):
        parse_file(path)


def test_size_cap(tmp_path) -> None:
    path = write(tmp_path, "big.md", front(**GOOD, excerpt="x" * 5000))
    assert parse_file(path, max_bytes=10_000).title == "t"
    with pytest.raises(BadFile, match="over the 1,000-byte cap"):
        parse_file(path, max_bytes=1000)


def test_unreadable(tmp_path) -> None:
    with pytest.raises(BadFile, match="cannot read"):
        parse_file(tmp_path / "missing.md")
