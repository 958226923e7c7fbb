"""A caller's active grants, read by every signed-in catalog request (alone, or with its class
of access), are an index scan under the generic plan that pooled reads use, however the grants
are spread among users."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from api.graphql.caller_access import GENERATION_AND_CLASS
from catalog.prepared import PreparedQuery
from governance.repository import ACTIVE_GRANTS
from tests.factories import Factory


def test_active_grants_are_an_index_scan_when_one_user_holds_them_all(
    committed_factory: Factory, committed_engine: Engine
) -> None:
    """A generic plan estimates a user's share of the table from its count of distinct users:
    with one user holding every grant, a plain index on the user lost to reading the table."""
    factory = committed_factory
    dataset = factory.dataset(publish=True, access_level="controlled")
    pipeline = factory.grant("pipeline", dataset)
    factory.session.execute(
        text(
            "INSERT INTO access_grants (id, user_id, dataset_id, starts_at, expires_at, granted_by)"
            " SELECT gen_random_uuid(), user_id, dataset_id, starts_at, expires_at, granted_by"
            " FROM access_grants, generate_series(1, 5000) WHERE id = :id"
        ),
        {"id": pipeline.id},
    )
    reader = factory.principal("reader")
    factory.session.commit()
    with committed_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE access_grants")  # as autovacuum would
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        values = {"user_id": reader.user_id, "now": datetime.now(UTC)}
        assert ACTIVE_GRANTS.rows(conn, values) == []
        assert len(ACTIVE_GRANTS.rows(conn, {**values, "user_id": pipeline.user_id})) == 5001
        plans = [explain(conn, ACTIVE_GRANTS, values)]
        values = {"issuer": factory.issuer.issuer, "subject": "reader", "now": values["now"]}
        [(_, reader_id, *_, granted)] = GENERATION_AND_CLASS.rows(conn, values)
        assert (reader_id, granted) == (reader.user_id, None)
        plans.append(explain(conn, GENERATION_AND_CLASS, values))
    for plan in plans:
        # An index-only scan on the Postgres the tests ship; whatever the planner's version,
        # not a read of the whole table.
        assert "ix_access_grants_active_by_user" in plan
        assert "Seq Scan on access_grants" not in plan
        assert "$1" in plan  # the generic plan, not one made for this user


def explain(conn: Connection, query: PreparedQuery, values: dict[str, Any]) -> str:
    explained = conn.exec_driver_sql(f"EXPLAIN {query.execute_sql}", query.arguments(values))
    return "\n".join(row[0] for row in explained)
