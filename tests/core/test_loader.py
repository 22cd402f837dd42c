"""Loading files into the store: bad files, idempotent reloads, related entries, atomicity."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.core.loader import Loader, LoadReport, iter_files
from storage.store import Store
from tests.conftest import NOW, POWER_APPS, SEED, SEED_FILE, FixedClock
from tests.helpers import article, by_url, dump, front, rows, topics, write, write_article

SEED_TOKEN = "KoASt9YRe5gt0sfTX+86JuSaFA2TH7A5DA2OXc0WrfkE7zjOiS1Oo8FdIJcjGgyOi"


def load(store: Store, *paths, clock=None, **kw) -> LoadReport:
    return Loader(store, clock or FixedClock(), **kw).load(paths)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A folder for the test's article files (beside, not around, the database)."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


# -- bad files -------------------------------------------------------------------------------

GOOD = article("Acme opens a factory", "https://news.example/acme")

BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "no-front-matter.md": ("# Just Markdown\n\nNo front matter here.\n", "no front matter"),
    "yaml-error.md": (
        "---\ntitle: t\nwebUrl: https://news.example/y\ntopics: [AI\nquality: 5\n---\n",
        "line 5: YAML error",
    ),
    "not-a-mapping.yaml": ("---\n- one\n- two\n---\n", "not a YAML mapping"),
    "no-title.md": (front(webUrl="https://news.example/t"), "missing title"),
    "no-address.md": (front(title="An article with no address"), "missing webUrl"),
    "ftp.md": (front(title="t", webUrl="ftp://news.example/f"), "not an http(s) URL"),
    "bad-date.md": (
        front(title="t", webUrl="https://news.example/d", publishedDateTime="last Tuesday"),
        "publishedDateTime",
    ),
    "latin-1.txt": (
        front(title="Caf\u00e9 opens", webUrl="https://news.example/c").encode("latin-1"),
        "not UTF-8",
    ),
    "huge.md": (front(title="t", webUrl="https://news.example/h", excerpt="x" * 60_000), "cap"),
}


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    for name, (text, _) in BAD_FILES.items():
        write(folder, name, text)
    write(folder, "good-1.md", front(**GOOD))
    write(folder, "sub/good-2.txt", front(**article("Globex hires", "https://news.example/g")))
    shutil.copy(SEED_FILE, folder / "sub" / "seed.txt")
    return folder


def test_each_bad_file_is_reported_with_its_reason_and_the_others_load(fresh_db, mixed_folder):
    report = load(fresh_db, mixed_folder, max_bytes=50_000)  # the seed file is 23 kB
    reasons = {Path(path).name: reason for path, reason in report.bad}
    assert set(reasons) == set(BAD_FILES)
    for name, (_, expected) in BAD_FILES.items():
        assert expected in reasons[name], (name, reasons[name])
    assert all(path.startswith(str(mixed_folder)) for path, _ in report.bad)
    assert report.files == len(BAD_FILES) + 3
    assert report.articles == 2 + 23 and report.new == 25
    assert fresh_db.count_articles() == 25
    assert not report.ok
    assert report.summary().startswith(f"25 articles from {len(BAD_FILES) + 3} files, 9 bad")


def test_a_missing_path_is_reported(fresh_db, src):
    report = load(fresh_db, src / "nowhere.md", SEED_FILE)
    assert report.bad == [(str(src / "nowhere.md"), "no such file or folder")]
    assert fresh_db.count_articles() == 23


def test_hidden_files_and_folders_are_skipped(tmp_path):
    write_article(tmp_path, "a.md", "Visible", "https://news.example/v")
    write_article(tmp_path, ".hidden.md", "Hidden", "https://news.example/h")
    write_article(tmp_path, ".git/objects/x.md", "In git", "https://news.example/g")
    write_article(tmp_path, "sub/b.yaml", "Nested", "https://news.example/n")
    names = [p.name for p in iter_files([tmp_path])]
    assert names == ["a.md", "b.yaml"]


def test_file_extension_carries_no_meaning(fresh_db, src):
    for i, ext in enumerate(["txt", "md", "yaml", "weird", ""]):
        write_article(src, f"f{i}.{ext}".rstrip("."), f"Story {i}", f"https://n.example/{i}")
    assert load(fresh_db, src).new == 5


# -- idempotent reloads ----------------------------------------------------------------------


def test_seed_gives_23_articles_after_one_load_or_five(fresh_db):
    first = load(fresh_db, SEED)
    assert (first.files, first.articles, first.new, first.updated, first.bad) == (1, 23, 23, 0, [])
    once = dump(fresh_db)
    for _ in range(4):
        again = load(fresh_db, SEED)
        assert (again.articles, again.new, again.updated) == (23, 0, 0)
    assert fresh_db.count_articles() == 23
    assert dump(fresh_db) == once


def test_power_apps_gives_191_articles_and_reloads_change_nothing(fresh_db):
    first = load(fresh_db, POWER_APPS)
    assert (first.files, first.articles, first.bad) == (192, 192, [])
    assert first.new == 191  # two files give the same address
    assert fresh_db.count_articles() == 191
    once = dump(fresh_db)
    again = load(fresh_db, POWER_APPS)
    assert (again.new, again.updated) == (0, 0)
    assert dump(fresh_db) == once


def test_reloading_in_any_order_changes_nothing(fresh_db):
    files = list(iter_files([SEED, POWER_APPS]))
    clock = FixedClock()
    Loader(fresh_db, clock).load(files)
    before = dump(fresh_db)
    assert fresh_db.count_articles() == 23 + 191
    for order in (files[::-1], random.Random(7).sample(files, len(files)), files[5:] + files[:5]):
        clock.advance(hours=1)  # a later load must not even touch loaded_at
        report = Loader(fresh_db, clock).load(order)
        assert (report.new, report.updated) == (0, 0)
        assert dump(fresh_db) == before


def test_loading_in_another_order_gives_the_same_articles_and_stories(tmp_path):
    files = list(iter_files([SEED, POWER_APPS]))

    def result(order: list[Path], name: str) -> tuple[set[str], set[frozenset[str]]]:
        store = Store(tmp_path / name)
        Loader(store, FixedClock()).load(order)
        groups: dict[int, set[str]] = {}
        for row in rows(store):
            groups.setdefault(row["story_id"], set()).add(row["url"])
        store.close()
        return {u for g in groups.values() for u in g}, {frozenset(g) for g in groups.values()}

    forward = result(files, "forward.db")
    assert result(files[::-1], "backward.db") == forward
    assert result(random.Random(3).sample(files, len(files)), "shuffled.db") == forward
    # 13 articles join others (issue 11's grouping; tests/core/test_loader_stories.py says which)
    assert len(forward[0]) == 214 and len(forward[1]) == 201


def test_two_files_with_one_address_make_one_article(fresh_db):
    a = (
        POWER_APPS
        / "2021-01-14-on-boarding-user-external-user-to-tenant-through-powerapps-portal.md"
    )
    b = POWER_APPS / "2021-02-28-user-on-boarding-walkthrough-powerapps-portal-way.md"
    report = load(fresh_db, a, b)
    assert report.articles == 2 and report.new == 1
    (row,) = rows(fresh_db)
    assert row["source_file"] == str(a)  # the first file to bring an article owns it
    assert row["title"] == "On Boarding User External user to tenant through Powerapps portal"


def test_tracking_parameters_and_case_do_not_make_a_new_article(fresh_db, src):
    url = "https://www.reuters.com/article/us-britain-data-privacy/idUSKBN1ZR273"
    write_article(src, "a.md", "Watchdog urges caution", url)
    write_article(
        src,
        "b.md",
        "Watchdog urges caution",
        "HTTPS://WWW.REUTERS.COM/article/us-britain-data-privacy/idUSKBN1ZR273"
        "?utm_source=twitter&feedType=RSS#comments",
    )
    report = load(fresh_db, src)
    assert report.new == 1 and fresh_db.count_articles() == 1
    assert rows(fresh_db)[0]["web_url"] == url  # the owner's address is the link


def test_amp_addresses_point_to_the_same_article(fresh_db, src):
    load(fresh_db, SEED)
    verge = "https://www.theverge.com/2020/1/30/21115119/moscow-live-facial-recognition-roll-out-ntechlab-deployment"
    amp = "https://www.theverge.com/platform/amp/2020/1/30/21115119/moscow-live-facial-recognition-roll-out-ntechlab-deployment"
    cdn = "https://www-theverge-com.cdn.ampproject.org/c/s/www.theverge.com/platform/amp/2020/1/30/21115119/moscow-live-facial-recognition-roll-out-ntechlab-deployment"
    article_id = by_url(fresh_db, verge)["id"]
    assert fresh_db.article_by_url(amp)["id"] == article_id
    assert fresh_db.article_by_url(cdn)["id"] == article_id
    # a file that gives the AMP copy as its address adds nothing, whichever it names
    write_article(src, "amp.md", "Moscow rolls out live facial recognition", amp + "?utm_medium=x")
    write_article(src, "cdn.md", "Moscow rolls out live facial recognition", cdn)
    report = load(fresh_db, src)
    assert report.new == 0 and fresh_db.count_articles() == 23


def test_an_article_first_known_by_its_amp_address_is_joined_by_the_main_one(fresh_db, src):
    write_article(src, "1.md", "Facebook to pay", "https://n.example/a.amp.html")
    write_article(
        src,
        "2.md",
        "Facebook to pay",
        "https://n.example/a.html",
        ampWebUrl="https://n.example/a.amp.html",
    )
    report = load(fresh_db, src / "1.md", src / "2.md")
    assert report.new == 1 and fresh_db.count_articles() == 1
    assert fresh_db.article_by_url("https://n.example/a.html") is not None


# -- related entries, unknown fields, secrets ------------------------------------------------


def test_related_entries_are_articles_linked_to_their_parent(fresh_db):
    load(fresh_db, SEED)
    parent = by_url(
        fresh_db,
        "https://www.usnews.com/news/world/articles/2020-01-24/police-to-roll-out-live-facial-recognition-cameras-in-london",
    )
    assert parent["parent_id"] is None
    children = rows(fresh_db, "parent_id = ?", (parent["id"],))
    assert len(children) == 22
    # no labels of their own: the file's are inherited, kept apart from (and not indexed as) own
    assert all(topics(c) == [] for c in children)
    assert all(json.loads(c["inherited_topics"]) == ["AI", "Computer Vision"] for c in children)
    assert {c["provider"] for c in children} >= {"Reuters", "Forbes", "New York Times", "The Verge"}
    # each is searchable in its own right
    assert fresh_db.match_newest('"findface"', 10)


def test_related_entry_keeps_its_own_topics_and_inherits_from_its_first_parent_only(fresh_db, src):
    write(
        src,
        "a.md",
        front(
            **article("Parent A", "https://n.example/a", topics=["AI"]),
            related=[
                article("Child", "https://n.example/c"),
                article("Own topics", "https://n.example/o", topics=["Robots"]),
            ],
        ),
    )
    write(
        src,
        "b.md",
        front(
            **article("Parent B", "https://n.example/b", topics=["Privacy"]),
            related=[article("Child", "https://n.example/c")],
        ),
    )
    load(fresh_db, src)
    own = by_url(fresh_db, "https://n.example/o")
    assert (topics(own), json.loads(own["inherited_topics"])) == (["Robots"], [])
    child = by_url(fresh_db, "https://n.example/c")
    assert (topics(child), json.loads(child["inherited_topics"])) == ([], ["AI"])
    assert child["parent_id"] == by_url(fresh_db, "https://n.example/a")["id"]  # first link kept


def test_a_later_file_naming_an_article_fills_its_blanks_whatever_the_reload_order(fresh_db, src):
    # Bug fixed: reloading the owner file emptied a field another file had filled in, so the
    # database depended on the order of reloads.
    a = write(src, "a.md", front(**article("X", "https://n.example/x")))
    b = write(
        src,
        "b.md",
        front(
            **article("P", "https://n.example/p", "2020-01-29T00:00:00Z"),
            related=[article("X", "https://n.example/x", excerpt="Filled in by b", quality=80)],
        ),
    )
    load(fresh_db, a, b)
    x = by_url(fresh_db, "https://n.example/x")
    assert (x["excerpt"], x["quality"], x["source_file"]) == ("Filled in by b", 80, str(a))
    before = dump(fresh_db)
    for order in ((b, a), (a, b), (a,), (b,)):
        report = load(fresh_db, *order)
        assert (report.new, report.updated) == (0, 0), order
        assert dump(fresh_db) == before, order


def test_an_owner_file_reissued_with_new_values_updates_the_article(fresh_db, src):
    path = write(src, "a.md", front(**article("Old headline", "https://n.example/x", quality=5)))
    load(fresh_db, path)
    write(src, "a.md", front(**article("New headline", "https://n.example/x", quality=9)))
    report = load(fresh_db, path)
    assert (report.new, report.updated) == (0, 1)
    row = by_url(fresh_db, "https://n.example/x")
    assert (row["title"], row["quality"]) == ("New headline", 9)
    assert fresh_db.match_newest('"new" "headline"', 5)  # the index follows
    assert not fresh_db.match_newest('"old"', 5)


def test_an_article_related_to_itself_is_not_its_own_parent(fresh_db, src):
    # Bug fixed: it became its own parent, and every reload flipped its title back and forth.
    path = write(
        src,
        "self.md",
        front(
            **article("The headline", "https://n.example/s"),
            related=[
                article("The headline, again", "https://n.example/s#more"),
                article("Another", "https://n.example/t"),
                article("Another, twice", "https://n.example/t"),
            ],
        ),
    )
    first = load(fresh_db, path)
    assert first.new == 2
    s = by_url(fresh_db, "https://n.example/s")
    assert s["parent_id"] is None and s["title"] == "The headline"
    t = by_url(fresh_db, "https://n.example/t")
    assert t["parent_id"] == s["id"] and t["title"] == "Another"
    before = dump(fresh_db)
    again = load(fresh_db, path)
    assert (again.new, again.updated) == (0, 0)
    assert dump(fresh_db) == before


def test_unknown_fields_are_kept(fresh_db, src):
    write(
        src,
        "a.md",
        front(
            **article("With extras", "https://n.example/e"),
            sentiment={"score": 0.4, "label": "positive"},
            readingTime=4,
            related=[article("Child", "https://n.example/c", paywall=True)],
        ),
    )
    assert load(fresh_db, src).ok
    e = by_url(fresh_db, "https://n.example/e")
    assert fresh_db.article_extra(e["id"]) == {
        "sentiment": {"score": 0.4, "label": "positive"},
        "readingTime": 4,
    }
    assert fresh_db.article_extra(by_url(fresh_db, "https://n.example/c")["id"]) == {
        "paywall": True
    }


def test_secured_is_never_stored(tmp_path):
    db = tmp_path / "secret.db"
    store = Store(db)
    write(
        tmp_path / "in",
        "a.md",
        front(
            **article("Secret", "https://n.example/s"),
            secured="TOKEN-main-0123456789",
            related=[article("Child", "https://n.example/c", secured="TOKEN-related-0123456789")],
        ),
    )
    report = Loader(store, FixedClock()).load([tmp_path / "in", SEED, POWER_APPS])
    assert report.ok
    everything = repr(dump(store))
    assert "TOKEN-" not in everything and SEED_TOKEN not in everything
    extras = [json.loads(r["extra"]) for r in rows(store, "extra IS NOT NULL")]
    assert not any("secured" in e for e in extras)
    store.close()
    for f in tmp_path.glob("secret.db*"):  # the file itself, the WAL too
        raw = f.read_bytes()
        assert b"TOKEN-" not in raw and SEED_TOKEN.encode() not in raw


def test_loaded_at_and_ids_come_from_the_clock(fresh_db, src):
    write_article(src, "undated.md", "No date", "https://n.example/u", when=None)
    clock = FixedClock()
    Loader(fresh_db, clock).load([src])
    row = by_url(fresh_db, "https://n.example/u")
    assert row["loaded_at"] == NOW.isoformat()
    assert row["published"] is None
    assert row["id"] >> 12 == int(NOW.timestamp())  # an undated article sorts as loaded now


def test_ids_follow_publication_time(fresh_db):
    load(fresh_db, SEED)
    by_id = [r["published_ts"] for r in rows(fresh_db)]
    assert by_id == sorted(by_id)


# -- one file, all or nothing ----------------------------------------------------------------


@pytest.fixture
def three_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    return [
        write(folder, "1.md", front(**article("Before", "https://n.example/before"))),
        write(
            folder,
            "2.md",
            front(
                **article("Parent", "https://n.example/parent"),
                related=[
                    article("First child", "https://n.example/child-1"),
                    article("Second child", "https://n.example/child-2"),
                    article("Third child", "https://n.example/child-3"),
                ],
            ),
        ),
        write(folder, "3.md", front(**article("After", "https://n.example/after"))),
    ]


def fail_insert(monkeypatch, error: Exception, url="https://n.example/child-2") -> None:
    """Make Store.insert_article raise ``error`` for the article at ``url``."""
    original = Store.insert_article

    def insert_article(self, row):
        if row["url"] == url:
            raise error
        return original(self, row)

    monkeypatch.setattr(Store, "insert_article", insert_article)


def test_a_file_that_fails_half_way_leaves_nothing_and_the_others_load(
    fresh_db, three_files, monkeypatch
):
    fail_insert(monkeypatch, sqlite3.IntegrityError("forced: CHECK constraint failed"))
    report = load(fresh_db, *three_files)
    urls = {r["url"] for r in rows(fresh_db)}
    assert urls == {"https://n.example/before", "https://n.example/after"}
    assert fresh_db._scalar("SELECT count(*) FROM url_aliases") == 0
    assert fresh_db.match_newest('"parent"', 5) == []
    assert [(Path(p).name, "forced" in reason) for p, reason in report.bad] == [("2.md", True)]
    assert (report.files, report.articles, report.new) == (3, 2, 2)


def test_a_file_that_fails_half_way_on_reload_keeps_what_it_had(fresh_db, three_files, monkeypatch):
    load(fresh_db, *three_files[:2])
    before = dump(fresh_db)
    write(
        three_files[1].parent,
        "2.md",
        front(
            **article("Parent, renamed", "https://n.example/parent"),
            related=[
                article("First child, renamed", "https://n.example/child-1"),
                article("Third child", "https://n.example/child-3"),
                article("A new child", "https://n.example/child-4"),
            ],
        ),
    )
    fail_insert(monkeypatch, sqlite3.IntegrityError("forced"), "https://n.example/child-4")
    report = load(fresh_db, three_files[1])
    assert len(report.bad) == 1 and (report.new, report.updated) == (0, 0)
    assert dump(fresh_db) == before  # the two renames before the failure were undone


def test_an_integer_sqlite_cannot_store_does_not_stop_the_load(fresh_db, src):
    # Bug fixed: OverflowError at INSERT escaped the loader and rolled back the whole batch.
    write(src, "a.md", front(**article("Fine", "https://n.example/a")))
    write(
        src,
        "b.md",
        "---\ntitle: Huge\nwebUrl: https://n.example/b\nquality: 123456789012345678901234567890\n---\n",
    )
    report = load(fresh_db, src)
    assert report.ok and fresh_db.count_articles() == 2
    assert by_url(fresh_db, "https://n.example/b")["quality"] is None


def test_nothing_is_left_half_done_inside_an_outer_transaction(fresh_db, three_files, monkeypatch):
    """load_file is a savepoint: a failure inside undoes that file only."""
    fail_insert(monkeypatch, RuntimeError("a bug, not a bad file"))
    loader = Loader(fresh_db, FixedClock())
    report = LoadReport()
    with fresh_db.transaction():
        loader.load_file(three_files[0], report)
        with pytest.raises(RuntimeError):
            loader.load_file(three_files[1], report)
        loader.load_file(three_files[2], report)
    assert {r["url"] for r in rows(fresh_db)} == {
        "https://n.example/before",
        "https://n.example/after",
    }


def test_a_large_load_parses_in_worker_processes_with_the_same_result(tmp_path, clock, monkeypatch):
    """Loads of PARALLEL_MIN_FILES files or more parse in forked workers; the database they
    make is the one an inline parse makes, bad files included."""
    from bot.core.loader import PARALLEL_MIN_FILES
    from tests.helpers import dump, write, write_article

    folder = tmp_path / "many"
    for i in range(PARALLEL_MIN_FILES + 20):
        write_article(
            folder, f"{i:04d}.md", f"Headline number {i} about zebras", f"https://z.example/{i}"
        )
    write(folder, "bad.md", "no front matter\n")
    dumps, reports = [], []
    for workers in ("2", "0"):
        monkeypatch.setenv("NEWSBOT_PARSE_WORKERS", workers)
        store = Store(tmp_path / f"w{workers}.db")
        reports.append(Loader(store, clock).load([folder]))
        dumps.append({k: v for k, v in dump(store).items() if k != "_sqlite_migrations"})
        store.close()
    assert [r.workers for r in reports] == [2, 0]
    assert reports[0].summary() == reports[1].summary()
    assert reports[0].bad == reports[1].bad and len(reports[0].bad) == 1
    assert dumps[0] == dumps[1]
