"""The Alembic history against a database of its own: head matches the models exactly, and the
way down to base removes everything the way up created, so the cycle can repeat.

Each test starts from an empty ``public`` schema, reset with plain SQL rather than with the
downgrade under test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

import catalog.models
import governance.models
from api import cli
from catalog import audit_chain, migrate
from catalog.db import Base, make_engine
from catalog.generation import CATALOG_TABLES, PRIVATE_TABLES
from tests.catalog.test_constraints import checksum_verdicts

assert catalog.models  # the imports register every package's tables on Base.metadata
assert governance.models

HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
ENUM_TYPES = {
    "organization_kind",
    "role_name",
    "access_level",
    "dataset_status",
    "term_role",
    "notification_kind",
    "request_state",
    "decision_rule",
    "vote_choice",
}


@pytest.fixture(scope="module")
def migrations_url(server_url: str, worker_id: str) -> Iterator[str]:
    name = f"atrium_migrations_{worker_id}"
    admin = make_engine(server_url, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_engine(migrations_url: str) -> Iterator[Engine]:
    """An engine on an empty database (the module's database, its schema reset)."""
    engine = make_engine(migrations_url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    yield engine
    engine.dispose()


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        diff: list[object] = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return diff


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        current: str | None = MigrationContext.configure(conn).get_current_revision()
    return current


def leftovers(engine: Engine) -> dict[str, set[str]]:
    """Everything in ``public`` apart from Alembic's own bookkeeping table."""
    queries = {
        "tables": "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_name <> 'alembic_version'",
        # enums, domains, ranges and free-standing composites; not the row types of tables
        "types": "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " LEFT JOIN pg_class c ON c.oid = t.typrelid"
        " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm', 'c')"
        " AND coalesce(c.relkind, 'c') = 'c'",
        "relations": "SELECT c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('S', 'r', 'v', 'm', 'i')"
        " AND c.relname NOT IN ('alembic_version', 'alembic_version_pkc')",
        "functions": "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public'",
    }
    with engine.connect() as conn:
        return {kind: set(conn.execute(text(sql)).scalars()) for kind, sql in queries.items()}


NOTHING_LEFT: dict[str, set[str]] = {
    "tables": set(),
    "types": set(),
    "relations": set(),
    "functions": set(),
}


def test_head_matches_the_models(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)

    assert revision(fresh_engine) == HEAD
    diff = schema_diff(fresh_engine)
    assert diff == [], "\n".join(map(repr, diff))


def test_head_creates_the_enum_types_sequence_and_triggers(fresh_engine: Engine) -> None:
    """What autogenerate does not compare: sequences, triggers and their function."""
    migrate.upgrade(fresh_engine)

    created = leftovers(fresh_engine)
    assert created["types"] == ENUM_TYPES
    assert "dataset_accession_seq" in created["relations"]
    assert created["functions"] == {
        "refuse_audit_change",
        "datasets_raise_row_version",
        "datasets_enqueue_search",
        "catalog_touched",
        "catalog_raise_generation",
        "drs_access_methods_valid",
    }
    assert triggers_on(fresh_engine, "audit_events") == {
        "audit_events_append_only",
        "audit_events_no_truncate",
    }
    assert triggers_on(fresh_engine, "datasets") == {
        "datasets_row_version",
        "datasets_search_insert",
        "datasets_search_update",
        "datasets_catalog_touched",
    }


def test_every_catalog_table_and_no_private_one_moves_the_generation(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine)

    assert set(Base.metadata.tables) == CATALOG_TABLES | PRIVATE_TABLES
    for table in CATALOG_TABLES:
        assert f"{table}_catalog_touched" in triggers_on(fresh_engine, table), table
    for table in PRIVATE_TABLES:
        assert not any(t.endswith("_catalog_touched") for t in triggers_on(fresh_engine, table))
    assert triggers_on(fresh_engine, "catalog_touches") == {"catalog_generation_at_commit"}
    with fresh_engine.connect() as conn:
        persistence = conn.execute(
            text("SELECT relpersistence FROM pg_class WHERE relname = 'catalog_touches'")
        ).scalar_one()
    assert persistence == "u"


def triggers_on(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger"
                    " WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"
                ),
                {"table": table},
            ).scalars()
        )


