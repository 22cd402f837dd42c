"""Fuzz the article loader: hostile files by the thousand, and what must hold for each.

    python bench/fuzz_loader.py --seed 1 --count 20000 [--corpus DIR ...] [--round 250]

Each round writes ``--round`` files into a fresh folder (every fifth round 600, so the forked
parse workers are fuzzed too), loads the folder with ``Loader.load`` into one database kept
across rounds (so reloads and updates are fuzzed as well), and checks:

- no exception escapes the load, and no round runs past its time bound (a hang);
- every file is accounted for: loaded, or named bad with a reason that is not an internal
  error (``cannot parse: SomeError``: a parser bug the loader only contained);
- a file made to be good loads (its address is in the database); a file made to be bad is
  named bad;
- ``parse_file`` on each regular file raises nothing but ``BadFile``;
- ``PRAGMA integrity_check`` and the FTS index's own check pass after each round.

Inputs: byte flips, truncations, wrong types per known field (main article or a related one),
deep nesting, alias bombs (wide, deep, one big anchor many times), times in and out of range,
encodings (UTF-16/32, Latin-1; BOM and CRLF are fine), long and control-character addresses,
control characters in text, keys that are not strings, files over the cap, special files
(FIFO, a link to /dev/zero, socket, symlink loop, dangling link, folder named .md) and odd
names (not UTF-8, newlines, escape codes, 255 bytes). Prints the inputs tried per kind and
every failure (the first few in full); exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import collections
import copy
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.articles import (  # noqa: E402
    MAX_DEPTH,
    MAX_URL_CHARS,
    BadFile,
    canonical_url,
    load_yaml,
    parse_file,
    split_front_matter,
)
from bot.core.loader import Loader  # noqa: E402
from storage.store import Store  # noqa: E402

DEFAULT_CORPUS = [ROOT / "tests" / "fixtures"]
MAX_BYTES = 256 * 1024  # the cap in the fuzzed loads (smaller than the default: faster bombs)
ROUND_SECONDS = 120.0  # a round taking longer is a hang
INTERNAL = (
    "cannot parse:",
    "cannot store: KeyError",
    "cannot store: TypeError",
    "cannot store: ValueError",
    "cannot store: AttributeError",
    "cannot store: RecursionError",
    "cannot store: UnicodeEncodeError",
)


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class Hang(Exception):
    pass


@dataclass
class Input:
    kind: str
    name: bytes  # file name (bytes: names need not be UTF-8)
    data: bytes | None = None  # None: a special file made by ``special``
    expect: str = "any"  # "good", "bad" or "any"
    url: str | None = None  # the address a good file must bring
    special: str | None = None


@dataclass
class Stats:
    tried: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    rounds: int = 0
    loaded: int = 0
    bad: int = 0

    def fail(self, kind: str, what: str) -> None:
        self.failures.append((kind, what))


# -- the good files the mutations start from -------------------------------------------------


def seeds(corpus: list[Path], rng: random.Random, limit: int = 400) -> list[dict[str, Any]]:
    files = [p for folder in corpus for p in sorted(folder.rglob("*")) if p.is_file()]
    rng.shuffle(files)
    out = []
    for path in files[: limit * 2]:
        try:
            data = load_yaml(split_front_matter(path.read_text(encoding="utf-8")))
        except Exception:
            continue
        if isinstance(data, dict) and data.get("title"):
            data.pop("secured", None)
            out.append(data)
        if len(out) >= limit:
            break
    if not out:
        raise SystemExit("no usable article files in the corpus")
    return out


def dump(data: dict[str, Any]) -> str:
    return (
        "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6) + "---\n"
    )


class Maker:
    def __init__(self, rng: random.Random, base: list[dict[str, Any]]) -> None:
        self.rng = rng
        self.base = base
        self.n = 0
        self.names = 0

    def fresh(self) -> tuple[dict[str, Any], str]:
        """A good article (a copy of a seed, a few related entries) at an address of its own."""
        self.n += 1
        data = copy.deepcopy(self.rng.choice(self.base))
        related = data.get("related")
        if isinstance(related, list):
            data["related"] = related[: self.rng.randint(0, 3)]
        url = f"https://fuzz.example/{self.n}/{self.rng.randrange(10**9)}"
        data["webUrl"] = url
        for key in ("ampWebUrl", "cdnAmpWebUrl", "originalUrl"):
            data.pop(key, None)
        return data, url

    def name(self) -> bytes:
        self.names += 1
        return f"f{self.names:07d}.md".encode()

    # -- the kinds of input: each returns one Input --------------------------------------------

    def good(self) -> Input:
        data, url = self.fresh()
        return Input("good", self.name(), dump(data).encode(), "good", url)

    def byte_flip(self) -> Input:
        data, _ = self.fresh()
        raw = bytearray(dump(data).encode())
        for _ in range(self.rng.randint(1, 20)):
            raw[self.rng.randrange(len(raw))] = self.rng.randrange(256)
        return Input("byte flip", self.name(), bytes(raw))

    def truncate(self) -> Input:
        data, _ = self.fresh()
        raw = dump(data).encode()
        return Input("truncation", self.name(), raw[: self.rng.randrange(len(raw))])

    WRONG: dict[str, list[Any]] = {
        "title": [["a", "b"], {"a": 1}, True],
        "webUrl": [["https://a.example/"], {"u": 1}, 42, True],
        "excerpt": [["x"], {"x": 1}, False],
        "category": [[1], {"c": "news"}],
        "type": [["article"], True],
        "publishedDateTime": [["2020-01-01"], {"y": 2020}, True, "yesterday", 1580000000],
        "quality": [[1], {"q": 1}, "high", 9.5, True],
        "heat": [[1], "hot", 0.5],
        "published": ["yes please", [True], 3],
        "provider": ["Reuters", ["Reuters"], 7],
        "topics": [{"AI": 1}, 5, [["nested"]], [{"a": 1}]],
        "images": ["x.png", {"url": "x"}, ["x.png"]],
        "featuredContent": [["<iframe>"], {"h": 1}],
        "related": ["none", {"title": "x"}, ["text"], [1]],
    }

    def wrong_type(self) -> Input:
        data, url = self.fresh()
        key = self.rng.choice(list(self.WRONG))
        value = self.rng.choice(self.WRONG[key])
        target = data
        if self.rng.random() < 0.3 and isinstance(data.get("related"), list) and data["related"]:
            target = self.rng.choice(data["related"])
            if key == "webUrl":
                target.pop("originalUrl", None)
        if key == "provider" and self.rng.random() < 0.5:
            target["provider"] = {"name": [value]}  # a list where the outlet's name belongs
        else:
            target[key] = value
        return Input(f"wrong type: {key}", self.name(), dump(data).encode(), "bad", url)

    def deep(self) -> Input:
        data, url = self.fresh()
        depth = self.rng.choice(
            [2, 10, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 900, 999, 1001, 5000]
        )
        field_name = self.rng.choice(["title", "topics", "publishedDateTime", "other", "related"])
        text = dump(data)
        style = self.rng.choice(["flow", "block"])
        if style == "flow":
            value = "[" * depth + "x" + "]" * depth
        else:
            value = (
                "\n"
                + "".join("  " * i + "-\n" for i in range(1, depth + 1))
                + "  " * (depth + 1)
                + "x"
            )
        lines = [ln for ln in text.split("\n") if not ln.startswith(f"{field_name}:")]
        if field_name in ("title", "topics", "publishedDateTime", "related"):
            # the field's own value is replaced: a list where a string or time belongs is bad
            lines = [ln for ln in lines if not ln.startswith(f"{field_name}:")]
            lines.insert(1, f"{field_name}: {value}")
            # the old value's continuation lines are dropped by the replacement above only for
            # one-line values; the rest is YAML's business: "any" for these
            expect = "bad" if field_name in ("title",) else "any"
        else:
            lines.insert(1, f"{field_name}: {value}")
            expect = "good" if depth + 1 <= MAX_DEPTH else "bad"
        return Input(
            f"deep nesting ({style})",
            self.name(),
            "\n".join(lines).encode(),
            expect,
            url if expect == "good" else None,
        )

    def alias_bomb(self) -> Input:
        data, url = self.fresh()
        text = dump(data).rstrip("\n")
        assert text.endswith("---")
        body = text[: -len("---")]
        shape = self.rng.choice(["laughs", "big anchor", "mapping", "deep chain", "few", "loop"])
        if shape == "laughs":
            width, levels = self.rng.randint(5, 12), self.rng.randint(3, 9)
            extra = ["l0: &l0 [" + ",".join(["lol"] * width) + "]"]
            extra += [
                f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)
            ]
            front = len(body) + sum(len(x) + 1 for x in extra)
            expect = "bad" if width**levels * 4 > 2 * front + 65536 else "any"
        elif shape == "big anchor":
            size, count = self.rng.choice([(10_000, 1000), (100_000, 100), (200_000, 1000)])
            extra = [f"big: &b {'x' * size}", "many: [" + ",".join(["*b"] * count) + "]"]
            expect = "bad"
        elif shape == "mapping":
            extra = [
                "m: &m {a: " + "y" * 50_000 + ", b: [1, 2, 3]}",
                "many: [" + ",".join(["*m"] * 500) + "]",
            ]
            expect = "bad"
        elif shape == "deep chain":
            n = self.rng.randint(20, 60)
            extra = ["c0: &c0 [x]"] + [f"c{i}: &c{i} [*c{i - 1}]" for i in range(1, n)]
            expect = "bad" if n + 1 > MAX_DEPTH else "good"
        elif shape == "few":
            extra = ["t: &t [AI, Robots]", "u: *t", "v: {k: *t}"]
            expect = "good"
        else:
            extra = ["loop: &r [a, *r]"]
            expect = "bad"
        raw = (body + "\n".join(extra) + "\n---\n").encode()
        if len(raw) > MAX_BYTES:
            expect = "bad"
        return Input(
            f"alias bomb: {shape}", self.name(), raw, expect, url if expect == "good" else None
        )

    def when(self) -> Input:
        data, url = self.fresh()
        year = self.rng.choice([0, 1, 2, 1969, 1970, 2020, 9998, 9999, 10000, 99999])
        offset = self.rng.choice(["Z", "+05:00", "-05:00", "+23:59", ""])
        day = self.rng.choice(["01-01", "12-31", "02-29", "06-15"])
        text = f"{year:04d}-{day}T00:00:00{offset}"
        quoted = self.rng.random() < 0.5
        lines = [ln for ln in dump(data).split("\n") if not ln.startswith("publishedDateTime:")]
        lines.insert(1, f"publishedDateTime: {repr(text) if quoted else text}")
        good_year = 2 <= year <= 9998 and not (day == "02-29" and year % 4)
        expect = "good" if good_year else ("bad" if year in (0, 10000, 99999) else "any")
        return Input(
            "time",
            self.name(),
            "\n".join(lines).encode(),
            expect,
            url if expect == "good" else None,
        )

    def encoding(self) -> Input:
        data, url = self.fresh()
        data["title"] = f"Café über naïve {data['title']}"
        text = dump(data)
        how = self.rng.choice(["utf-16", "utf-32", "latin-1", "bom", "crlf", "bom+crlf"])
        if how in ("utf-16", "utf-32"):
            return Input(f"encoding: {how}", self.name(), text.encode(how), "bad")
        if how == "latin-1":
            return Input("encoding: latin-1", self.name(), text.encode("latin-1", "replace"), "bad")
        if "crlf" in how:
            text = text.replace("\n", "\r\n")
        if "bom" in how:
            text = "\ufeff" + text
        return Input(f"encoding: {how}", self.name(), text.encode(), "good", url)

    def address(self) -> Input:
        data, url = self.fresh()
        how = self.rng.choice(["long", "control", "amp long"])
        if how == "long":
            length = self.rng.choice([1000, MAX_URL_CHARS - 30, MAX_URL_CHARS + 1, 5000, 20000])
            data["webUrl"] = url = url + "/" + "a" * max(0, length - len(url) - 1)
            expect = "good" if len(url) <= MAX_URL_CHARS else "bad"
        elif how == "control":
            bad = self.rng.choice(["\x1b[2J", "\x00", "\x07", "\x7f", "\x9b31m", "\r"])
            data["webUrl"] = url + "/" + bad + "x"
            expect = "bad"
        else:
            data["ampWebUrl"] = url + "/amp/" + "b" * 5000
            expect = "good"
        return Input(
            f"address: {how}",
            self.name(),
            dump(data).encode(),
            expect,
            url if expect == "good" else None,
        )

    def control_text(self) -> Input:
        data, url = self.fresh()
        evil = self.rng.choice(
            [
                "\x1b[31m",
                "\x00",
                "\u202e",
                "\x07",
                "\x9b2J",
                "\x1b]0;x\x07",
                "\u2066",
                "&#27;[0m",
                "\x08\x08",
            ]
        )
        data["title"] = f"{data['title']} {evil} tail"
        data["excerpt"] = f"{evil}{data.get('excerpt') or ''}"
        if isinstance(data.get("provider"), dict):
            data["provider"]["name"] = f"Outlet{evil}"
        return Input("control characters in text", self.name(), dump(data).encode(), "good", url)

    def keys(self) -> Input:
        data, url = self.fresh()
        text = dump(data)
        key = self.rng.choice(
            [
                "2020-01-01",
                "7",
                "1.5",
                "true",
                "null",
                "~",
                "2020-01-01T10:00:00Z",
                "? [a, b]",
                "? {a: 1}",
            ]
        )
        line = f"{key}: value" if not key.startswith("?") else f"{key}\n: value"
        nested = self.rng.random() < 0.5
        if nested:
            line = "odd:\n  " + line.replace("\n", "\n  ")
        raw = text.replace("---\n", "---\n" + line + "\n", 1).encode()
        expect = "any" if key.startswith("?") else "good"
        return Input(
            "keys that are not strings", self.name(), raw, expect, url if expect == "good" else None
        )

    def too_big(self) -> Input:
        data, _ = self.fresh()
        data["excerpt"] = "z" * (MAX_BYTES + self.rng.randint(1, 1000))
        return Input("over the cap", self.name(), dump(data).encode(), "bad")

    def odd_name(self) -> Input:
        data, url = self.fresh()
        name = (
            self.rng.choice(
                [
                    b"caf\xe9-%s.md",
                    b"\xff\xfe-%s.md",
                    b"line\nbreak-%s.md",
                    b"esc\x1b[2J-%s.md",
                    b"rtl\xe2\x80\xae-%s.md",
                    b"-dash-%s.md",
                    b"sp ace %s.md",
                    b"tab\t%s.md",
                    b"bell\x07-%s.md",
                    b"%s-" + b"n" * 240,
                ]
            )
            % self.name()[1:-3]
        )
        return Input("odd name", name[:255], dump(data).encode(), "good", url)

    def special_file(self) -> Input:
        kind = self.rng.choice(
            [
                "fifo",
                "dev zero",
                "socket",
                "symlink loop",
                "dangling link",
                "folder named .md",
                "link to a good file",
            ]
        )
        inp = Input(f"special: {kind}", self.name(), None, "bad", special=kind)
        if kind == "folder named .md":
            inp.expect = "any"  # walked like any folder: what is inside it is checked
        if kind == "link to a good file":
            data, url = self.fresh()
            inp.data, inp.expect, inp.url = dump(data).encode(), "good", url
        return inp

    KINDS = [
        ("good", 10),
        ("byte_flip", 14),
        ("truncate", 8),
        ("wrong_type", 14),
        ("deep", 6),
        ("alias_bomb", 6),
        ("when", 6),
        ("encoding", 6),
        ("address", 6),
        ("control_text", 6),
        ("keys", 5),
        ("too_big", 2),
        ("odd_name", 6),
        ("special_file", 5),
    ]

    def one(self) -> Input:
        names, weights = zip(*self.KINDS, strict=True)
        return getattr(self, self.rng.choices(names, weights)[0])()


# -- one round ---------------------------------------------------------------------------------


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def write_inputs(folder: Path, inputs: list[Input], sockets: list[socket.socket]) -> list[Path]:
    """Each input as a file under ``folder``; the paths the load will name them by."""
    out = []
    for inp in inputs:
        path_b = os.path.join(os.fsencode(folder), inp.name)
        if inp.special is None:
            with open(path_b, "wb") as f:
                f.write(inp.data or b"")
        elif inp.special == "fifo":
            os.mkfifo(path_b)
        elif inp.special == "dev zero":
            os.symlink(b"/dev/zero", path_b)
        elif inp.special == "socket":
            sock = socket.socket(socket.AF_UNIX)
            try:
                sock.bind(path_b)
            except OSError:  # a socket path is limited to ~108 bytes: a link to one instead
                short = tempfile.mktemp(prefix="fz", dir="/tmp")
                sock.bind(short)
                os.symlink(os.fsencode(short), path_b)
            sockets.append(sock)
        elif inp.special == "symlink loop":  # through a hidden second link, not walked
            other = os.path.join(os.fsencode(folder), b"." + inp.name + b".loop")
            os.symlink(other, path_b)
            os.symlink(path_b, other)
        elif inp.special == "dangling link":
            os.symlink(path_b + b".nowhere", path_b)
        elif inp.special == "folder named .md":
            os.mkdir(path_b)
        elif inp.special == "link to a good file":
            target = os.path.join(os.fsencode(folder), b".targets")
            os.makedirs(target, exist_ok=True)
            real = os.path.join(target, inp.name)
            with open(real, "wb") as f:
                f.write(inp.data or b"")
            os.symlink(real, path_b)
        out.append(Path(os.fsdecode(path_b)))
    return out


def check_round(
    stats: Stats, store: Store, folder: Path, inputs: list[Input], workers: int | None
) -> None:
    sockets: list[socket.socket] = []
    paths = write_inputs(folder, inputs, sockets)
    by_path = {str(p): inp for p, inp in zip(paths, inputs, strict=True)}
    for inp in inputs:
        stats.tried[inp.kind] += 1
    # parse_file alone: BadFile or an article, nothing else (the loader would contain a bug)
    for path, inp in zip(paths, inputs, strict=True):
        if inp.special in (
            "fifo",
            "dev zero",
            "socket",
            "symlink loop",
            "dangling link",
            None,
            "link to a good file",
        ):
            signal.setitimer(signal.ITIMER_REAL, 10)
            try:
                parse_file(path, MAX_BYTES)
            except BadFile as exc:
                if not str(exc).strip():
                    stats.fail(inp.kind, f"parse_file: BadFile without a reason: {path!r}")
            except Hang:
                stats.fail(inp.kind, f"parse_file hung over 10 s: {path!r}")
            except BaseException as exc:
                stats.fail(
                    inp.kind,
                    f"parse_file raised {type(exc).__name__}: {exc}"[:300]
                    + f" on {path!r}\n"
                    + traceback.format_exc(limit=-4),
                )
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    if workers is not None:
        os.environ["NEWSBOT_PARSE_WORKERS"] = str(workers)
    signal.setitimer(signal.ITIMER_REAL, ROUND_SECONDS)
    try:
        report = Loader(store, max_bytes=MAX_BYTES).load([folder])
    except Hang:
        stats.fail("round", f"the load of round {stats.rounds} hung over {ROUND_SECONDS} s")
        return
    except BaseException as exc:
        stats.fail(
            "round",
            f"an exception escaped the load: {type(exc).__name__}: {exc}"[:300]
            + "\n"
            + traceback.format_exc(limit=-6),
        )
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.environ.pop("NEWSBOT_PARSE_WORKERS", None)
        for sock in sockets:
            sock.close()
    bad = dict(report.bad)
    stats.loaded += report.files - len(report.bad)
    stats.bad += len(report.bad)
    for path_s, reason in bad.items():
        inp = by_path.get(path_s)
        kind = inp.kind if inp else "walk"
        if not reason or not reason.strip():
            stats.fail(kind, f"a bad file without a reason: {path_s!r}")
        elif reason.startswith(INTERNAL):
            stats.fail(kind, f"an internal error for {path_s!r}: {reason}")
    for path_s, inp in by_path.items():
        if inp.special == "folder named .md":
            continue
        if inp.expect == "bad" and path_s not in bad:
            stats.fail(inp.kind, f"a bad file loaded: {path_s!r}")
        if inp.expect == "good":
            if path_s in bad:
                stats.fail(inp.kind, f"a good file named bad: {path_s!r}: {bad[path_s]}")
            elif inp.url:
                row = store.article_by_url(canonical_url(inp.url))
                if row is None:
                    stats.fail(inp.kind, f"a good file not loaded: {path_s!r}")
                elif CONTROL.search(
                    " ".join(str(row[k] or "") for k in ("title", "excerpt", "provider", "web_url"))
                ):
                    stats.fail(inp.kind, f"control characters stored from {path_s!r}")
    walked = sum(1 for inp in inputs if inp.special != "folder named .md")
    if report.files != walked:
        stats.fail(
            "round", f"round {stats.rounds}: {report.files} files reported, {walked} written"
        )
    conn = store.db.conn
    result = ";".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
    if result != "ok":
        stats.fail("round", f"integrity_check after round {stats.rounds}: {result}")
    try:
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        stats.fail("round", f"FTS integrity-check after round {stats.rounds}: {exc}")


def run(
    seed: int,
    count: int,
    corpus: list[Path],
    per_round: int = 250,
    out: Any = sys.stdout,
    db: Path | None = None,
) -> Stats:
    rng = random.Random(seed)
    maker = Maker(rng, seeds(corpus, rng))
    stats = Stats()
    previous = signal.signal(signal.SIGALRM, _alarm)
    work = Path(tempfile.mkdtemp(prefix="fuzz-loader-"))
    store = Store(db or work / "fuzz.db")
    began = time.monotonic()
    try:
        done = 0
        while done < count:
            stats.rounds += 1
            size = min(count - done, 600 if stats.rounds % 5 == 0 else per_round)
            inputs = [maker.one() for _ in range(size)]
            folder = work / f"round-{stats.rounds}"
            folder.mkdir()
            workers = 2 if size >= 500 else None
            check_round(stats, store, folder, inputs, workers)
            shutil.rmtree(folder, ignore_errors=True)
            done += size
            if out is not None and stats.rounds % 10 == 0:
                print(
                    f"  {done:,} inputs, {len(stats.failures)} failures, "
                    f"{time.monotonic() - began:.0f} s",
                    file=out,
                    flush=True,
                )
    finally:
        store.close()
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(work, ignore_errors=True)
    if out is not None:
        report(stats, seed, count, time.monotonic() - began, out)
    return stats


def report(stats: Stats, seed: int, count: int, seconds: float, out: Any) -> None:
    tried = sum(stats.tried.values())
    print(
        f"fuzz_loader --seed {seed} --count {count}: {tried:,} inputs in {stats.rounds} "
        f"loads, {seconds:.0f} s; {stats.loaded:,} loaded, {stats.bad:,} named bad; "
        f"{len(stats.failures)} failures",
        file=out,
    )
    failed = collections.Counter(kind for kind, _ in stats.failures)
    for kind, n in sorted(stats.tried.items()):
        print(f"  {kind:<32} {n:>7,} tried {failed.get(kind, 0):>5} failed", file=out)
    for kind in sorted(set(failed) - set(stats.tried)):
        print(f"  {kind:<32} {'':>7}       {failed[kind]:>5} failed", file=out)
    for kind, what in stats.failures[:20]:
        print(f"FAIL [{kind}] {what}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--round", type=int, default=250, help="files per load")
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help=f"folders of good article files (default: {DEFAULT_CORPUS[0]})",
    )
    args = parser.parse_args(argv)
    stats = run(args.seed, args.count, args.corpus or DEFAULT_CORPUS, args.round)
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
