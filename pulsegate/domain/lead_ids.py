"""Lead ids as people type them: the shortest prefix that still names one lead."""

from __future__ import annotations

MIN_SHOWN = 8  # never shorter than this, so a short id stays unique a while as leads arrive


def common_prefix_length(first: str, second: str) -> int:
    """How many leading characters two strings share."""
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length


def shortest_unique_prefix(
    lead_id: str, neighbours: tuple[str | None, str | None], minimum: int = MIN_SHOWN
) -> str:
    """The shortest prefix of `lead_id` (at least `minimum` characters) that no other id starts
    with, given its neighbours in sorted order (the ids just before and after it: any id sharing
    a longer prefix would sort between them)."""
    shared = max(
        (common_prefix_length(lead_id, other) for other in neighbours if other is not None), default=0
    )
    return lead_id[: max(minimum, shared + 1)]
