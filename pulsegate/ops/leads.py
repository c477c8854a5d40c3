"""`pulsegate leads …` operations (offline or inside the running server)."""

from __future__ import annotations

import msgspec

from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops.context import OpContext
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
