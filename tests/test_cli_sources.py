"""``newsbot sources add|list|remove|import|export`` (issue 13, item 1): the round trip, OPML
in and out, and bad input said in one line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.feeds.opml import OpmlError, read_opml
from storage.store import Store
from tests.test_cli import newsbot

NOW = "2024-05-01T12:00:00+00:00"

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="Tech" title="Tech">
      <outline type="rss" text="Ars" title="Ars Technica"
               xmlUrl="https://FEEDS.arstechnica.com/arstechnica/index#top" category="/Science,AI"/>
      <outline text="Deeper">
        <outline type="rss" text="Hacker News" xmlurl="https://news.ycombinator.com/rss"/>
      </outline>
    </outline>
    <outline type="rss" text="Top level" xmlUrl="http://example.com/feed.xml"/>
    <outline type="rss" text="Not a feed address" xmlUrl="ftp://example.com/feed.xml"/>
    <outline text="A link, not a feed" url="https://example.com/"/>
  </body>
</opml>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<opml version="2.0"><head/><body>
<outline type="rss" text="&lol9;" xmlUrl="https://example.com/lol"/>
</body></opml>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://example.com/x"/></body></opml>
"""


def run(capsys, db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "--now", NOW, "sources", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "news.db"


def test_add_list_remove_round_trip(capsys, db, tmp_path):
    code, out, err = run(capsys, db, "add", "HTTPS://Example.com/feed.xml#x", "--topic", "AI")
    assert code == 0 and err == ""
    assert one_line(out) == "added source #1: feed https://example.com/feed.xml (topics: AI)"
    folder = tmp_path / "checkout"
    folder.mkdir()
    code, out, _ = run(capsys, db, "add", str(folder / "." / ""), "--topic", "Local")
    assert code == 0 and f"#2: folder {folder.resolve()}" in out

    code, out, _ = run(capsys, db, "list")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith("#1 · feed · active · https://example.com/feed.xml")
    assert "0 new in 7 days" in lines[0] and "last success never" in lines[0]

    code, out, _ = run(capsys, db, "list", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["kind"], r["address"], r["topics"]) for r in rows] == [
        (1, "feed", "https://example.com/feed.xml", ["AI"]),
        (2, "folder", str(folder.resolve()), ["Local"]),
    ]
    assert rows[0]["added_at"] == NOW and rows[0]["next_poll_at"] == NOW
    assert rows[0]["interval_seconds"] == 30 * 60 and rows[0]["items_last_7_days"] == 0

    code, out, _ = run(capsys, db, "remove", "1")
    assert code == 0 and one_line(out).startswith("removed source #1: feed")
    code, out, _ = run(capsys, db, "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [2]


def test_list_shows_health(capsys, db):
    run(capsys, db, "add", "https://a.example/rss")
    store = Store(db)
    t = dt.datetime.fromisoformat(NOW)
    store.record_failure(1, "timed out", t, t - dt.timedelta(hours=1))
    store.record_failure(1, "blocked (403)", t, t)
    store.close()
    _, out, _ = run(capsys, db, "list")
    assert "failing: blocked (403) (2 in a row since 2024-05-01 11:00 UTC)" in out


def test_the_interval_follows_the_configuration(capsys, db, monkeypatch):
    monkeypatch.setenv("NEWSBOT_SOURCES_POLL_MINUTES", "5")  # below the floor of 10
    run(capsys, db, "add", "https://a.example/rss")
    monkeypatch.setenv("NEWSBOT_SOURCES_POLL_MINUTES", "90")
    run(capsys, db, "add", "https://b.example/rss")
    _, out, _ = run(capsys, db, "list", "--json")
    assert [r["interval_seconds"] for r in json.loads(out)] == [600, 5400]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["add", "ftp://example.com/feed"],
            "add: not an http(s) address: 'ftp://example.com/feed'",
        ),
        (["add", "https://u:pw@example.com/"], "add: an address with a user name or password"),
        (["add", "http:///nohost"], "add: not a valid address"),
        (["add", "{tmp}/missing"], "add: no such folder: {tmp}/missing"),
        (["add", "{tmp}/a-file"], "add: not a folder: {tmp}/a-file"),
        (["add", "https://dup.example/feed"], "add: already a source: source #1: feed"),
        (["remove", "42"], "remove: no source #42"),
        (["remove", "one"], "remove: 'one' is not a source id"),
        (["import", "{tmp}/missing.opml"], "import: cannot read {tmp}/missing.opml"),
        (["import", "{tmp}/broken.opml"], "import: {tmp}/broken.opml: not well-formed XML"),
        (["import", "{tmp}/lol.opml"], "import: {tmp}/lol.opml: refused: it declares a DTD"),
        (["import", "{tmp}/xxe.opml"], "import: {tmp}/xxe.opml: refused: it declares a DTD"),
        (["import", "{tmp}/rss.opml"], "import: {tmp}/rss.opml: not OPML (the root element"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(capsys, db, tmp_path, args, says):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "broken.opml").write_text("<opml><body><outline xmlUrl='x'></body>")
    (tmp_path / "lol.opml").write_text(BILLION_LAUGHS)
    (tmp_path / "xxe.opml").write_text(EXTERNAL_ENTITY)
    (tmp_path / "rss.opml").write_text("<rss version='2.0'><channel/></rss>")
    run(capsys, db, "add", "https://dup.example/feed")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(capsys, db, *args)
    assert code == 1 and out == ""
    line = one_line(err)
    assert line.startswith("newsbot sources " + says.replace("{tmp}", str(tmp_path))), line
    assert "Traceback" not in err and "pw" not in line
    _, listed, _ = run(capsys, db, "list", "--json")
    assert [r["address"] for r in json.loads(listed)] == ["https://dup.example/feed"]


