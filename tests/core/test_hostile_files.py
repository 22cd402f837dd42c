"""Issue 9: no file can stop a load. Each test names the defect it covers; each failed before
the fix (a TypeError, RecursionError or ValueError escaping the load and rolling the batch
back, a read without bound, a hang, a crash on a file name)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.core.articles import BadFile, parse_file, parse_text, read_bounded
from bot.core.loader import PARALLEL_MIN_FILES, Loader, LoadReport
from storage.store import Store
from tests.conftest import FixedClock
from tests.helpers import article, by_url, front, rows, write, write_article

HEAD = "---\ntitle: t\nwebUrl: https://a.example/x\n"


def load(store: Store, *paths, **kw) -> LoadReport:
    return Loader(store, FixedClock(), **kw).load(paths)


def good_and(src: Path, name: str | bytes, text: str | bytes) -> tuple[Path, Path, Path]:
    """A good file, the hostile one, and another good file after it, in one folder."""
    first = write_article(src, "1-good.md", "Acme opens a factory", "https://n.example/1")
    if isinstance(name, bytes):
        path = Path(os.fsdecode(os.path.join(os.fsencode(src), name)))
        Path(path).write_bytes(text if isinstance(text, bytes) else text.encode())
    else:
        path = write(src, name, text)
    last = write_article(src, "3-good.md", "Globex hires a chief", "https://n.example/3")
    return first, path, last


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A folder for the test's files, beside (not around) the database."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def reasons(report: LoadReport) -> dict[str, str]:
    return {Path(p).name: r for p, r in report.bad}


# -- defect 1: an exception from one file escaped and rolled back the batch -----------------


def test_a_date_as_a_mapping_key_is_kept_as_text_and_the_load_goes_on(fresh_db, src):
    # Bug fixed: TypeError (json.dumps of a date key) escaped the load.
    _, path, _ = good_and(
        src, "2-key.md", HEAD + "history:\n  2020-01-01: founded\n  7: seven\n---\n"
    )
    report = load(fresh_db, src)
    assert report.ok and fresh_db.count_articles() == 3
    assert fresh_db.article_extra(by_url(fresh_db, "https://a.example/x")["id"]) == {
        "history": {"2020-01-01": "founded", "7": "seven"}
    }


@pytest.mark.parametrize("field", ["title", "topics", "publishedDateTime", "related", "other"])
def test_nesting_900_deep_is_a_bad_file(fresh_db, src, field):
    # Bug fixed: RecursionError escaped the load (900 nested lists in any field).
    deep = "[" * 900 + "x" + "]" * 900
    text = (
        f"---\ntitle: {deep}\nwebUrl: https://a.example/x\n---\n"
        if field == "title"
        else HEAD + f"{field}: {deep}\n---\n"
    )
    _, path, _ = good_and(src, "2-deep.md", text)
    report = load(fresh_db, src)
    assert "nested more than" in reasons(report)["2-deep.md"]
    assert fresh_db.count_articles() == 2 and report.files == 3


def test_nesting_900_deep_in_a_parse_worker(tmp_path, monkeypatch):
    # Bug fixed: in a worker process the deep value also failed while pickled back, and the
    # exception ended the whole load.
    monkeypatch.setenv("NEWSBOT_PARSE_WORKERS", "2")
    folder = tmp_path / "many"
    for i in range(PARALLEL_MIN_FILES):
        write_article(folder, f"{i:04d}.md", f"Headline {i} about zebras", f"https://z.example/{i}")
    write(folder, "0100-deep.md", HEAD + "other: " + "[" * 900 + "x" + "]" * 900 + "\n---\n")
    store = Store(tmp_path / "w.db")
    report = Loader(store, FixedClock()).load([folder])
    assert report.workers == 2
    assert [Path(p).name for p, _ in report.bad] == ["0100-deep.md"]
    assert store.count_articles() == PARALLEL_MIN_FILES
    store.close()


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+05:00",  # year 0 in UTC
        "'0001-01-01T00:00:00+05:00'",
        "9999-12-31T23:00:00-05:00",  # year 10000 in UTC
        "0001-01-01",
    ],
)
def test_a_date_that_cannot_be_stored_is_a_bad_file(fresh_db, src, when):
    # Bug fixed: ValueError ("year 0 is out of range") escaped and rolled the batch back.
    good_and(src, "2-date.md", HEAD + f"publishedDateTime: {when}\n---\n")
    report = load(fresh_db, src)
    assert "publishedDateTime is out of range" in reasons(report)["2-date.md"]
    assert fresh_db.count_articles() == 2


def test_the_first_and_last_storable_days_load(fresh_db, src):
    write_article(src, "a.md", "Early", "https://n.example/a", when="0001-01-02T12:00:00Z")
    write_article(src, "b.md", "Late", "https://n.example/b", when="9999-12-30T00:00:00Z")
    assert load(fresh_db, src).ok
    assert by_url(fresh_db, "https://n.example/a")["published"] == "0001-01-02T12:00:00Z"


def test_an_unexpected_error_storing_a_file_costs_its_savepoint_not_the_batch(
    fresh_db, src, monkeypatch
):
    first, bad, last = good_and(src, "2-bug.md", front(**article("Bug", "https://n.example/2")))
    original = Store.insert_article

    def insert_article(self, row):
        if row["url"] == "https://n.example/2":
            raise KeyError("a bug, not a bad file")
        return original(self, row)

    monkeypatch.setattr(Store, "insert_article", insert_article)
    report = load(fresh_db, src)
    assert {r["url"] for r in rows(fresh_db)} == {"https://n.example/1", "https://n.example/3"}
    assert "cannot store: KeyError" in reasons(report)["2-bug.md"]
    assert (report.files, report.new) == (3, 2)


def test_the_database_failing_ends_the_load_with_an_exception(fresh_db, src, monkeypatch):
    good_and(src, "2.md", front(**article("Two", "https://n.example/2")))

    def insert_article(self, row):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "insert_article", insert_article)
    with pytest.raises(sqlite3.OperationalError):
        load(fresh_db, src)


def test_a_parser_bug_names_the_file_and_the_load_goes_on(fresh_db, src, monkeypatch):
    import bot.core.loader as loader_module

    original = loader_module.parse_file

    def parse_file(path, max_bytes):
        if path.name == "2.md":
            raise ZeroDivisionError("a bug")
        return original(path, max_bytes)

    monkeypatch.setattr(loader_module, "parse_file", parse_file)
    good_and(src, "2.md", front(**article("Two", "https://n.example/2")))
    report = load(fresh_db, src)
    assert reasons(report) == {"2.md": "cannot parse: ZeroDivisionError: a bug"}
    assert fresh_db.count_articles() == 2


# -- defect 2: special files were read without a bound, or hung the load --------------------


def test_a_link_to_dev_zero_is_refused_by_type(fresh_db, src):
    # Bug fixed: stat said 0 bytes, then read_bytes() read until MemoryError.
    first, _, last = good_and(src, "2.md", "placeholder")
    (src / "2.md").unlink()
    (src / "2.md").symlink_to("/dev/zero")
    began = time.monotonic()
    report = load(fresh_db, src)
    assert time.monotonic() - began < 5
    assert reasons(report) == {"2.md": "not a regular file: a character device"}
    assert fresh_db.count_articles() == 2


def _in_thread(fn, seconds: float):
    out: list = []

    def run() -> None:
        try:
            out.append(("ok", fn()))
        except BaseException as exc:  # handed to the test's thread
            out.append(("raised", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung"
    how, value = out[0]
    if how == "raised":
        raise value
    return value


def test_a_fifo_is_refused_without_blocking(fresh_db, src):
    # Bug fixed: reading a FIFO with no writer hung the load forever.
    good_and(src, "2.md", "placeholder")
    (src / "2.md").unlink()
    os.mkfifo(src / "2.md")
    report = _in_thread(lambda: load(fresh_db, src), 10)
    assert reasons(report) == {"2.md": "not a regular file: a FIFO (named pipe)"}
    assert fresh_db.count_articles() == 2


def test_a_fifo_swapped_in_after_the_look_does_not_block(tmp_path, monkeypatch):
    # the type is looked at again once open, and the open itself cannot block
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(__file__)
    monkeypatch.setattr(
        os, "stat", lambda p, *a, **k: regular if str(p) == str(fifo) else real_stat(p, *a, **k)
    )
    with pytest.raises(BadFile, match="FIFO"):
        _in_thread(lambda: read_bounded(fifo, 1_000_000), 5)


def test_a_socket_and_a_folder_are_refused(tmp_path):
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s.md"))
        with pytest.raises(BadFile, match="not a regular file: a socket"):
            parse_file(tmp_path / "s.md")
    (tmp_path / "d.md").mkdir()
    with pytest.raises(BadFile, match="not a regular file: a folder"):
        parse_file(tmp_path / "d.md")


def test_the_cap_holds_while_reading(tmp_path):
    # /proc files say they are 0 bytes long: only a bounded read stops them
    with pytest.raises(BadFile, match="over the 100-byte cap"):
        read_bounded(Path("/proc/self/maps"), 100)
    path = write(tmp_path, "a.md", "x" * 100)
    assert read_bounded(path, 100) == b"x" * 100


# -- defect 3: aliases counted by node, not by what they expand to --------------------------


def test_one_large_anchor_aliased_many_times_is_refused_at_once():
    # Bug fixed: a 1 MB anchor aliased 100,000 times (a 1.3 MB file) passed the check (few
    # nodes) and took 29 s and 4 GB before a MemoryError.
    text = (
        HEAD + "big: &b " + "x" * 1_000_000 + "\nmany: [" + ",".join(["*b"] * 100_000) + "]\n---\n"
    )
    began = time.monotonic()
    with pytest.raises(BadFile, match="aliases that expand it too far"):
        parse_text(text)
    assert time.monotonic() - began < 2


def test_a_mapping_anchor_aliased_many_times_is_refused():
    text = (
        HEAD + "big: &b {a: " + "y" * 100_000 + "}\nmany: [" + ",".join(["*b"] * 1000) + "]\n---\n"
    )
    with pytest.raises(BadFile, match="aliases that expand it too far"):
        parse_text(text)


def test_aliases_that_nest_deep_are_refused():
    lines = [HEAD.rstrip("\n"), "l0: &l0 [x]"]
    lines += [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 40)]
    with pytest.raises(BadFile, match="nested more than"):
        parse_text("\n".join(lines + ["---", ""]))


@pytest.mark.parametrize("anchor", ["&a", "[&a", "{k: &a", ", &a"])
def test_every_way_to_write_an_anchor_is_checked(anchor):
    # the fast path (no check) is taken only where no anchor can be; each of these is one
    big = "z" * 100_000
    text = (
        HEAD
        + f"big: {anchor} {big}"
        + ("]" if anchor.startswith("[") else "}" if anchor.startswith("{") else "")
    )
    text = text.replace(", &a", "[q, &a") + ("]" if anchor == ", &a" else "")
    text += "\nmany: [" + ",".join(["*a"] * 100) + "]\n---\n"
    with pytest.raises(BadFile, match="expand"):
        parse_text(text)


# -- defect 4: a file name that is not UTF-8 ------------------------------------------------


def test_a_file_name_that_is_not_utf8_loads(fresh_db, src):
    # Bug fixed: UnicodeEncodeError storing its source_file aborted the load.
    good_and(src, b"2-caf\xe9.md", front(**article("Cafe opens", "https://n.example/2")))
    report = load(fresh_db, src)
    assert report.ok and fresh_db.count_articles() == 3
    assert by_url(fresh_db, "https://n.example/2")["source_file"].endswith("2-caf\\xe9.md")
    again = load(fresh_db, src)  # the same file, known again by its stored name
    assert (again.new, again.updated) == (0, 0)


# -- defect 9: the loader's part --------------------------------------------------------------


def test_a_symlink_loop_is_not_no_such_file(fresh_db, src):
    # Bug fixed: reported as "no such file or folder".
    (src / "a.md").symlink_to(src / "b.md")
    (src / "b.md").symlink_to(src / "a.md")
    (src / "dangling.md").symlink_to(src / "nowhere")
    report = load(fresh_db, src / "a.md", src / "dangling.md", src / "gone.md")
    assert reasons(report) == {
        "a.md": "cannot read: a loop of symbolic links",
        "dangling.md": "cannot read: a symbolic link to nothing (its target does not exist)",
        "gone.md": "no such file or folder",
    }


def test_an_unreadable_folder_is_named(fresh_db, src):
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    locked = src / "locked"
    write_article(locked, "a.md", "Hidden", "https://n.example/h")
    locked.chmod(0)
    try:
        report = load(fresh_db, src)
    finally:
        locked.chmod(0o755)
    assert reasons(report) == {"locked": "cannot read folder: Permission denied"}


def test_an_address_of_5000_characters_is_a_bad_file(fresh_db, src):
    # Bug fixed: stored, then shown in Slack as a headline without its link.
    long_url = "https://n.example/" + "a" * 5000
    good_and(src, "2.md", front(**article("Long", long_url)))
    report = load(fresh_db, src)
    assert (
        "webUrl is 5,018 characters long, over the 2,048-character limit" in reasons(report)["2.md"]
    )
    amp = front(**article("Amp", "https://n.example/4", ampWebUrl=long_url))
    write(src, "4.md", amp)  # an overlong AMP copy is only dropped
    assert load(fresh_db, src / "4.md").ok


@pytest.mark.parametrize(
    "url", ["https://n.example/a\x1b[2Jb", "https://n.example/\x00", "https://n.example/\x9b2J"]
)
def test_an_address_with_control_characters_is_a_bad_file(url):
    with pytest.raises(BadFile, match="control characters"):
        parse_text(front(title="t", webUrl=url))


def test_control_characters_in_text_become_spaces():
    a = parse_text(
        front(
            title="Evil\x1b[31m red\x07 &#27;[0m",
            webUrl="https://a.example/x",
            excerpt="nul\x00here",
        )
    )
    assert a.title == "Evil [31m red [0m" and a.excerpt == "nul here"
