"""Lease owners: who holds a digest run or the regroup, and when a holder is known dead."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.core.owners import host_identity, owner_gone, process_owner


def test_this_process_is_alive_under_its_own_name_and_stable() -> None:
    me = process_owner()
    assert me == process_owner()
    assert me.startswith(f"{host_identity()}|{os.getpid()}|")
    assert not owner_gone(me)


def test_a_dead_pid_on_this_host_is_gone() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert owner_gone(f"{host_identity()}|{int(proc.stdout)}|tok")


def test_this_pid_under_another_token_is_a_predecessor_and_gone() -> None:
    # a container restarted with the same PID: the old holder is dead
    assert owner_gone(f"{host_identity()}|{os.getpid()}|another")


def test_another_host_or_a_malformed_name_is_presumed_alive() -> None:
    assert not owner_gone(f"elsewhere|ns|{os.getpid() + 1}|tok")
    assert not owner_gone("nonsense")
    assert not owner_gone("")
