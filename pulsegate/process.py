"""Process plumbing for the server's worker: dying with the Granian main process."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies.

    Granian serves from a worker process. If the main process is killed with SIGKILL, an
    orphaned worker would keep holding the DuckDB file lock and the port's listening socket,
    and a restart would fail. Everything the worker acknowledged is committed already, so
    dying at once loses nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl (unusual libc): run on without the safety net
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)
