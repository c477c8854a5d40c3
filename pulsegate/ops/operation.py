"""An operation: one typed function the CLI runs offline, or inside the server over the control socket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from pulsegate.ops.context import OpContext

A = TypeVar("A", bound=msgspec.Struct)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Operation(Generic[A, R]):
    """`run(context, args) -> result`, with the types both sides of the socket decode.

    Generic over its arguments and result, so `run_operation(settings, keys.CREATE, …)` is
    typed `CreatedKey` at the call site: the CLI passes the operation itself, not its name.
    """

    name: str
    run: Callable[[OpContext, A], R]
    arguments: type[A]
    result: Any  # the type msgspec decodes the server's answer as: R itself, or list[KeyInfo]
    changes_keys: bool = False  # the server reloads its key ring afterwards
    changes_projects: bool = False  # the server reloads its registered projects afterwards
    refreshes_readers: bool = False  # the archive or the file may have changed: readers look again
    # Offline, a missing database file is made (keys create, demo seed); every other operation
    # refuses it, so a mistyped --database never leaves an empty database behind.
    creates_database: bool = False
    # Runs on the ClickHouse store too (storage.engine = "clickhouse"): straight on the shared
    # store from the CLI's process, whichever servers run.
    on_clickhouse: bool = False
    # Why it does not run there (it makes no sense on ClickHouse), told with what to do instead.
    never_on_clickhouse: str = ""
