"""Search: the outbox filled by triggers on datasets, the row version used as the index's
external version, and the Postgres backend's documents.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = """
CREATE FUNCTION datasets_raise_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    RETURN NEW;
END $$;

CREATE TRIGGER datasets_row_version BEFORE UPDATE ON datasets
    FOR EACH ROW EXECUTE FUNCTION datasets_raise_row_version();

CREATE FUNCTION datasets_enqueue_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_outbox (dataset_id) SELECT id FROM changed;
    RETURN NULL;
END $$;

CREATE TRIGGER datasets_search_insert AFTER INSERT ON datasets
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION datasets_enqueue_search();

CREATE TRIGGER datasets_search_update AFTER UPDATE ON datasets
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION datasets_enqueue_search();
"""


def upgrade() -> None:
    op.add_column(
        "datasets",
        sa.Column(
            "row_version",
            sa.BigInteger(),
            server_default="1",
            nullable=False,
            comment="Raised by a trigger on every update; the search index's external version.",
        ),
    )
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column(
            "enqueued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(
        "ix_search_outbox_due",
        "search_outbox",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text("parked_at IS NULL"),
    )
    op.create_table(
        "search_documents",
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("row_version", sa.BigInteger(), nullable=False),
        sa.Column("accession", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("access_level", sa.Text(), nullable=False),
        sa.Column("steward_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_sort", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "facets",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="Facet name to the values this dataset counts under.",
        ),
        sa.Column(
            "filter_keys",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            comment="'facet:lowercased value' pairs; one GIN index serves every filter.",
        ),
        sa.Column("tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "indexed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_search_documents_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_tsv", "search_documents", ["tsv"], postgresql_using="gin")
    op.create_index(
        "ix_search_documents_filter_keys",
        "search_documents",
        ["filter_keys"],
        postgresql_using="gin",
    )
    op.create_index("ix_search_documents_updated_at", "search_documents", ["updated_at"])
    op.create_index("ix_search_documents_title_sort", "search_documents", ["title_sort"])
    op.create_index("ix_search_documents_participants", "search_documents", ["participant_count"])
    op.execute(TRIGGERS)
    op.execute("INSERT INTO search_outbox (dataset_id) SELECT id FROM datasets")


def downgrade() -> None:
    op.execute("DROP TRIGGER datasets_search_update ON datasets")
    op.execute("DROP TRIGGER datasets_search_insert ON datasets")
    op.execute("DROP FUNCTION datasets_enqueue_search()")
    op.execute("DROP TRIGGER datasets_row_version ON datasets")
    op.execute("DROP FUNCTION datasets_raise_row_version()")
    op.drop_table("search_documents")
    op.drop_index("ix_search_outbox_due", table_name="search_outbox")
    op.drop_table("search_outbox")
    op.drop_column("datasets", "row_version")
