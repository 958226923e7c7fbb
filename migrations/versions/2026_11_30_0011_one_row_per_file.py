"""One row per file: a DRS object's checksums and access methods become columns of its row
(``checksums`` a JSON object of digests by type, ``access_methods`` a two-dimensional text array
of (access id, type, URL, region) rows in access id order), held to the rules their tables had;
the ``checksums`` and ``access_methods`` tables go. An ingest writes one row per file instead of
four, with one foreign-key check instead of three (docs/adr/0006-one-row-per-file.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The checks as they are at this revision (the models build the same text).
HEX_LENGTHS = {"sha-256": 64, "sha-512": 128, "sha1": 40, "md5": 32, "crc32c": 8, "trunc512": 48}
ACCESS_METHOD_TYPES = ("s3", "gs", "https", "file", "ftp", "gsiftp", "globus", "htsget")


def _hex(value: str, length: int) -> str:
    return f"{value} ~ '^[0-9a-f]+$' AND length({value}) = {length}"


def _checksum_format(value: str, kind: str) -> str:
    if kind == "etag":
        return (
            f"({_hex(value, 32)}) OR ({value} ~ '^[0-9a-f]+-[0-9]+$'"
            f" AND strpos({value}, '-') = 33 AND length({value}) <= 38)"
        )
    return _hex(value, HEX_LENGTHS[kind])


def _checksum(kind: str) -> str:
    return f"(checksums ->> '{kind}')"


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CHECKSUM_TYPES = (*HEX_LENGTHS, "etag")
CHECKS = {
    "checksum_type_known": "jsonb_typeof(checksums) = 'object'"
    f" AND (checksums - ARRAY[{_quoted(CHECKSUM_TYPES)}]) = '{{}}'::jsonb",
    "has_checksum": "checksums <> '{}'::jsonb",
    "checksum_format": """NOT (checksums @? '$.* ? (@.type() != "string")') AND """
    + " AND ".join(
        f"({_checksum(kind)} IS NULL OR ({_checksum_format(_checksum(kind), kind)}))"
        for kind in CHECKSUM_TYPES
    ),
    "access_methods_valid": "drs_access_methods_valid(access_methods)",
    "access_method_type_known": (
        f"access_methods[:][2:2] <@ ARRAY[{_quoted(ACCESS_METHOD_TYPES)}]"
    ),
}

FUNCTION = """
CREATE FUNCTION drs_access_methods_valid(methods text[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n integer := array_upper(methods, 1);
BEGIN
    -- None, or rows (access id, type, URL, region) numbered from 1, with a URL, and an access
    -- id that is a DRS id (as ck_drs_objects_id_format) and no other row's. Types are checked
    -- by ck_drs_objects_access_method_type_known.
    IF n IS NULL THEN
        RETURN true;
    END IF;
    IF array_ndims(methods) <> 2 OR array_lower(methods, 1) <> 1
        OR array_lower(methods, 2) <> 1 OR array_upper(methods, 2) <> 4 THEN
        RETURN false;
    END IF;
    FOR i IN 1..n LOOP
        IF methods[i][3] IS NULL
            OR (methods[i][1] ~ '^[A-Za-z0-9._~-]+$' AND length(methods[i][1]) <= 255) IS NOT TRUE
        THEN
            RETURN false;
        END IF;
        FOR j IN 1..i - 1 LOOP
            IF methods[j][1] = methods[i][1] THEN
                RETURN false;
            END IF;
        END LOOP;
    END LOOP;
    RETURN true;
END $$
"""

MOVE_IN = """
UPDATE drs_objects o SET
    checksums = coalesce(
        (SELECT jsonb_object_agg(c.type, c.checksum) FROM checksums c WHERE c.object_id = o.id),
        '{}'),
    access_methods = coalesce(
        (SELECT array_agg(ARRAY[m.access_id, m.type, m.url, m.region]
                          ORDER BY m.access_id COLLATE "C")
         FROM access_methods m WHERE m.object_id = o.id),
        '{}')
"""

MOVE_OUT = [
    """
    INSERT INTO checksums (object_id, type, checksum)
    SELECT o.id, s.key, s.value FROM drs_objects o CROSS JOIN jsonb_each_text(o.checksums) s
    """,
    """
    INSERT INTO access_methods (object_id, access_id, type, url, region)
    SELECT o.id, o.access_methods[i][1], o.access_methods[i][2], o.access_methods[i][3],
           o.access_methods[i][4]
    FROM drs_objects o CROSS JOIN generate_subscripts(o.access_methods, 1) AS i
    """,
]


# Moving the rows rewrites every object: on a large catalog that takes longer than the 60 s
# Atrium's connections allow a statement.
NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"


WITHOUT_CHECKSUM = """
SELECT id FROM drs_objects o WHERE NOT EXISTS (SELECT FROM checksums c WHERE c.object_id = o.id)
ORDER BY id LIMIT 10
"""


def _refuse_objects_without_checksums() -> None:
    """The new constraint requires a checksum that the old tables did not (every writer gave
    one): say which objects lack one, rather than Postgres' bare constraint violation."""
    missing = op.get_bind().execute(sa.text(WITHOUT_CHECKSUM)).scalars().all()
    if missing:
        raise RuntimeError(
            "these DRS objects have no checksum, which revision 0011 requires (first 10): "
            + ", ".join(missing)
            + "; give each one a checksum (or delete it) and upgrade again"
        )


def upgrade() -> None:
    op.execute(NO_STATEMENT_TIMEOUT)
    _refuse_objects_without_checksums()
    op.execute(FUNCTION)
    op.add_column(
        "drs_objects",
        sa.Column(
            "checksums",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Hex digests by checksum type: at least one.",
        ),
    )
    op.add_column(
        "drs_objects",
        sa.Column(
            "access_methods",
            postgresql.ARRAY(sa.Text(), dimensions=2),
            server_default=sa.text("'{}'"),
            nullable=False,
            comment="Rows of (access id, type, URL, region), in access id order.",
        ),
    )
    op.execute(MOVE_IN)
    op.alter_column("drs_objects", "checksums", nullable=False)
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_drs_objects_{name}"), "drs_objects", condition)
    op.drop_table("checksums")
    op.drop_table("access_methods")


def downgrade() -> None:
    op.execute(NO_STATEMENT_TIMEOUT)
    op.create_table(
        "access_methods",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("access_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "access_id ~ '^[A-Za-z0-9._~-]+$' AND length(access_id) <= 255",
            name=op.f("ck_access_methods_access_id_format"),
        ),
        sa.CheckConstraint(
            f"type IN ({_quoted(ACCESS_METHOD_TYPES)})",
            name=op.f("ck_access_methods_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["drs_objects.id"],
            name=op.f("fk_access_methods_object_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "access_id", name=op.f("pk_access_methods")),
    )
    op.create_table(
        "checksums",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("checksum", sa.String(length=160), nullable=False),
        sa.CheckConstraint(
            " AND ".join(
                f"(type <> '{kind}' OR {_checksum_format('checksum', kind)})"
                for kind in CHECKSUM_TYPES
            ),
            name=op.f("ck_checksums_checksum_format"),
        ),
        sa.CheckConstraint(
            f"type IN ({_quoted(CHECKSUM_TYPES)})", name=op.f("ck_checksums_type_known")
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["drs_objects.id"],
            name=op.f("fk_checksums_object_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "type", name=op.f("pk_checksums")),
    )
    for statement in MOVE_OUT:
        op.execute(statement)
    # Only now: moving rows back changes nothing a reader sees, and a touch would leave a
    # deferred trigger pending, which 0008's downgrade in the same transaction cannot survive.
    for table in ("access_methods", "checksums"):
        op.execute(
            f"CREATE TRIGGER {table}_catalog_touched"
            f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION catalog_touched()"
        )
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_drs_objects_{name}"), "drs_objects", type_="check")
    op.drop_column("drs_objects", "access_methods")
    op.drop_column("drs_objects", "checksums")
    op.execute("DROP FUNCTION drs_access_methods_valid(text[])")
