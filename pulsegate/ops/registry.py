"""Every operation the control socket runs, by name (each is declared beside its function)."""

from __future__ import annotations

from typing import Any

from pulsegate.ops import (
    anomalies,
    demo,
    email_reports,
    funnels,
    goals,
    imports,
    keys,
    leads,
    plausible_import,
    projects,
    reports,
    shares,
    status,
    storage,
    umami_import,
)
from pulsegate.ops.operation import Operation

OPERATIONS: dict[str, Operation[Any, Any]] = {
    operation.name: operation
    for operation in (
        keys.CREATE,
        keys.LIST,
        keys.REVOKE,
        projects.ADD,
        projects.LIST,
        projects.REMOVE,
        goals.ADD,
        goals.LIST,
        goals.REMOVE,
        funnels.ADD,
        funnels.LIST,
        funnels.REMOVE,
        status.STATUS,
        storage.STATS,
        storage.BACKUP,
        storage.COMPACT,
        storage.PRUNE,
        anomalies.SCAN,
        reports.BREAKDOWN,
        leads.RETRY,
        leads.EXPORT_PAGE,
        leads.EXPORT_PARQUET,
        leads.LIST,
        leads.SHOW,
        demo.SEED,
        email_reports.ADD,
        email_reports.LIST,
        email_reports.REMOVE,
        email_reports.COMPOSE,
        imports.LIST,
        imports.REMOVE,
        plausible_import.BEGIN,
        plausible_import.ADD_ROWS,
        plausible_import.FINISH,
        umami_import.START,
        umami_import.BATCH,
        umami_import.FINISH,
        shares.CREATE,
        shares.LIST,
        shares.REVOKE,
    )
}
