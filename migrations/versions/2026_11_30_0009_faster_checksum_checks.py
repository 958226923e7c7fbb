"""Checksum format check without bounded regex repetition: same accepted values, far cheaper per
row (as 0003 did for DRS ids; an ingest writes two checksums per file).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_checksums_checksum_format"
HEX_LENGTHS = {"sha-256": 64, "sha-512": 128, "sha1": 40, "md5": 32, "crc32c": 8, "trunc512": 48}
HEX = "checksum ~ '^[0-9a-f]+$' AND length(checksum) = {length}"
ETAG = (
    f"({HEX.format(length=32)}) OR (checksum ~ '^[0-9a-f]+-[0-9]+$'"
    " AND strpos(checksum, '-') = 33 AND length(checksum) <= 38)"
)
BOUNDED = {
    **{kind: f"checksum ~ '^[0-9a-f]{{{length}}}$'" for kind, length in HEX_LENGTHS.items()},
    "etag": "checksum ~ '^[0-9a-f]{32}(-[0-9]{1,5})?$'",
}
UNBOUNDED = {
    **{kind: HEX.format(length=length) for kind, length in HEX_LENGTHS.items()},
    "etag": ETAG,
}


def _replace(conditions: dict[str, str]) -> None:
    name = op.f(CONSTRAINT)
    op.drop_constraint(name, "checksums", type_="check")
    op.create_check_constraint(
        name,
        "checksums",
        " AND ".join(
            f"(type <> '{kind}' OR {condition})" for kind, condition in conditions.items()
        ),
    )


def upgrade() -> None:
    _replace(UNBOUNDED)


def downgrade() -> None:
    _replace(BOUNDED)
