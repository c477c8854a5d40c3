"""`pulsegate leads …` operations (offline or inside the running server)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from pulsegate.domain.lead_ids import shortest_unique_prefix
from pulsegate.domain.lead_views import LeadDetail, LeadFilter, LeadList
from pulsegate.domain.leads import LEAD_STATUSES, LeadStatus
from pulsegate.domain.periods import Paging, resolve_window
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.domain.tracking import Project, check_project
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import OpContext
from pulsegate.ops.operation import Operation
from pulsegate.ops.output_files import check_output_file, written_in_place_of
from pulsegate.services import lead_views
from pulsegate.store import lead_queries as sql
from pulsegate.store.deliveries import requeue


class RetryDeliveries(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `leads retry`."""

    include_failed: bool = False


class Requeued(msgspec.Struct, kw_only=True):
    """How many deliveries were made due now."""

    deliveries: int


def retry_deliveries(context: OpContext, args: RetryDeliveries) -> Requeued:
    """Make pending deliveries due now; with include_failed, give failed ones a fresh start too."""
    count = requeue(context.connection, utc_datetime(now_ms()), include_failed=args.include_failed)
    return Requeued(deliveries=count)


class LeadSelection(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which leads a command works on."""

    project: Project | None = None
    since: str | None = None  # ISO date (inclusive), ISO datetime or epoch ms, in UTC
    until: str | None = None  # ISO date (inclusive), ISO datetime or epoch ms, in UTC
    status: LeadStatus | None = None

    def checked(self) -> LeadSelection:
        """This selection if every part of it holds, else InvalidInput naming the command's option
        and what it takes (the CLI checks before it writes or asks anything)."""
        if self.status is not None and self.status not in LEAD_STATUSES:
            raise InvalidInput(f"--status: one of {', '.join(LEAD_STATUSES)} (got {self.status!r})")
        if self.project is not None:
            check_project(self.project, "--project")
        self.to_filter()
        return self

    def to_filter(self) -> LeadFilter:
        start = end = None
        if self.since or self.until:
            params = {name: value for name, value in (("from", self.since), ("to", self.until)) if value}
            try:
                window = resolve_window(params, now_ms())
            except InvalidInput as exc:  # name the CLI's options, not the API's parameters
                raise InvalidInput(_option_names(exc.message)) from None
            start, end = utc_datetime(window.start_ms), utc_datetime(window.end_ms)
        projects = (self.project,) if self.project else None
        return LeadFilter(projects, start, end, None, self.status, None)


class ExportPage(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One page of an export: the leads after (after_ms, after_id)."""

    selection: LeadSelection
    after_ms: int | None = None
    after_id: str | None = None
    limit: Annotated[int, Meta(ge=1, le=10_000)] = 2000


EXPORT_COLUMNS = sql.EXPORT_COLUMNS  # the order of ExportedPage's rows, for the CLI that writes them
EXPORT_TIME_COLUMNS = sql.EXPORT_TIME_COLUMNS


class ExportedPage(msgspec.Struct, kw_only=True):
    """Rows in EXPORT_COLUMNS order (times as epoch ms); `total` only on the first page."""

    rows: list[list[str | int | float | bool | None]]
    total: int | None
    # Where the next page starts: the last row's (created_at, lead_id); None on an empty page.
    last_ms: int | None = None
    last_id: str | None = None


class ExportParquet(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of a Parquet export, written by the store's engine where the store is."""

    selection: LeadSelection
    path: str  # absolute


class Exported(msgspec.Struct, kw_only=True):
    rows: int
    path: str


class ListLeads(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    selection: LeadSelection
    limit: Annotated[int, Meta(ge=1, le=1000)] = 20


class ShowLead(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lead_id: str


def export_page(context: OpContext, args: ExportPage) -> ExportedPage:
    """The next page of leads, oldest first, for streaming exports."""
    leads = args.selection.to_filter()
    after = (utc_datetime(args.after_ms), args.after_id or "") if args.after_ms is not None else None
    rows = sql.export_page(context.connection, leads, after, args.limit)
    total = sql.count_leads(context.connection, leads) if after is None else None
    last = rows[-1] if rows else None
    return ExportedPage(
        rows=[[_plain(value) for value in row] for row in rows],
        total=total,
        last_ms=epoch_ms(last[1]) if last else None,
        last_id=last[0] if last else None,
    )


def export_parquet(context: OpContext, args: ExportParquet) -> Exported:
    """Write the selected leads to a Parquet file."""
    if not args.path.startswith("/"):
        raise InvalidInput("--output: give an absolute path for a Parquet export")
    leads = args.selection.to_filter()
    target = Path(args.path)
    check_output_file(target, option="--output", example="leads.parquet")
    with written_in_place_of(target) as partial:
        rows = sql.export_parquet(context.connection, leads, str(partial))
    return Exported(rows=rows, path=args.path)


class ListedLeads(msgspec.Struct, kw_only=True):
    """The newest matching leads, with the short id that names each (as `leads show` takes it)."""

    listing: LeadList
    short_ids: list[str]


def list_leads(context: OpContext, args: ListLeads) -> ListedLeads:
    """The newest leads matching the selection."""
    listing = lead_views.list_leads(
        context.connection, args.selection.to_filter(), Paging(limit=args.limit, page=1)
    )
    ids = [lead.lead_id for lead in listing.leads]
    neighbours = sql.sorted_neighbours(context.connection, ids)
    return ListedLeads(
        listing=listing,
        short_ids=[shortest_unique_prefix(lead_id, neighbours.get(lead_id, (None, None))) for lead_id in ids],
    )


MAX_CANDIDATES = 5


def show_lead(context: OpContext, args: ShowLead) -> LeadDetail:
    """One lead with its deliveries and timeline; any unique start of its id will do."""
    typed = args.lead_id.strip()
    found = sql.lead_ids_starting_with(context.connection, typed, MAX_CANDIDATES + 1) if typed else []
    if not found:
        raise UnknownId(f"No lead with an id starting {typed!r}; `pulsegate leads list` shows them")
    if len(found) > 1 and typed not in found:
        more = ", …" if len(found) > MAX_CANDIDATES else ""
        raise InvalidInput(
            f"{typed!r} starts several lead ids ({', '.join(found[:MAX_CANDIDATES])}{more}): give more of it"
        )
    lead_id = typed if typed in found else found[0]
    return lead_views.lead_detail(context.connection, lead_id, None)


def _option_names(message: str) -> str:
    """An API message about `from`/`to` as the CLI's `--since`/`--until`."""
    name, _, rest = message.partition(": ")
    option = {"from": "--since", "to": "--until"}.get(name, name)
    return f"{option}: {rest.replace('must be before to', 'must be before --until')}"


def _plain(value: object) -> str | int | float | bool | None:
    if isinstance(value, datetime):
        return epoch_ms(value)
    if value is None or isinstance(value, int | float | str):  # bool is an int
        return value
    return str(value)


RETRY = Operation("leads.retry", retry_deliveries, RetryDeliveries, Requeued, on_clickhouse=True)
EXPORT_PAGE = Operation("leads.export_page", export_page, ExportPage, ExportedPage, on_clickhouse=True)
EXPORT_PARQUET = Operation(
    "leads.export_parquet", export_parquet, ExportParquet, Exported, on_clickhouse=True
)
LIST = Operation("leads.list", list_leads, ListLeads, ListedLeads, on_clickhouse=True)
SHOW = Operation("leads.show", show_lead, ShowLead, LeadDetail, on_clickhouse=True)
