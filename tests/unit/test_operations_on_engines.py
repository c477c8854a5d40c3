"""Every operation says what it does on ClickHouse: it runs there, or it names why it never will
and what to do instead (an operation that says neither would answer "not available yet")."""

from __future__ import annotations

from pulsegate.ops.registry import OPERATIONS


def test_every_operation_runs_on_clickhouse_or_says_why_not() -> None:
    undecided = [
        name for name, op in OPERATIONS.items() if not op.on_clickhouse and not op.never_on_clickhouse
    ]
    assert undecided == []
    both = [name for name, op in OPERATIONS.items() if op.on_clickhouse and op.never_on_clickhouse]
    assert both == []
