"""`pulsegate projects …`: the sites this server takes data for (offline or inside the server)."""

from __future__ import annotations

import msgspec

from pulsegate.domain.projects import normalise_domain
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import projects as sql


class AddProject(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `projects add`."""

    name: str
    domains: list[str]


class RemoveProject(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `projects remove`."""

    name: str


class ProjectInfo(msgspec.Struct, kw_only=True):
    """A registered project."""

    name: str
    domains: list[str]
    created_ms: int


def add_project(context: OpContext, args: AddProject) -> ProjectInfo:
    """Register a project with its domains (again: replace its domains)."""
    name = check_project(args.name.strip(), "NAME")
    if not args.domains:
        raise InvalidInput("--domain: give at least one, such as --domain example.com")
    domains = sorted({normalise_domain(domain) for domain in args.domains})
    sql.upsert_project(context.connection, name, domains, utc_datetime(now_ms()))
    return next(project for project in list_projects(context, NoArguments()) if project.name == name)


def list_projects(context: OpContext, args: NoArguments) -> list[ProjectInfo]:
    """Every registered project."""
    return [
        ProjectInfo(name=name, domains=list(domains), created_ms=epoch_ms(created_at))
        for name, domains, created_at in sql.project_rows(context.connection)
    ]


def remove_project(context: OpContext, args: RemoveProject) -> list[ProjectInfo]:
    """Forget a project (its data stays); returns the projects still registered."""
    if not sql.delete_project(context.connection, args.name):
        raise UnknownId(f"No registered project {args.name!r}; `pulsegate projects list` shows them")
    return list_projects(context, NoArguments())


ADD = Operation(
    "projects.add", add_project, AddProject, ProjectInfo, changes_projects=True, creates_database=True,
    on_clickhouse=True,
)  # fmt: skip
LIST = Operation("projects.list", list_projects, NoArguments, list[ProjectInfo], on_clickhouse=True)
REMOVE = Operation(
    "projects.remove", remove_project, RemoveProject, list[ProjectInfo], changes_projects=True,
    on_clickhouse=True,
)  # fmt: skip
