"""`demo.seed` on a real database file: what is stored is what the generator made, and analytics read it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import load_settings
from pulsegate.domain.demo_traffic import generate_visits
from pulsegate.domain.timestamps import now_ms
from pulsegate.errors import InvalidInput
from pulsegate.ops.context import OpContext
from pulsegate.ops.demo import SeedArgs, seed
from pulsegate.ops.keys import CreateKey, create_key
from pulsegate.store.database import Database

ARGS = {"days": 7, "sessions": 600, "seed": 11}


def test_the_stored_rows_are_the_generated_visits(tmp_path: Path) -> None:
    end = now_ms()
    visits = generate_visits(seed=11, days=7, sessions=600, now_ms=end)
    database = Database.open(tmp_path / "d.duckdb")
    try:
        done = seed(OpContext(database.connection), SeedArgs(**ARGS, now_ms=end))
        query = database.connection.execute
        leads = [v.lead for v in visits if v.lead]
        assert (done.sessions, done.events, done.leads) == (
            600,
            sum(1 + len(v.events) for v in visits),
            len(leads),
        )
        assert query("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL").fetchone() == (600,)
        # Form views are kept in their own table (migration 0011).
        views = sum(1 for v in visits for e in v.events if e.fields.type == "form_view")
        assert views > 0
        assert query("SELECT count(*) FROM events").fetchone() == (done.events - views,)
        assert query("SELECT count(*) FROM form_views").fetchone() == (views,)
        stored_scores = dict(query("SELECT session_id, engagement_score FROM sessions").fetchall())
        assert stored_scores == {v.session.session_id: v.score for v in visits}
        assert dict(query("SELECT status, count(*) FROM leads GROUP BY status").fetchall()) == Counter(
            lead.status for lead in leads
        )
        forwarded = sum(lead.status in ("forwarded", "synced", "failed") for lead in leads)
        assert query("SELECT count(*) FROM deliveries").fetchone() == (forwarded,)
        # Each lead points at the session that sent it.
        linked = query("SELECT count(*) FROM leads l JOIN sessions s USING (session_id)").fetchone()
        assert linked == (len(leads),)
        key = create_key(OpContext(database.connection), CreateKey(name="t")).secret
    finally:
        database.close()

    settings = load_settings(
        None, environ={}, overrides={"storage": {"database": str(tmp_path / "d.duckdb")}}
    )
    with TestClient(create_app(settings)) as client:
        overview = client.get(
            "/analytics/overview", params={"period": "30d"}, headers={"X-API-Key": key}
        ).json()
    humans = [v for v in visits if not v.session.is_bot]
    assert overview["current"]["sessions"] == len(humans)
    assert overview["current"]["visitors"] == len({v.session.visitor_id for v in humans})
    assert overview["current"]["leads"] == sum(1 for v in visits if v.lead and v.lead.status != "spam")


def test_a_database_with_sessions_is_refused_unless_forced(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "d.duckdb")
    try:
        seed(OpContext(database.connection), SeedArgs(days=1, sessions=10))
        with pytest.raises(InvalidInput, match="already holds 10 sessions"):
            seed(OpContext(database.connection), SeedArgs(days=1, sessions=10))
        again = seed(OpContext(database.connection), SeedArgs(days=1, sessions=10, force=True))  # same seed
        assert again.sessions == 10
        assert database.connection.execute("SELECT count(*) FROM sessions").fetchone() == (20,)
    finally:
        database.close()


@pytest.mark.parametrize(("args", "message"), [({"days": 0}, "--days"), ({"sessions": 0}, "--sessions")])
def test_out_of_range_sizes_are_refused(tmp_path: Path, args: dict[str, Any], message: str) -> None:
    database = Database.open(tmp_path / "d.duckdb")
    try:
        with pytest.raises(InvalidInput, match=message):
            seed(OpContext(database.connection), SeedArgs(**args))
    finally:
        database.close()
