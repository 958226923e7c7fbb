"""Access grants: time-limited permission for a user to read a controlled dataset.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 22:53:32.708035
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)",
            name=op.f("ck_access_grants_revocation_has_reason"),
        ),
        sa.CheckConstraint(
            "expires_at > starts_at", name=op.f("ck_access_grants_expires_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_access_grants_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_access_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index(
        op.f("ix_access_grants_dataset_id"), "access_grants", ["dataset_id"], unique=False
    )
    op.create_index(
        "ix_access_grants_user_dataset",
        "access_grants",
        ["user_id", "dataset_id", "expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_access_grants_user_dataset", table_name="access_grants")
    op.drop_index(op.f("ix_access_grants_dataset_id"), table_name="access_grants")
    op.drop_table("access_grants")
