"""DRS id checks without bounded regex repetition: same accepted values, far cheaper per row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    ("drs_objects", "id_format"): "id",
    ("access_methods", "access_id_format"): "access_id",
}


def _replace(table: str, name: str, condition: str) -> None:
    constraint = op.f(f"ck_{table}_{name}")
    op.drop_constraint(constraint, table, type_="check")
    op.create_check_constraint(constraint, table, condition)


def upgrade() -> None:
    for (table, name), column in CHECKS.items():
        _replace(table, name, f"{column} ~ '^[A-Za-z0-9._~-]+$' AND length({column}) <= 255")


def downgrade() -> None:
    for (table, name), column in CHECKS.items():
        _replace(table, name, f"{column} ~ '^[A-Za-z0-9._~-]{{1,255}}$'")
