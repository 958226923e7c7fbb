"""Indexes in the order of each dataset page sort, (sort value, accession), so a page is an index
range scan instead of sorting every readable dataset: the 100-dataset page by update time took
~48 ms on 20,000 datasets, ~1 ms with its index. They replace (status, updated_at) and (title),
whose orders did not break ties by accession.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 07:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_datasets_status_updated_at", table_name="datasets")
    op.drop_index("ix_datasets_title", table_name="datasets")
    op.create_index("ix_datasets_updated_at_accession", "datasets", ["updated_at", "accession"])
    op.create_index("ix_datasets_title_accession", "datasets", ["title", "accession"])
    op.create_index(
        "ix_datasets_participants_accession",
        "datasets",
        [sa.text("coalesce(participant_count, -1)"), "accession"],
    )


def downgrade() -> None:
    op.drop_index("ix_datasets_participants_accession", table_name="datasets")
    op.drop_index("ix_datasets_title_accession", table_name="datasets")
    op.drop_index("ix_datasets_updated_at_accession", table_name="datasets")
    op.create_index("ix_datasets_title", "datasets", ["title"])
    op.create_index("ix_datasets_status_updated_at", "datasets", ["status", "updated_at"])
