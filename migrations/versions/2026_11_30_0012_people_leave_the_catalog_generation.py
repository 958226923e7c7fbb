"""Users and role assignments no longer move the catalog generation: no anonymous catalog
answer (the only ones cached by generation) reads them, and every first sign-in of a new user
inserted a row and so emptied the anonymous response cache of every server.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "role_assignments")


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_catalog_touched ON {table}")


def downgrade() -> None:
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_catalog_touched"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION catalog_touched()"
        )
