"""Access-request workflow: committee rules, dataset terms of use, requests, per-committee
reviews, votes, and the request that issued a grant.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:47:19.001786
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("requester_id", sa.UUID(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "under_review",
                "changes_requested",
                "resubmitted",
                "approved",
                "rejected",
                "withdrawn",
                name="request_state",
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("project_title", sa.Text(), nullable=False),
        sa.Column("lay_summary", sa.Text(), nullable=False),
        sa.Column("research_use", sa.Text(), nullable=False),
        sa.Column("purposes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "diseases", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("commercial", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("sensitive", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column(
            "collaborators",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("institution", sa.Text(), nullable=False),
        sa.Column("renewal_of_id", sa.UUID(), nullable=True),
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
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "('DS' = ANY(purposes)) = (cardinality(diseases) > 0)",
            name=op.f("ck_access_requests_diseases_iff_ds"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'withdrawn') OR submitted_at IS NOT NULL",
            name=op.f("ck_access_requests_submitted_has_time"),
        ),
        sa.CheckConstraint(
            "(state IN ('approved', 'rejected')) = (decided_at IS NOT NULL)",
            name=op.f("ck_access_requests_decided_has_time"),
        ),
        sa.CheckConstraint(
            "purposes <@ ARRAY['GRU', 'HMB', 'DS', 'POA', 'MDS']::text[] AND cardinality(purposes) > 0",
            name=op.f("ck_access_requests_purposes_known"),
        ),
        sa.CheckConstraint("duration_days > 0", name=op.f("ck_access_requests_duration_positive")),
        sa.CheckConstraint(
            "length(project_title) BETWEEN 1 AND 500", name=op.f("ck_access_requests_title_length")
        ),
        sa.ForeignKeyConstraint(
            ["renewal_of_id"],
            ["access_requests.id"],
            name=op.f("fk_access_requests_renewal_of_id_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_access_requests_requester_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index(
        op.f("ix_access_requests_renewal_of_id"), "access_requests", ["renewal_of_id"], unique=False
    )
    op.create_index(
        "ix_access_requests_requester_created",
        "access_requests",
        ["requester_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "committee_rules",
        sa.Column("committee_id", sa.UUID(), nullable=False),
        sa.Column(
            "decision_rule",
            sa.Enum("chair", "votes", "majority", name="decision_rule"),
            nullable=False,
        ),
        sa.Column("required_votes", sa.Integer(), nullable=True),
        sa.Column("sla_days", sa.Integer(), nullable=False),
        sa.Column("max_grant_days", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(decision_rule = 'votes') = (required_votes IS NOT NULL)",
            name=op.f("ck_committee_rules_votes_need_count"),
        ),
        sa.CheckConstraint(
            "max_grant_days > 0", name=op.f("ck_committee_rules_max_grant_days_positive")
        ),
        sa.CheckConstraint(
            "required_votes > 0", name=op.f("ck_committee_rules_required_votes_positive")
        ),
        sa.CheckConstraint("sla_days > 0", name=op.f("ck_committee_rules_sla_days_positive")),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_committee_rules_committee_id_committees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("committee_id", name=op.f("pk_committee_rules")),
    )
    op.create_table(
        "request_reviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("committee_id", sa.UUID(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "under_review",
                "changes_requested",
                "resubmitted",
                "approved",
                "rejected",
                "withdrawn",
                name="request_state",
            ),
            nullable=False,
        ),
        sa.Column(
            "due_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Submission (or resubmission) plus the committee's SLA.",
        ),
        sa.Column("changes_comment", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column(
            "algorithm_outcome",
            sa.Text(),
            nullable=True,
            comment="The automatic DUO matcher's outcome, once it is wired in.",
        ),
        sa.Column("algorithm_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("committee_agreed_with_algorithm", sa.Boolean(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(state IN ('approved', 'rejected')) = (decided_at IS NOT NULL)",
            name=op.f("ck_request_reviews_decided_has_time"),
        ),
        sa.CheckConstraint("state <> 'draft'", name=op.f("ck_request_reviews_never_draft")),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["committees.id"],
            name=op.f("fk_request_reviews_committee_id_committees"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_reviews_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_reviews")),
        sa.UniqueConstraint(
            "request_id", "committee_id", name=op.f("uq_request_reviews_request_id_committee_id")
        ),
    )
    op.create_index(
        op.f("ix_request_reviews_committee_id"), "request_reviews", ["committee_id"], unique=False
    )
    op.create_table(
        "access_request_datasets",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("accepted_terms_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "accepted_terms_version > 0",
            name=op.f("ck_access_request_datasets_terms_version_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_access_request_datasets_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_request_datasets_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "dataset_id", name=op.f("pk_access_request_datasets")
        ),
    )
    op.create_index(
        op.f("ix_access_request_datasets_dataset_id"),
        "access_request_datasets",
        ["dataset_id"],
        unique=False,
    )
    op.create_table(
        "dataset_terms_of_use",
        sa.Column("dataset_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("length(text) > 0", name=op.f("ck_dataset_terms_of_use_text_not_empty")),
        sa.CheckConstraint("version > 0", name=op.f("ck_dataset_terms_of_use_version_positive")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_terms_of_use_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version", name=op.f("pk_dataset_terms_of_use")),
    )
    op.create_table(
        "review_votes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("review_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("choice", sa.Enum("approve", "reject", name="vote_choice"), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "cast_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(voided_at IS NULL) = (voided_reason IS NULL)",
            name=op.f("ck_review_votes_void_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["request_reviews.id"],
            name=op.f("fk_review_votes_review_id_request_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_review_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_votes")),
    )
    op.create_index(op.f("ix_review_votes_review_id"), "review_votes", ["review_id"], unique=False)
    op.create_index(
        "uq_review_votes_standing",
        "review_votes",
        ["review_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("voided_at IS NULL"),
    )
    op.add_column(
        "access_grants",
        sa.Column(
            "request_id",
            sa.UUID(),
            nullable=True,
            comment="The approved request that issued the grant; null for direct grants.",
        ),
    )
    op.create_unique_constraint(
        op.f("uq_access_grants_request_id_user_id_dataset_id"),
        "access_grants",
        ["request_id", "user_id", "dataset_id"],
    )
    op.create_foreign_key(
        op.f("fk_access_grants_request_id_access_requests"),
        "access_grants",
        "access_requests",
        ["request_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_access_grants_request_id_access_requests"), "access_grants", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("uq_access_grants_request_id_user_id_dataset_id"), "access_grants", type_="unique"
    )
    op.drop_column("access_grants", "request_id")
    op.drop_index(
        "uq_review_votes_standing",
        table_name="review_votes",
        postgresql_where=sa.text("voided_at IS NULL"),
    )
    op.drop_index(op.f("ix_review_votes_review_id"), table_name="review_votes")
    op.drop_table("review_votes")
    op.drop_table("dataset_terms_of_use")
    op.drop_index(
        op.f("ix_access_request_datasets_dataset_id"), table_name="access_request_datasets"
    )
    op.drop_table("access_request_datasets")
    op.drop_index(op.f("ix_request_reviews_committee_id"), table_name="request_reviews")
    op.drop_table("request_reviews")
    op.drop_table("committee_rules")
    op.drop_index("ix_access_requests_requester_created", table_name="access_requests")
    op.drop_index(op.f("ix_access_requests_renewal_of_id"), table_name="access_requests")
    op.drop_table("access_requests")
    for enum_type in ("vote_choice", "decision_rule", "request_state"):
        sa.Enum(name=enum_type).drop(op.get_bind(), checkfirst=False)
