"""The fault-injection campaign (issue 8, item 7): exactly one digest per conversation and day?

Randomized trials of ``newsbot digest`` processes (1-3 at once, killed, frozen past their lease
or left alone) against a fake Slack that fails by chance (429 with Retry-After, 5xx, dropped
connections before and after the post is stored, hangs), over channels in many zones and DM
follows, across two consecutive days; then clean reruns, then an oracle on what the fake Slack
stored. The trial logic, the oracle and what each count means: ``tests/faults.py``.

    python bench/faults.py --trials 200 --seed 1 [--jobs 4] [--keep bench/out/faults]
    python bench/faults.py --trials 0 --serve-trials 4 --seed 1
    python bench/faults.py --trials 1 --first 57 --seed 1 -v     # replay one trial's plan

The code under test is a snapshot of HEAD (``--code REV`` for another commit, ``--code here``
for the checkout as it is, uncommitted changes included), with the harness files from the
checkout. A trial's plan (zones, times, articles, faults by chance, which process is killed or
frozen and when) follows from ``--seed`` and its number; what the processes then do depends on
timing, so a replay shows the same plan, not always the same outcome.

``--serve-trials N``: the scheduler path in real time: ``newsbot serve`` killed just before,
just after or while posting its digests of the next whole minute, restarted in the same PID
namespace or a fresh one (``unshare --pid --fork --mount-proc``); about a minute each.

Prints a table (trials, faults by kind, duplicates, missing, skips, integrity) and the
signature of each failure (its conversation, the faults Slack injected on it, what happened to
each process, the posts and the run's row); ``--keep DIR`` keeps each failed trial's database
and process logs. Exit status 1 when any trial failed (a duplicate, a missing digest, a digest
where none is due, a repeated story, an unlogged skip, a bad integrity check), else 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.faults import (  # noqa: E402
    Campaign,
    Knobs,
    TrialResult,
    run_serve_trial,
    run_trial,
    unshare_works,
)

SERVE_CASES = (  # (kill, restart)
    ("mid", "fresh-ns"),
    ("before", "same-ns"),
    ("after", "fresh-ns"),
    ("mid", "same-ns"),
    ("after", "same-ns"),
    ("before", "fresh-ns"),
)


HARNESS = ("tests/__init__.py", "tests/faults.py", "tests/fakeslack.py", "bench/faults.py")


def commit() -> str:
    """What code this runs: ``NEWSBOT_FAULTS_CODE`` (set by the snapshot), else the checkout."""
    if os.environ.get("NEWSBOT_FAULTS_CODE"):
        return os.environ["NEWSBOT_FAULTS_CODE"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return head + (" + the checkout's uncommitted changes" if dirty else "")


def run_in_snapshot(rev: str, argv: list[str]) -> int:
    """Run this campaign on ``rev``'s code (``git archive``), with the harness files as they
    are in the checkout: a campaign of many minutes is not changed under it by a commit or
    an edit in the checkout, and its report names the code it ran on."""
    root = HERE.parent
    short = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    snap = Path(tempfile.mkdtemp(prefix=f"newsbot-{short}-"))
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev], cwd=root, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(snap)], input=archive, check=True)
        changed = []
        for name in HARNESS:
            src, dest = root / name, snap / name
            if src.exists() and (not dest.exists() or dest.read_bytes() != src.read_bytes()):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
                changed.append(name)
        label = short + (f" (harness from the checkout: {', '.join(changed)})" if changed else "")
        env = {**os.environ, "NEWSBOT_FAULTS_CODE": label, "PYTHONPATH": str(snap)}
        return subprocess.run(
            [sys.executable, str(snap / "bench" / "faults.py"), "--code", "here", *argv],
            cwd=snap,
            env=env,
        ).returncode
    finally:
        shutil.rmtree(snap, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200, help="digest trials (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="first trial index (to replay one)")
    parser.add_argument("--jobs", type=int, default=4, help="trials at once (default 4)")
    parser.add_argument(
        "--serve-trials",
        type=int,
        default=0,
        help="scheduler-path trials in real time (about a minute each)",
    )
    parser.add_argument("--keep", type=Path, help="keep each failed trial's files here")
    parser.add_argument(
        "--lease",
        type=int,
        default=Knobs.lease_seconds,
        help="NEWSBOT_DIGEST_LEASE_SECONDS for the processes",
    )
    parser.add_argument(
        "--signatures", type=int, default=20, help="failure signatures printed (default 20)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per trial")
    parser.add_argument(
        "--code",
        default="HEAD",
        metavar="REV",
        help="the commit whose code runs (default HEAD: a snapshot, so "
        "changes in the checkout during the campaign do not reach it); "
        "'here': the checkout as it is",
    )
    args = parser.parse_args(argv)
    if args.code != "here":
        rest = list(argv if argv is not None else sys.argv[1:])
        if "--code" in rest:
            i = rest.index("--code")
            del rest[i : i + 2]
        rest = [a for a in rest if not a.startswith("--code=")]
        if args.keep:
            rest += ["--keep", str(args.keep.resolve())]
        return run_in_snapshot(args.code, rest)
    knobs = Knobs(lease_seconds=args.lease)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    print(
        f"fault campaign: seed {args.seed}, {args.trials} trials from #{args.first}, "
        f"{args.jobs} at once, lease {knobs.lease_seconds}s, commit {commit()}",
        flush=True,
    )
    started = time.monotonic()

    digest = Campaign()

    def one(index: int) -> TrialResult:
        return run_trial(index, args.seed, knobs, keep=args.keep)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for n, result in enumerate(pool.map(one, range(args.first, args.first + args.trials)), 1):
            digest.add(result)
            if args.verbose or not result.ok:
                print(result.line(), flush=True)
            elif n % 20 == 0:
                print(
                    f"... {n} trials, {sum(not r.ok for r in digest.results)} failed, "
                    f"{time.monotonic() - started:.0f}s",
                    flush=True,
                )

    serve = Campaign()
    if args.serve_trials:
        fresh = (
            "unshare --pid --fork --mount-proc"
            if unshare_works()
            else "simulated (no unshare): another owner identity"
        )
        print(f"serve trials: fresh PID namespace by {fresh}", flush=True)
    for k in range(args.serve_trials):
        kill, restart = SERVE_CASES[k % len(SERVE_CASES)]
        result = run_serve_trial(k, args.seed, knobs, kill=kill, restart=restart, keep=args.keep)
        serve.add(result)
        print(result.line(), flush=True)

    print()
    if digest.results:
        print(digest.table(f"digest trials (seed {args.seed}, commit {commit()})"))
        print()
    if serve.results:
        print(serve.table("serve trials (newsbot serve killed around the due moment, restarted)"))
        for r in serve.results:
            print(
                f"  #{r.index}: {r.note}: {'ok' if r.ok else 'FAIL'} (dup {r.duplicates}, "
                f"miss {r.missing}, {r.seconds:.0f}s)"
            )
        print()
    failed = [r for r in digest.results + serve.results if not r.ok]
    shown = 0
    for r in failed:
        for sig in r.signatures + [f"(harness) {e}" for e in r.errors]:
            if shown >= args.signatures:
                break
            print(
                f"-- trial {r.index} [{r.path}] seed {r.seed}, T = {r.moment.isoformat()}, {r.note}"
            )
            print(sig)
            print()
            shown += 1
    print(
        f"total {time.monotonic() - started:.0f}s; "
        f"duplicates {digest.total('duplicates') + serve.total('duplicates')}, "
        f"missing {digest.total('missing') + serve.total('missing')}, "
        f"failed trials {len(failed)}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
