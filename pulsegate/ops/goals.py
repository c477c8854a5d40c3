"""`pulsegate goals …`: the conversions the reports count (offline or inside the server)."""

from __future__ import annotations

import msgspec

from pulsegate.domain.goals import Goal, GoalOptions
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import goals as sql

# `goals add` takes what a `[[goals]]` table of the config file takes.
AddGoal = GoalOptions


class RemoveGoal(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `goals remove`."""

    name: str


class GoalInfo(msgspec.Struct, kw_only=True):
    """A goal as `goals list` shows it."""

    goal: Goal
    description: str
    created_ms: int
    declared_in: str = "cli"  # or "config": the config file's [[goals]]


def add_goal(context: OpContext, args: AddGoal) -> GoalInfo:
    """Add a goal (again with the same name: replace it)."""
    checked = args.goal()
    _refuse_config_goal(context, checked.name, "add it there")
    sql.upsert_goal(context.connection, checked, utc_datetime(now_ms()))
    return next(info for info in list_goals(context, NoArguments()) if info.goal.name == checked.name)


def list_goals(context: OpContext, args: NoArguments) -> list[GoalInfo]:
    """Every goal, by name."""
    return [
        GoalInfo(goal=found, description=found.describe(), created_ms=epoch_ms(created_at), declared_in=where)
        for found, created_at, where in sql.goal_rows(context.connection)
    ]


def _refuse_config_goal(context: OpContext, name: str, what: str) -> None:
    """The config file's goals are changed in the file: each start writes them again."""
    if sql.declared_in(context.connection, name) == "config":
        raise InvalidInput(f"The goal {name!r} is declared in the config file ([[goals]]): {what}")


def remove_goal(context: OpContext, args: RemoveGoal) -> list[GoalInfo]:
    """Remove a goal (the events and leads it counted stay); returns the goals left."""
    _refuse_config_goal(context, args.name, "remove it there")
    if not sql.delete_goal(context.connection, args.name):
        raise UnknownId(f"No goal {args.name!r}; `pulsegate goals list` shows them")
    return list_goals(context, NoArguments())


ADD = Operation("goals.add", add_goal, AddGoal, GoalInfo, creates_database=True, on_clickhouse=True)
LIST = Operation("goals.list", list_goals, NoArguments, list[GoalInfo], on_clickhouse=True)
REMOVE = Operation("goals.remove", remove_goal, RemoveGoal, list[GoalInfo], on_clickhouse=True)
