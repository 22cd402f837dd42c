"""Who holds a lease: a process's name, and whether the process a name belongs to is dead.

Digest runs (``bot.digests.runner``) and regrouping (``bot.core.regroup``) are each held by one
process at a time under a lease in the database. A lease ends by time; a holder known to be
dead frees it sooner. A name is this machine and PID namespace, the PID, and a random token:
processes of the same machine and namespace can check on each other with ``kill(pid, 0)``;
the token tells a restarted process that got the same PID (as in a container) from its
predecessor. Written here rather than taken from a library: a PID-file or lock-file library
would tie the lease to a file on one machine, where the lease lives in the shared database.
"""

from __future__ import annotations

import os
import socket
import uuid

_OWNER: tuple[int, str] | None = None


def host_identity() -> str:
    """This machine and PID namespace: processes with the same one can check on each other."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}|{namespace}"


def process_owner() -> str:
    """This process's name for a lease (worked out per process: a fork gets its own)."""
    global _OWNER
    if _OWNER is None or _OWNER[0] != os.getpid():
        _OWNER = (os.getpid(), f"{host_identity()}|{os.getpid()}|{uuid.uuid4().hex[:12]}")
    return _OWNER[1]


def owner_gone(owner: str) -> bool:
    """Whether the process named by a lease's ``owner`` is known to be dead: it ran on this
    machine, in this PID namespace, and its PID is gone or is now this process under another
    token (a restart that got the same PID). Unknown owners are presumed alive until their
    lease ends."""
    host, _, _token = owner.rpartition("|")
    host, _, pid_text = host.rpartition("|")
    if host != host_identity() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != process_owner()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
