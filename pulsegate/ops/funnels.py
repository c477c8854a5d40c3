"""`pulsegate funnels …`: saved funnels, run by name in the API and dashboard (offline or in the server)."""

from __future__ import annotations

import msgspec

from pulsegate.domain.funnels import Funnel, format_window, funnel, step_goal
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import funnels as sql
from pulsegate.store.goals import goal_rows


class AddFunnel(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `funnels add`: the name, 2-8 steps, and where they must happen."""

    name: str
    steps: list[str]
    within: str | None = None  # session (default) or visitor
    window: str | None = None  # within visitor: 30m, 12h, 7d (default 7d)
    project: str | None = None


class RemoveFunnel(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `funnels remove`."""

    name: str


class FunnelInfo(msgspec.Struct, kw_only=True):
    """A saved funnel as `funnels list` shows it."""

    name: str
    steps: list[str]
    within: str
    window: str | None  # `7d`, within visitor
    project: str | None
    created_ms: int


def add_funnel(context: OpContext, args: AddFunnel) -> FunnelInfo:
    """Save a funnel (again with the same name: replace it); its goal: steps must name goals."""
    project = check_project(args.project, "--project") if args.project is not None else None
    checked = funnel(args.steps, args.within, args.window, name=args.name, project=project)
    known = {found.name: found for found, *_ in goal_rows(context.connection)}
    for step in checked.steps:
        step_goal(step, known)  # an unknown goal is refused now, not at the first run
    sql.upsert_funnel(context.connection, checked, utc_datetime(now_ms()))
    return next(info for info in list_funnels(context, NoArguments()) if info.name == checked.name)


def list_funnels(context: OpContext, args: NoArguments) -> list[FunnelInfo]:
    """Every saved funnel, by name."""
    return [_info(found, epoch_ms(created_at)) for found, created_at in sql.funnel_rows(context.connection)]


def _info(found: Funnel, created_ms: int) -> FunnelInfo:
    return FunnelInfo(
        name=found.name or "",
        steps=[step.text for step in found.steps],
        within=found.within,
        window=format_window(found.window_ms) if found.window_ms is not None else None,
        project=found.project,
        created_ms=created_ms,
    )


def remove_funnel(context: OpContext, args: RemoveFunnel) -> list[FunnelInfo]:
    """Remove a saved funnel; returns those left."""
    if not sql.delete_funnel(context.connection, args.name):
        raise UnknownId(f"No saved funnel {args.name!r}; `pulsegate funnels list` shows them")
    return list_funnels(context, NoArguments())


ADD = Operation("funnels.add", add_funnel, AddFunnel, FunnelInfo, creates_database=True, on_clickhouse=True)
LIST = Operation("funnels.list", list_funnels, NoArguments, list[FunnelInfo], on_clickhouse=True)
REMOVE = Operation("funnels.remove", remove_funnel, RemoveFunnel, list[FunnelInfo], on_clickhouse=True)
