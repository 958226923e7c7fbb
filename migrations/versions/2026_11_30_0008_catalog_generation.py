"""Catalog generation: a counter raised when a transaction that changed the catalog commits,
so public GraphQL answers can be cached per generation (catalog/generation.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables as they are at this revision; later tables need a migration of their own.
CATALOG_TABLES = (
    "access_methods",
    "bundle_members",
    "checksums",
    "committee_rules",
    "committees",
    "dataset_data_use",
    "dataset_funders",
    "dataset_terms",
    "dataset_terms_of_use",
    "dataset_versions",
    "datasets",
    "drs_aliases",
    "drs_objects",
    "ontology_term_parents",
    "ontology_terms",
    "organizations",
    "publications",
    "role_assignments",
    "users",
)

FUNCTIONS = """
CREATE FUNCTION catalog_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_touches (txid) VALUES (pg_current_xact_id()::text::bigint)
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_raise_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_generation SET generation = generation + 1;
    DELETE FROM catalog_touches WHERE txid = NEW.txid;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER catalog_generation_at_commit AFTER INSERT ON catalog_touches
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION catalog_raise_generation();
"""


def upgrade() -> None:
    op.create_table(
        "catalog_generation",
        sa.Column("id", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_catalog_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_generation")),
    )
    op.execute("INSERT INTO catalog_generation DEFAULT VALUES")
    op.create_table(
        "catalog_touches",
        sa.Column("txid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("txid", name=op.f("pk_catalog_touches")),
        prefixes=["UNLOGGED"],
    )
    op.execute(FUNCTIONS)
    for table in CATALOG_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_catalog_touched"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION catalog_touched()"
        )


def downgrade() -> None:
    for table in CATALOG_TABLES:
        op.execute(f"DROP TRIGGER {table}_catalog_touched ON {table}")
    op.drop_table("catalog_touches")
    op.execute("DROP FUNCTION catalog_raise_generation()")
    op.execute("DROP FUNCTION catalog_touched()")
    op.drop_table("catalog_generation")
