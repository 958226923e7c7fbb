"""The catalog: organizations, people and roles, committees, ontology terms, datasets, DRS
objects, and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 22:10:44.379594
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_AUDIT_CHANGES = """
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE dataset_accession_seq")
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column(
            "summary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_object", "audit_events", ["object_type", "object_id"], unique=False
    )
    op.create_table(
        "ontology_terms",
        sa.Column("curie", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("ontology", sa.String(length=32), nullable=False),
        sa.Column(
            "code",
            sa.String(length=16),
            nullable=True,
            comment="Short code where the ontology has one (DUO: GRU, HMB, DS, ...).",
        ),
        sa.Column(
            "synonyms", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.CheckConstraint(
            "curie ~ '^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.-]+$'",
            name=op.f("ck_ontology_terms_curie_format"),
        ),
        sa.PrimaryKeyConstraint("curie", name=op.f("pk_ontology_terms")),
    )
    op.create_index(
        op.f("ix_ontology_terms_ontology"), "ontology_terms", ["ontology"], unique=False
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("steward", "funder", "institution", name="organization_kind"),
            nullable=False,
        ),
        sa.Column("ror_id", sa.String(length=9), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ror_id ~ '^0[a-z0-9]{6}[0-9]{2}$'", name=op.f("ck_organizations_ror_format")
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_organizations_slug_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("ror_id", name=op.f("uq_organizations_ror_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_users_issuer_subject")),
    )
    op.create_table(
        "committees",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_committees_slug_format")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_committees_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committees")),
        sa.UniqueConstraint("slug", name=op.f("uq_committees_slug")),
    )
    op.create_index(
        op.f("ix_committees_organization_id"), "committees", ["organization_id"], unique=False
    )
    op.create_table(
        "ontology_term_parents",
        sa.Column("curie", sa.String(length=64), nullable=False),
        sa.Column("parent_curie", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["curie"],
            ["ontology_terms.curie"],
            name=op.f("fk_ontology_term_parents_curie_ontology_terms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_curie"],
            ["ontology_terms.curie"],
            name=op.f("fk_ontology_term_parents_parent_curie_ontology_terms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("curie", "parent_curie", name=op.f("pk_ontology_term_parents")),
    )
    op.create_index(
        op.f("ix_ontology_term_parents_parent_curie"),
        "ontology_term_parents",
        ["parent_curie"],
        unique=False,
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "accession",
            sa.String(length=32),
            server_default=sa.text(
                "'ATR-DS-' || lpad(nextval('dataset_accession_seq')::text, 6, '0')"
            ),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "keywords", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "data_types",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "file_formats",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "species", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("participant_count", sa.Integer(), nullable=True),
        sa.Column("sample_count", sa.Integer(), nullable=True),
        sa.Column(
            "access_level",
            sa.Enum("open", "registered", "controlled", name="access_level"),
            nullable=False,
        ),
        sa.Column("steward_id", sa.UUID(), nullable=False),
        sa.Column("committee_id", sa.UUID(), nullable=True),
        sa.Column("license", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "retired", name="dataset_status"),
            server_default="draft",
            nullable=False,
        ),
        sa.Column(
            "version",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Latest published version; 0 while a draft.",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'draft') = (version = 0)", name=op.f("ck_datasets_published_has_version")
        ),
        sa.CheckConstraint(
            "(status = 'retired') = (retired_at IS NOT NULL)",
            name=op.f("ck_datasets_retired_has_timestamp"),
        ),
        sa.CheckConstraint(
            "accession ~ '^ATR-DS-[0-9]{6,}$'", name=op.f("ck_datasets_accession_format")
        ),
        sa.CheckConstraint(
            "length(title) BETWEEN 1 AND 500", name=op.f("ck_datasets_title_length")
        ),
        sa.CheckConstraint(
            "participant_count >= 0", name=op.f("ck_datasets_participant_count_non_negative")
        ),
        sa.CheckConstraint("sample_count >= 0", name=op.f("ck_datasets_sample_count_non_negative")),
        sa.CheckConstraint("version >= 0", name=op.f("ck_datasets_version_non_negative")),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["committees.id"], name=op.f("fk_datasets_committee_id_committees")
        ),
        sa.ForeignKeyConstraint(
            ["steward_id"], ["organizations.id"], name=op.f("fk_datasets_steward_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("accession", name=op.f("uq_datasets_accession")),
    )
    op.create_index(op.f("ix_datasets_committee_id"), "datasets", ["committee_id"], unique=False)
    op.create_index(
        "ix_datasets_status_updated_at", "datasets", ["status", "updated_at"], unique=False
    )
    op.create_index(op.f("ix_datasets_steward_id"), "datasets", ["steward_id"], unique=False)
    op.create_index("ix_datasets_title", "datasets", ["title"], unique=False)
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "steward",
                "committee_member",
                "committee_chair",
                "funder_auditor",
                name="role_name",
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.UUID(), nullable=True),
        sa.Column("committee_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(role = 'admin' AND organization_id IS NULL AND committee_id IS NULL) OR (role IN ('steward', 'funder_auditor')     AND organization_id IS NOT NULL AND committee_id IS NULL) OR (role IN ('committee_member', 'committee_chair')     AND committee_id IS NOT NULL AND organization_id IS NULL)",
            name=op.f("ck_role_assignments_scope_matches_role"),
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_role_assignments_committee_id_committees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_role_assignments_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_role_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignments")),
        sa.UniqueConstraint(
            "user_id",
            "role",
            "organization_id",
            "committee_id",
            name=op.f("uq_role_assignments_user_id_role_organization_id_committee_id"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("ix_role_assignments_committee_id"), "role_assignments", ["committee_id"], unique=False
    )
    op.create_index(
        op.f("ix_role_assignments_organization_id"),
        "role_assignments",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "dataset_data_use",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("duo_id", sa.String(length=64), nullable=False),
        sa.Column("qualifier", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "qualifier ~ '^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.-]+$'",
            name=op.f("ck_dataset_data_use_qualifier_format"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_data_use_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["duo_id"],
            ["ontology_terms.curie"],
            name=op.f("fk_dataset_data_use_duo_id_ontology_terms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_data_use")),
        sa.UniqueConstraint(
            "dataset_id",
            "duo_id",
            "qualifier",
            name=op.f("uq_dataset_data_use_dataset_id_duo_id_qualifier"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("ix_dataset_data_use_duo_id"), "dataset_data_use", ["duo_id"], unique=False
    )
    op.create_table(
        "dataset_funders",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("funder_id", sa.UUID(), nullable=False),
        sa.Column("award_number", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_funders_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["funder_id"],
            ["organizations.id"],
            name=op.f("fk_dataset_funders_funder_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_funders")),
        sa.UniqueConstraint(
            "dataset_id",
            "funder_id",
            "award_number",
            name=op.f("uq_dataset_funders_dataset_id_funder_id_award_number"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("ix_dataset_funders_funder_id"), "dataset_funders", ["funder_id"], unique=False
    )
    op.create_table(
        "dataset_terms",
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.Enum("disease", "phenotype", name="term_role"), nullable=False),
        sa.Column("curie", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["curie"], ["ontology_terms.curie"], name=op.f("fk_dataset_terms_curie_ontology_terms")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_terms_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "role", "curie", name=op.f("pk_dataset_terms")),
    )
    op.create_index(op.f("ix_dataset_terms_curie"), "dataset_terms", ["curie"], unique=False)
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", name=op.f("pk_dataset_versions")),
    )
    op.create_table(
        "drs_objects",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_bundle", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_time",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_time",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "id ~ '^[A-Za-z0-9._~-]{1,255}$'", name=op.f("ck_drs_objects_id_format")
        ),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 1024", name=op.f("ck_drs_objects_name_length")
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_drs_objects_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_drs_objects_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drs_objects")),
    )
    op.create_index(
        "ix_drs_objects_dataset_id_id", "drs_objects", ["dataset_id", "id"], unique=False
    )
    op.create_table(
        "publications",
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("scheme", sa.String(length=8), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(scheme = 'doi' AND identifier ~ '^10\\.[0-9]{4,9}/\\S+$') OR (scheme = 'pmid' AND identifier ~ '^[1-9][0-9]{0,9}$')",
            name=op.f("ck_publications_identifier_format"),
        ),
        sa.CheckConstraint("scheme IN ('doi', 'pmid')", name=op.f("ck_publications_scheme_known")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_publications_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "scheme", "identifier", name=op.f("pk_publications")),
    )
    op.create_table(
        "access_methods",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("access_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "access_id ~ '^[A-Za-z0-9._~-]{1,255}$'",
            name=op.f("ck_access_methods_access_id_format"),
        ),
        sa.CheckConstraint(
            "type IN ('s3', 'gs', 'https', 'file', 'ftp', 'gsiftp', 'globus', 'htsget')",
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
        "bundle_members",
        sa.Column("bundle_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("child_id", sa.String(length=255), nullable=False),
        sa.CheckConstraint("bundle_id <> child_id", name=op.f("ck_bundle_members_not_self")),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["drs_objects.id"],
            name=op.f("fk_bundle_members_bundle_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["drs_objects.id"],
            name=op.f("fk_bundle_members_child_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bundle_id", "name", name=op.f("pk_bundle_members")),
        sa.UniqueConstraint(
            "bundle_id", "child_id", name=op.f("uq_bundle_members_bundle_id_child_id")
        ),
    )
    op.create_index(
        op.f("ix_bundle_members_child_id"), "bundle_members", ["child_id"], unique=False
    )
    op.create_table(
        "checksums",
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("checksum", sa.String(length=160), nullable=False),
        sa.CheckConstraint(
            "(type <> 'sha-256' OR checksum ~ '^[0-9a-f]{64}$') AND (type <> 'sha-512' OR checksum ~ '^[0-9a-f]{128}$') AND (type <> 'sha1' OR checksum ~ '^[0-9a-f]{40}$') AND (type <> 'md5' OR checksum ~ '^[0-9a-f]{32}$') AND (type <> 'crc32c' OR checksum ~ '^[0-9a-f]{8}$') AND (type <> 'trunc512' OR checksum ~ '^[0-9a-f]{48}$') AND (type <> 'etag' OR checksum ~ '^[0-9a-f]{32}(-[0-9]{1,5})?$')",
            name=op.f("ck_checksums_checksum_format"),
        ),
        sa.CheckConstraint(
            "type IN ('sha-256', 'sha-512', 'sha1', 'md5', 'crc32c', 'trunc512', 'etag')",
            name=op.f("ck_checksums_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["drs_objects.id"],
            name=op.f("fk_checksums_object_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "type", name=op.f("pk_checksums")),
    )
    op.create_table(
        "drs_aliases",
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.CheckConstraint(
            "length(alias) BETWEEN 1 AND 512", name=op.f("ck_drs_aliases_alias_length")
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["drs_objects.id"],
            name=op.f("fk_drs_aliases_object_id_drs_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_drs_aliases")),
    )
    op.create_index(op.f("ix_drs_aliases_object_id"), "drs_aliases", ["object_id"], unique=False)
    op.execute(REFUSE_AUDIT_CHANGES)
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
        " FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_drs_aliases_object_id"), table_name="drs_aliases")
    op.drop_table("drs_aliases")
    op.drop_table("checksums")
    op.drop_index(op.f("ix_bundle_members_child_id"), table_name="bundle_members")
    op.drop_table("bundle_members")
    op.drop_table("access_methods")
    op.drop_table("publications")
    op.drop_index("ix_drs_objects_dataset_id_id", table_name="drs_objects")
    op.drop_table("drs_objects")
    op.drop_table("dataset_versions")
    op.drop_index(op.f("ix_dataset_terms_curie"), table_name="dataset_terms")
    op.drop_table("dataset_terms")
    op.drop_index(op.f("ix_dataset_funders_funder_id"), table_name="dataset_funders")
    op.drop_table("dataset_funders")
    op.drop_index(op.f("ix_dataset_data_use_duo_id"), table_name="dataset_data_use")
    op.drop_table("dataset_data_use")
    op.drop_index(op.f("ix_role_assignments_organization_id"), table_name="role_assignments")
    op.drop_index(op.f("ix_role_assignments_committee_id"), table_name="role_assignments")
    op.drop_table("role_assignments")
    op.drop_index("ix_datasets_title", table_name="datasets")
    op.drop_index(op.f("ix_datasets_steward_id"), table_name="datasets")
    op.drop_index("ix_datasets_status_updated_at", table_name="datasets")
    op.drop_index(op.f("ix_datasets_committee_id"), table_name="datasets")
    op.drop_table("datasets")
    op.drop_index(op.f("ix_ontology_term_parents_parent_curie"), table_name="ontology_term_parents")
    op.drop_table("ontology_term_parents")
    op.drop_index(op.f("ix_committees_organization_id"), table_name="committees")
    op.drop_table("committees")
    op.drop_table("users")
    op.drop_table("organizations")
    op.drop_index(op.f("ix_ontology_terms_ontology"), table_name="ontology_terms")
    op.drop_table("ontology_terms")
    op.drop_index("ix_audit_events_object", table_name="audit_events")
    op.drop_table("audit_events")
    op.execute("DROP FUNCTION refuse_audit_change()")
    op.execute("DROP SEQUENCE dataset_accession_seq")
    for enum_type in (
        "term_role",
        "dataset_status",
        "access_level",
        "role_name",
        "organization_kind",
    ):
        op.execute(f"DROP TYPE {enum_type}")