def test_upgrade_downgrade_upgrade_round_trip(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    assert leftovers(fresh_engine)["tables"] == set(Base.metadata.tables)

    migrate.downgrade(fresh_engine, "base")

    assert revision(fresh_engine) is None
    assert leftovers(fresh_engine) == NOTHING_LEFT

    migrate.upgrade(fresh_engine)

    assert revision(fresh_engine) == HEAD
    assert schema_diff(fresh_engine) == []
    with fresh_engine.begin() as conn:
        accession = conn.execute(
            text("SELECT 'ATR-DS-' || lpad(nextval('dataset_accession_seq')::text, 6, '0')")
        ).scalar_one()
    assert accession == "ATR-DS-000001", "the sequence was dropped and created afresh"


def test_cli_upgrades_and_downgrades_the_configured_database(
    fresh_engine: Engine, migrations_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", migrations_url)

    assert cli.main(["db", "upgrade"]) == 0
    assert revision(fresh_engine) == HEAD
    assert schema_diff(fresh_engine) == []

    assert cli.main(["db", "downgrade", "base"]) == 0
    assert revision(fresh_engine) is None
    assert leftovers(fresh_engine) == NOTHING_LEFT

    assert cli.main(["db", "upgrade", HEAD]) == 0
    assert revision(fresh_engine) == HEAD


def test_0005_marks_grants_that_already_expired_as_announced(fresh_engine: Engine) -> None:
    """Otherwise the first worker run would announce every expiry in the table's history."""
    migrate.upgrade(fresh_engine, "0003")
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organizations (id, slug, name, kind)"
                " VALUES ('00000000-0000-0000-0000-00000000000a', 'org-a', 'A', 'steward');"
                "INSERT INTO users (id, issuer, subject)"
                " VALUES ('00000000-0000-0000-0000-00000000000b', 'https://i', 'gina');"
                "INSERT INTO datasets (id, title, steward_id, access_level)"
                " VALUES ('00000000-0000-0000-0000-00000000000c', 'D',"
                " '00000000-0000-0000-0000-00000000000a', 'controlled');"
                "INSERT INTO access_grants (id, user_id, dataset_id, starts_at, expires_at,"
                " granted_by) VALUES"
                " ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000b',"
                "  '00000000-0000-0000-0000-00000000000c', now() - interval '9 days',"
                "  now() - interval '1 day', 'admin'),"
                " ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000b',"
                "  '00000000-0000-0000-0000-00000000000c', now() - interval '9 days',"
                "  now() + interval '1 day', 'admin')"
            )
        )

    migrate.upgrade(fresh_engine, "0005")

    with fresh_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT right(id::text, 1), expiry_recorded_at IS NOT NULL,"
                " expiry_reminded_at IS NOT NULL FROM access_grants ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("1", True, True), ("2", False, False)]


def test_audit_chain_migration_chains_existing_events(fresh_engine: Engine) -> None:
    """Events written before 0006 are sealed by the upgrade, in id order, and verify."""
    migrate.upgrade(fresh_engine, "0003")
    with fresh_engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO audit_events (actor, action, object_type, object_id, summary)"
                    " VALUES ('old@atrium', 'dataset.created', 'dataset', :id, :summary)"
                ),
                {"id": f"ATR-DS-00000{n}", "summary": f'{{"n": {n}, "title": "é"}}'},
            )

    migrate.upgrade(fresh_engine)

    with fresh_engine.connect() as conn:
        chain = conn.execute(text("SELECT id, seq FROM audit_events ORDER BY id")).all()
        result = audit_chain.verify(conn)
    assert [seq for _, seq in chain] == [1, 2, 3]
    assert result.intact
    assert result.events == 3


def test_0009_keeps_the_checksums_the_constraint_accepts(fresh_engine: Engine) -> None:
    """The cheaper checksum check accepts exactly what the bounded regexes accepted, both ways."""
    migrate.upgrade(fresh_engine, "0008")
    with fresh_engine.connect() as conn:
        before = checksum_verdicts(conn, TABLE_CHECK)
        assert "{64}" in checksum_check(conn)

    migrate.upgrade(fresh_engine, "0009")
    with fresh_engine.connect() as conn:
        after = checksum_verdicts(conn, TABLE_CHECK)
        assert "{" not in checksum_check(conn), "no bounded repetition left"
    migrate.downgrade(fresh_engine, "0008")
    with fresh_engine.connect() as conn:
        down = checksum_verdicts(conn, TABLE_CHECK)

    assert [checked for _, _, checked, _ in before] == [bounded for *_, bounded in before]
    assert after == before
    assert down == before


