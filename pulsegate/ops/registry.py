"""Every operation the CLI can run, offline or inside the server, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from pulsegate.domain.analytics import Storage
from pulsegate.domain.lead_views import LeadDetail, LeadList
from pulsegate.ops import anomalies, demo, keys, leads, status, storage
from pulsegate.ops.context import OpContext
from pulsegate.services.anomalies import AnomalyReport


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: its function, its argument Struct, and its result type for decoding."""

    name: str
    run: Callable[[OpContext, Any], Any]
    arguments: type[msgspec.Struct]
    result: Any
    changes_keys: bool = False  # the server reloads its key ring afterwards


OPERATIONS: dict[str, Operation] = {
    operation.name: operation
    for operation in (
        Operation("keys.create", keys.create_key, keys.CreateKey, keys.CreatedKey, changes_keys=True),
        Operation("keys.list", keys.list_keys, keys.NoArguments, list[keys.KeyInfo]),
        Operation("keys.revoke", keys.revoke_key, keys.RevokeKey, keys.KeyInfo, changes_keys=True),
        Operation("status", status.status, keys.NoArguments, status.Status),
        Operation("storage.stats", storage.stats, keys.NoArguments, Storage),
        Operation("storage.backup", storage.backup, storage.BackupArgs, storage.BackupDone),
        Operation("storage.compact", storage.compact, storage.CompactArgs, storage.CompactDone),
        Operation("storage.prune", storage.prune, storage.PruneArgs, storage.Pruned),
        Operation("anomalies.scan", anomalies.scan_anomalies, anomalies.ScanArgs, AnomalyReport),
        Operation("leads.retry", leads.retry_deliveries, leads.RetryDeliveries, leads.Requeued),
        Operation("leads.export_page", leads.export_page, leads.ExportPage, leads.ExportedPage),
        Operation("leads.export_parquet", leads.export_parquet, leads.ExportParquet, leads.Exported),
        Operation("leads.list", leads.list_leads, leads.ListLeads, LeadList),
        Operation("leads.show", leads.show_lead, leads.ShowLead, LeadDetail),
        Operation("demo.seed", demo.seed, demo.SeedArgs, demo.Seeded),
    )
}
