"""Session ids are UUIDv7 carrying their start time; anything else carries none."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.ids import id_time_ms, new_id


@given(st.integers(min_value=0, max_value=(1 << 48) - 1), st.integers(min_value=0, max_value=(1 << 74) - 1))
def test_the_start_time_comes_back_out(started_ms: int, random_bits: int) -> None:
    session_id = new_id(started_ms, random_bits)
    parsed = uuid.UUID(session_id)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert str(parsed) == session_id  # canonical text: what the API returns and accepts
    assert id_time_ms(session_id) == started_ms


def test_ids_of_one_millisecond_differ_and_sort_by_time() -> None:
    same_ms = {new_id(1_790_000_000_000) for _ in range(1000)}
    assert len(same_ms) == 1000
    assert new_id(1_790_000_000_000) < new_id(1_790_000_000_001)


@pytest.mark.parametrize(
    "session_id",
    [str(uuid.uuid4()), str(uuid.uuid1()), "not-a-uuid", "", "01a0c450-6c7b-77ea-08e9-0ed03bbabb02"],
    # Fixed names: random ids in test names differ between pytest-xdist's workers.
    ids=["uuid4", "uuid1", "not-a-uuid", "empty", "v7-wrong-variant"],
)
def test_other_ids_carry_no_time(session_id: str) -> None:
    # The last one is a v7 layout with the wrong variant bits.
    assert id_time_ms(session_id) is None


def test_times_outside_48_bits_are_refused() -> None:
    with pytest.raises(ValueError):
        new_id(-1)
    with pytest.raises(ValueError):
        new_id(1 << 48)