TABLE_CHECK = "ck_checksums_checksum_format"
"""The checksum format check of the ``checksums`` table, before migration 0011."""


def checksum_check(conn: Connection) -> str:
    definition: str = conn.execute(
        text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
        {"name": TABLE_CHECK},
    ).scalar_one()
    return definition


OBJECTS_AT_0010 = """
INSERT INTO organizations (id, slug, name, kind)
VALUES ('00000000-0000-0000-0000-00000000000a', 'org-a', 'A', 'steward');
INSERT INTO datasets (id, title, steward_id, access_level) VALUES
    ('00000000-0000-0000-0000-00000000000c', 'D', '00000000-0000-0000-0000-00000000000a', 'open');
INSERT INTO drs_objects (id, dataset_id, name, size, is_bundle) VALUES
    ('file', '00000000-0000-0000-0000-00000000000c', 'a.cram', 10, false),
    ('bundle', '00000000-0000-0000-0000-00000000000c', 'b', 10, true);
INSERT INTO checksums (object_id, type, checksum) VALUES
    ('file', 'md5', repeat('a', 32)), ('file', 'sha-256', repeat('b', 64)),
    ('bundle', 'sha-256', repeat('c', 64));
INSERT INTO access_methods (object_id, access_id, type, url, region) VALUES
    ('file', 's3', 's3', 's3://b/a.cram', 'us-east-1'),
    ('file', 'https', 'https', 'https://x.org/a.cram', NULL),
    ('file', 'S3-upper', 's3', 's3://c/a.cram', NULL);
INSERT INTO bundle_members (bundle_id, name, child_id) VALUES ('bundle', 'a.cram', 'file');
"""


def test_0011_names_objects_without_a_checksum_and_changes_nothing(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0010")
    with fresh_engine.begin() as conn:
        conn.execute(text(OBJECTS_AT_0010))
        conn.execute(text("DELETE FROM checksums WHERE object_id = 'bundle'"))
    with pytest.raises(RuntimeError, match=r"no checksum.*: bundle; give each one"):
        migrate.upgrade(fresh_engine, "0011")
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
        assert conn.execute(text("SELECT count(*) FROM checksums")).scalar() == 2


def table_rows(conn: Connection) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    checksums = conn.execute(text("SELECT object_id, type, checksum FROM checksums")).all()
    methods = conn.execute(
        text("SELECT object_id, access_id, type, url, region FROM access_methods")
    ).all()
    return {tuple(r) for r in checksums}, {tuple(r) for r in methods}


def test_0011_moves_checksums_and_access_methods_onto_the_object_rows_and_back(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine, "0010")
    with fresh_engine.begin() as conn:
        conn.execute(text(OBJECTS_AT_0010))
        rows_before = table_rows(conn)

    migrate.upgrade(fresh_engine, "0011")

    with fresh_engine.connect() as conn:
        objects = conn.execute(
            text("SELECT id, checksums, access_methods FROM drs_objects ORDER BY id")
        ).all()
    assert [tuple(o) for o in objects] == [
        ("bundle", {"sha-256": "c" * 64}, []),
        (
            "file",
            {"md5": "a" * 32, "sha-256": "b" * 64},
            [
                ["S3-upper", "s3", "s3://c/a.cram", None],
                ["https", "https", "https://x.org/a.cram", None],
                ["s3", "s3", "s3://b/a.cram", "us-east-1"],
            ],
        ),
    ]

    migrate.downgrade(fresh_engine, "0010")

    with fresh_engine.connect() as conn:
        assert table_rows(conn) == rows_before
    assert leftovers(fresh_engine)["functions"] == {
        "refuse_audit_change",
        "datasets_raise_row_version",
        "datasets_enqueue_search",
        "catalog_touched",
        "catalog_raise_generation",
    }
    assert triggers_on(fresh_engine, "checksums") == {"checksums_catalog_touched"}
    assert triggers_on(fresh_engine, "access_methods") == {"access_methods_catalog_touched"}
