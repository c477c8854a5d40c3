"""The visitor key is the same number in Python (sessions the server writes) and in SQL (migration
0012 and sessions written by SQL), for tracker ids and for any other text."""

from __future__ import annotations

import hashlib

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pulsegate.domain.visitor import visitor_id, visitor_key
from pulsegate.store.visitors import VISITOR_KEY_SQL

KEY = VISITOR_KEY_SQL.replace("visitor_id", "?")


def sql_key(connection: duckdb.DuckDBPyConnection, text: str) -> int:
    return connection.execute(f"SELECT {KEY}", [text] * KEY.count("?")).fetchall()[0][0]


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_python_and_sql_agree(text: str) -> None:
    connection = duckdb.connect()
    tracker_id = visitor_id("salt", visitor_header=text, fingerprint_header=None, client_ip="", user_agent="")
    for candidate in (
        tracker_id,
        text.replace("\x00", ""),
        hashlib.sha256(text.encode()).hexdigest().upper(),
    ):
        if candidate:
            assert sql_key(connection, candidate) == visitor_key(candidate), candidate


def test_a_tracker_id_keeps_its_own_first_digits() -> None:
    tracker_id = visitor_id(
        "salt", visitor_header="abc", fingerprint_header=None, client_ip="", user_agent=""
    )
    assert visitor_key(tracker_id) == int(tracker_id[:15], 16) < 2**63
