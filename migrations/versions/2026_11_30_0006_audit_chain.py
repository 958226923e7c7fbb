"""The audit chain: each event gets its position, its predecessor's hash and its own, set once by
the sealer; the append-only trigger lets exactly that update through. Existing events are
chained here, in id order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from catalog import audit_chain

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEAL_ONLY = """
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The one update allowed: sealing, which sets seq, prev_hash and hash where all were null
    -- (ck_audit_events_sealed_at_once) and changes nothing else.
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
        AND ROW(OLD.id, OLD.occurred_at, OLD.actor, OLD.action, OLD.object_type, OLD.object_id,
                OLD.summary)
            IS NOT DISTINCT FROM
            ROW(NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.object_type, NEW.object_id,
                NEW.summary)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.add_column(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger(),
            nullable=True,
            comment="Position in the audit chain, from 1; null until sealed.",
        ),
    )
    op.add_column(
        "audit_events",
        sa.Column(
            "prev_hash",
            sa.LargeBinary(),
            nullable=True,
            comment="SHA-256 of the previous event in the chain (32 zero bytes for 1).",
        ),
    )
    op.add_column(
        "audit_events",
        sa.Column(
            "hash",
            sa.LargeBinary(),
            nullable=True,
            comment="SHA-256 of this event's canonical form, prev_hash included.",
        ),
    )
    op.create_check_constraint(
        op.f("ck_audit_events_sealed_at_once"),
        "audit_events",
        "(seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_audit_events_seal_shape"),
        "audit_events",
        "seq > 0 AND octet_length(hash) = 32 AND octet_length(prev_hash) = 32",
    )
    op.create_index("uq_audit_events_seq", "audit_events", ["seq"], unique=True)
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["id"],
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.execute(SEAL_ONLY)
    with Session(bind=op.get_bind()) as session:
        audit_chain.seal(session)


def downgrade() -> None:
    op.execute(APPEND_ONLY)
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    op.drop_index("uq_audit_events_seq", table_name="audit_events")
    op.drop_constraint(op.f("ck_audit_events_seal_shape"), "audit_events", type_="check")
    op.drop_constraint(op.f("ck_audit_events_sealed_at_once"), "audit_events", type_="check")
    op.drop_column("audit_events", "hash")
    op.drop_column("audit_events", "prev_hash")
    op.drop_column("audit_events", "seq")