def test_import_reads_nested_folders_categories_and_refuses_bad_addresses(capsys, db, tmp_path):
    file = tmp_path / "feeds.opml"
    file.write_text(OPML)
    code, out, err = run(capsys, db, "import", str(file), "--topic", "Imported")
    assert code == 1  # one outline refused
    assert one_line(err) == "refused: not an http(s) address: 'ftp://example.com/feed.xml'"
    assert one_line(out) == "4 feeds in feeds.opml: 3 added, 0 already sources, 1 refused"
    _, listed, _ = run(capsys, db, "list", "--json")
    got = [(r["address"], r["title"], r["topics"]) for r in json.loads(listed)]
    assert got == [
        (
            "https://feeds.arstechnica.com/arstechnica/index",
            "Ars Technica",
            ["Tech", "Science", "AI", "Imported"],
        ),
        ("https://news.ycombinator.com/rss", "Hacker News", ["Tech", "Deeper", "Imported"]),
        ("http://example.com/feed.xml", "Top level", ["Imported"]),
    ]
    code, out, _ = run(capsys, db, "import", str(file))  # again: nothing new
    assert out.strip() == "4 feeds in feeds.opml: 0 added, 3 already sources, 1 refused"


def test_export_round_trips_through_import(capsys, db, tmp_path):
    file = tmp_path / "feeds.opml"
    file.write_text(OPML)
    run(capsys, db, "import", str(file))
    run(capsys, db, "add", str(tmp_path))  # a folder: not in an OPML list of feeds
    run(capsys, db, "add", "https://odd.example/feed", "--topic", "a, b", "--topic", "c/d")
    code, exported, err = run(capsys, db, "export")
    assert code == 0 and err == ""
    assert exported.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    again = tmp_path / "again.opml"
    again.write_text(exported)
    other = tmp_path / "other.db"
    code, out, _ = run(capsys, other, "import", str(again))
    assert (
        code == 0 and out.strip() == "4 feeds in again.opml: 4 added, 0 already sources, 0 refused"
    )

    def feeds(path: Path) -> list[tuple]:
        _, listed, _ = run(capsys, path, "list", "--json")
        return [
            (r["address"], r["title"], r["topics"])
            for r in json.loads(listed)
            if r["kind"] == "feed"
        ]

    assert feeds(other) == [
        (a, t, ["a b", "c/d"] if topics == ["a, b", "c/d"] else topics)
        for a, t, topics in feeds(db)
    ]
    run(capsys, other, "export")


def test_read_opml_refuses_entity_bombs_without_expanding_them():
    with pytest.raises(OpmlError, match="DTD"):
        read_opml(BILLION_LAUGHS.encode())
    with pytest.raises(OpmlError, match="DTD"):
        read_opml(EXTERNAL_ENTITY.encode())
    with pytest.raises(OpmlError, match="no <body>"):
        read_opml(b"<opml version='2.0'><head/></opml>")
    with pytest.raises(OpmlError, match="too large"):
        read_opml(b" " * (10 * 1024 * 1024 + 1))


def test_the_console_script_has_the_sources_command(tmp_path):
    proc = newsbot(
        "--db", str(tmp_path / "n.db"), "sources", "add", "https://a.example/rss", cwd=tmp_path
    )
    assert (
        proc.returncode == 0
        and proc.stdout.strip() == "added source #1: feed https://a.example/rss"
    )
    proc = newsbot("--db", str(tmp_path / "n.db"), "sources", "export", cwd=tmp_path, script=True)
    assert proc.returncode == 0 and 'xmlUrl="https://a.example/rss"' in proc.stdout
    proc = newsbot("--db", str(tmp_path / "n.db"), "sources", "add", "nope", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0


def test_poll_runs_one_round_and_says_what_each_source_did(capsys, db, monkeypatch):
    from tests.fakefeeds import FakeFeeds

    feeds = FakeFeeds()
    try:
        monkeypatch.setenv("NEWSBOT_SOURCES_ALLOW_PRIVATE", "true")
        rss = (Path(__file__).parent / "fixtures" / "feeds" / "rss2.xml").read_bytes()
        good = feeds.serve("/rss", body=rss)
        bad = feeds.serve("/down", status=503)
        assert run(capsys, db, "add", good, "--topic", "chips")[0] == 0
        assert run(capsys, db, "add", bad)[0] == 0
        code, out, _ = run(capsys, db, "poll")
        assert code == 1  # one source failed
        assert "#1 ok:" in out and "#2 failed: server error (503)" in out
        assert out.strip().splitlines()[-1].startswith("2 sources polled, ")
        # one source, due or not
        code, out, _ = run(capsys, db, "poll", "1")
        assert code == 0 and "#1 unchanged:" in out  # the same body again (no ETag sent)
        code, _, err = run(capsys, db, "poll", "99")
        assert code == 1 and "no source '99'" in one_line(err)
    finally:
        feeds.close()


def test_poll_refuses_a_private_address_unless_allowed(capsys, db, monkeypatch):
    from tests.fakefeeds import FakeFeeds

    feeds = FakeFeeds()
    try:
        monkeypatch.delenv("NEWSBOT_SOURCES_ALLOW_PRIVATE", raising=False)
        assert run(capsys, db, "add", feeds.serve("/rss", body=b"<rss/>"))[0] == 0
        code, out, _ = run(capsys, db, "poll")
        assert code == 1 and "refused: private address" in out
        assert feeds.requests_to("/rss") == []
    finally:
        feeds.close()
