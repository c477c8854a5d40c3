"""`pulsegate anomalies scan` (offline or inside the running server)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from pulsegate.domain.anomalies import MAX_WINDOW_HOURS, AnomalyReport
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import Project
from pulsegate.ops.context import OpContext
from pulsegate.ops.operation import Operation
from pulsegate.services.anomalies import scan


class ScanArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `anomalies scan`."""

    project: Project | None = None
    window_hours: Annotated[int, Meta(ge=1, le=MAX_WINDOW_HOURS)] = 6
    sensitivity: Literal["low", "normal", "high"] = "normal"


def scan_anomalies(context: OpContext, args: ScanArgs) -> AnomalyReport:
    """Findings over the recent window."""
    projects = (args.project,) if args.project else None
    return scan(context.connection, now_ms(), args.window_hours, args.sensitivity, projects)


SCAN = Operation("anomalies.scan", scan_anomalies, ScanArgs, AnomalyReport, on_clickhouse=True)
