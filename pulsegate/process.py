"""Process plumbing for the server's worker: dying with the Granian main process, or on purpose."""

from __future__ import annotations

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
    import ctypes  # here, as asyncio below: the CLI imports this module for its umask alone

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl (unusual libc): run on without the safety net
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


FATAL_EXIT_CODE = 70  # EX_SOFTWARE


def exit_soon(delay_seconds: float = 1.0, code: int = FATAL_EXIT_CODE) -> None:
    """End this process after `delay_seconds` (from the running event loop), skipping cleanup.

    For DuckDB's fatal errors: the database is invalidated and only a new process can open it
    again. Everything acknowledged is in the write-ahead log already; the delay lets the 503s
    of the writes that failed meanwhile go out. Granian then exits non-zero, which is what
    systemd's `Restart=on-failure` or a container's restart policy acts on.
    """
    import asyncio

    asyncio.get_running_loop().call_later(delay_seconds, os._exit, code)


def umask_for(file_mode: int) -> int:
    """The umask that creates files with `file_mode` and folders with its search bits added
    (0600 -> 077: files 0600, folders 0700; 0640 -> 027: files 0640, folders 0750)."""
    folder_mode = file_mode | ((file_mode & 0o444) >> 2)
    return 0o777 & ~folder_mode


def create_files_with_mode(file_mode: int) -> None:
    """Make every file this process creates from now on (the database, its WAL, exports,
    backups) get `file_mode`: DuckDB creates its files with the process's umask, and a WAL is
    made anew after each checkpoint, so no chmod afterwards could keep up."""
    os.umask(umask_for(file_mode))
