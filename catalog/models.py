"""SQLAlchemy models of the catalog: organizations and people, committees, ontology terms,
datasets and their files (DRS objects).

Integrity lives in the database (unique keys, foreign keys, check constraints), not only in
Python, so ingest paths that bypass the ORM (COPY) are held to the same rules. Relationships
are ``lazy="raise"``: every read loads what it needs explicitly.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.db import Base

DRS_ID_PATTERN = r"^[A-Za-z0-9._~-]{1,255}$"
# The same rule for Postgres: its regex engine is slow on bounded repetition ({1,255} costs
# ~57 µs a row on COPY), so the length is checked separately (under 1 µs).
DRS_ID_CHECK = "{column} ~ '^[A-Za-z0-9._~-]+$' AND length({column}) <= 255"
ACCESSION_PATTERN = r"^ATR-DS-[0-9]{6,}$"
CURIE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.-]+$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
ROR_PATTERN = r"^0[a-z0-9]{6}[0-9]{2}$"

CHECKSUM_FORMATS: dict[str, str] = {
    "sha-256": r"^[0-9a-f]{64}$",
    "sha-512": r"^[0-9a-f]{128}$",
    "sha1": r"^[0-9a-f]{40}$",
    "md5": r"^[0-9a-f]{32}$",
    "crc32c": r"^[0-9a-f]{8}$",
    "trunc512": r"^[0-9a-f]{48}$",
    "etag": r"^[0-9a-f]{32}(-[0-9]{1,5})?$",
}


def _hex(length: int) -> str:
    return "{value} ~ '^[0-9a-f]+$' AND length({value}) = " + str(length)


# CHECKSUM_FORMATS for Postgres, accepting exactly the same values, as conditions on ``{value}``
# (the checksum's text): as for DRS_ID_CHECK, bounded repetition ({64}) costs ~11 µs a row where
# an unbounded regex and a length test cost ~1 µs, and an ingest writes two checksums per file.
CHECKSUM_CHECKS: dict[str, str] = {
    "sha-256": _hex(64),
    "sha-512": _hex(128),
    "sha1": _hex(40),
    "md5": _hex(32),
    "crc32c": _hex(8),
    "trunc512": _hex(48),
    # 32 hex digits, optionally a dash and 1 to 5 digits (a multipart upload's part count)
    "etag": f"({_hex(32)}) OR ({{value}} ~ '^[0-9a-f]+-[0-9]+$'"
    " AND strpos({value}, '-') = 33 AND length({value}) <= 38)",
}
ACCESS_METHOD_TYPES = ("s3", "gs", "https", "file", "ftp", "gsiftp", "globus", "htsget")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class OrganizationKind(enum.StrEnum):
    STEWARD = "steward"
    FUNDER = "funder"
    INSTITUTION = "institution"


class RoleName(enum.StrEnum):
    ADMIN = "admin"
    STEWARD = "steward"
    COMMITTEE_MEMBER = "committee_member"
    COMMITTEE_CHAIR = "committee_chair"
    FUNDER_AUDITOR = "funder_auditor"


class AccessLevel(enum.StrEnum):
    OPEN = "open"
    REGISTERED = "registered"
    CONTROLLED = "controlled"


class DatasetStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class TermRole(enum.StrEnum):
    DISEASE = "disease"
    PHENOTYPE = "phenotype"


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint(f"ror_id ~ '{ROR_PATTERN}'", name="ror_format"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[OrganizationKind] = mapped_column(_enum(OrganizationKind, "organization_kind"))
    ror_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    created_at: Mapped[datetime] = _now()


class User(Base):
    """A person known by an identity provider's (issuer, subject) pair."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    issuer: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Committee(Base):
    """A data access committee. It exists in the catalog so datasets can name their DAC before
    the governance workflow adds members' rules, requests and decisions."""

    __tablename__ = "committees"
    __table_args__ = (CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class RoleAssignment(Base):
    """A role a user holds, scoped to an organization (steward, funder auditor), a committee
    (member, chair) or to nothing (admin); the check constraint enforces the scoping."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        CheckConstraint(
            "(role = 'admin' AND organization_id IS NULL AND committee_id IS NULL)"
            " OR (role IN ('steward', 'funder_auditor')"
            "     AND organization_id IS NOT NULL AND committee_id IS NULL)"
            " OR (role IN ('committee_member', 'committee_chair')"
            "     AND committee_id IS NOT NULL AND organization_id IS NULL)",
            name="scope_matches_role",
        ),
        UniqueConstraint(
            "user_id", "role", "organization_id", "committee_id", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[RoleName] = mapped_column(_enum(RoleName, "role_name"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    committee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("committees.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _now()


class OntologyTerm(Base):
    """A term of MONDO, HP, DUO, NCBITaxon or EDAM that datasets refer to by CURIE."""

    __tablename__ = "ontology_terms"
    __table_args__ = (CheckConstraint(f"curie ~ '{CURIE_PATTERN}'", name="curie_format"),)

    curie: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    ontology: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str | None] = mapped_column(
        String(16), comment="Short code where the ontology has one (DUO: GRU, HMB, DS, ...)."
    )
    synonyms: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'"), default=list
    )


class OntologyTermParent(Base):
    __tablename__ = "ontology_term_parents"

    curie: Mapped[str] = mapped_column(
        ForeignKey("ontology_terms.curie", ondelete="CASCADE"), primary_key=True
    )
    parent_curie: Mapped[str] = mapped_column(
        ForeignKey("ontology_terms.curie", ondelete="CASCADE"), primary_key=True, index=True
    )


class CatalogGeneration(Base):
    """The one row counting committed catalog changes (``catalog.generation``)."""

    __tablename__ = "catalog_generation"
    __table_args__ = (CheckConstraint("id", name="single_row"),)

    id: Mapped[bool] = mapped_column(primary_key=True, server_default=text("true"))
    generation: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class CatalogTouch(Base):
    """A transaction that changed the catalog and has not committed: its row carries the
    deferred trigger that raises the generation at commit, and is deleted by it."""

    __tablename__ = "catalog_touches"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


accession_sequence = Sequence("dataset_accession_seq", metadata=Base.metadata)


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (
        CheckConstraint(f"accession ~ '{ACCESSION_PATTERN}'", name="accession_format"),
        CheckConstraint("participant_count >= 0", name="participant_count_non_negative"),
        CheckConstraint("sample_count >= 0", name="sample_count_non_negative"),
        CheckConstraint("version >= 0", name="version_non_negative"),
        CheckConstraint("length(title) BETWEEN 1 AND 500", name="title_length"),
        CheckConstraint(
            "(status = 'retired') = (retired_at IS NOT NULL)", name="retired_has_timestamp"
        ),
        CheckConstraint("(status = 'draft') = (version = 0)", name="published_has_version"),
        # One per dataset page order (repository.SORT_COLUMNS), ties broken by accession.
        Index("ix_datasets_updated_at_accession", "updated_at", "accession"),
        Index("ix_datasets_title_accession", "title", "accession"),
        Index(
            "ix_datasets_participants_accession",
            text("coalesce(participant_count, -1)"),
            "accession",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    accession: Mapped[str] = mapped_column(
        String(32),
        unique=True,
        server_default=text("'ATR-DS-' || lpad(nextval('dataset_accession_seq')::text, 6, '0')"),
    )
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, server_default="")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    data_types: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    file_formats: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    species: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    participant_count: Mapped[int | None] = mapped_column(Integer)
    sample_count: Mapped[int | None] = mapped_column(Integer)
    access_level: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel, "access_level"))
    steward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    committee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("committees.id"), index=True)
    license: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DatasetStatus] = mapped_column(
        _enum(DatasetStatus, "dataset_status"), server_default="draft"
    )
    version: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Latest published version; 0 while a draft."
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_reason: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(
        BigInteger,
        server_default="1",
        server_onupdate=FetchedValue(),
        comment="Raised by a trigger on every update; the search index's external version.",
    )

    terms: Mapped[list[DatasetTerm]] = relationship(lazy="raise", cascade="all, delete-orphan")
    data_use: Mapped[list[DatasetDataUse]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    funders: Mapped[list[DatasetFunder]] = relationship(lazy="raise", cascade="all, delete-orphan")
    publications: Mapped[list[Publication]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )


class DatasetTerm(Base):
    """A disease or phenotype a dataset is about."""

    __tablename__ = "dataset_terms"

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[TermRole] = mapped_column(_enum(TermRole, "term_role"), primary_key=True)
    curie: Mapped[str] = mapped_column(
        ForeignKey("ontology_terms.curie"), primary_key=True, index=True
    )


class DatasetDataUse(Base):
    """One DUO term of a dataset's data use conditions: the permission (GRU, HMB, DS, POA, NRES)
    or a modifier (NPU, IRB, ...). ``qualifier`` carries the CURIE a term is restricted to, such
    as the MONDO disease of DS or the GAZ region of GS."""

    __tablename__ = "dataset_data_use"
    __table_args__ = (
        CheckConstraint(f"qualifier ~ '{CURIE_PATTERN}'", name="qualifier_format"),
        UniqueConstraint("dataset_id", "duo_id", "qualifier", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    duo_id: Mapped[str] = mapped_column(ForeignKey("ontology_terms.curie"), index=True)
    qualifier: Mapped[str | None] = mapped_column(String(64))


class DatasetFunder(Base):
    __tablename__ = "dataset_funders"
    __table_args__ = (
        UniqueConstraint(
            "dataset_id", "funder_id", "award_number", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    funder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    award_number: Mapped[str | None] = mapped_column(Text)


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        CheckConstraint("scheme IN ('doi', 'pmid')", name="scheme_known"),
        CheckConstraint(
            "(scheme = 'doi' AND identifier ~ '^10\\.[0-9]{4,9}/\\S+$')"
            " OR (scheme = 'pmid' AND identifier ~ '^[1-9][0-9]{0,9}$')",
            name="identifier_format",
        ),
    )

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(8), primary_key=True)
    identifier: Mapped[str] = mapped_column(Text, primary_key=True)


class DatasetVersion(Base):
    """The dataset's metadata as it stood when a version was published."""

    __tablename__ = "dataset_versions"

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    published_at: Mapped[datetime] = _now()
    published_by: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)


def _checksum(kind: str) -> str:
    return f"(checksums ->> '{kind}')"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class DrsObject(Base):
    """A file or a bundle, addressable as a GA4GH DRS object by its opaque id.

    Its checksums and access methods are columns of its row, so that a file is one row to
    write (an ingest writes a million) and one to read: ``checksums`` is a JSON object of hex
    digests by checksum type, ``access_methods`` a two-dimensional text array of rows (access
    id, type, URL, region) in access id order. The constraints hold them to the rules their own
    tables had (docs/adr/0006-one-row-per-file.md); the function one of them calls is migration
    0011's."""

    __tablename__ = "drs_objects"
    __table_args__ = (
        CheckConstraint(DRS_ID_CHECK.format(column="id"), name="id_format"),
        CheckConstraint("size >= 0", name="size_non_negative"),
        CheckConstraint("length(name) BETWEEN 1 AND 1024", name="name_length"),
        CheckConstraint(
            "jsonb_typeof(checksums) = 'object'"
            f" AND (checksums - ARRAY[{_quoted(CHECKSUM_FORMATS)}]) = '{{}}'::jsonb",
            name="checksum_type_known",
        ),
        CheckConstraint("checksums <> '{}'::jsonb", name="has_checksum"),
        CheckConstraint(
            """NOT (checksums @? '$.* ? (@.type() != "string")') AND """
            + " AND ".join(
                f"({_checksum(kind)} IS NULL OR ({condition.format(value=_checksum(kind))}))"
                for kind, condition in CHECKSUM_CHECKS.items()
            ),
            name="checksum_format",
        ),
        CheckConstraint("drs_access_methods_valid(access_methods)", name="access_methods_valid"),
        CheckConstraint(
            f"access_methods[:][2:2] <@ ARRAY[{_quoted(ACCESS_METHOD_TYPES)}]",
            name="access_method_type_known",
        ),
        Index("ix_drs_objects_dataset_id_id", "dataset_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    is_bundle: Mapped[bool] = mapped_column(server_default="false")
    checksums: Mapped[dict[str, str]] = mapped_column(
        JSONB, comment="Hex digests by checksum type: at least one."
    )
    access_methods: Mapped[list[list[str | None]]] = mapped_column(
        ARRAY(Text, dimensions=2),
        server_default=text("'{}'"),
        comment="Rows of (access id, type, URL, region), in access id order.",
    )
    created_time: Mapped[datetime] = _now()
    updated_time: Mapped[datetime] = _now()


class DrsAlias(Base):
    """Another name of a DRS object, such as the GUID a Gen3 commons gave it."""

    __tablename__ = "drs_aliases"
    __table_args__ = (CheckConstraint("length(alias) BETWEEN 1 AND 512", name="alias_length"),)

    alias: Mapped[str] = mapped_column(Text, primary_key=True)
    object_id: Mapped[str] = mapped_column(
        ForeignKey("drs_objects.id", ondelete="CASCADE"), index=True
    )


class BundleMember(Base):
    __tablename__ = "bundle_members"
    __table_args__ = (
        CheckConstraint("bundle_id <> child_id", name="not_self"),
        UniqueConstraint("bundle_id", "child_id"),
    )

    bundle_id: Mapped[str] = mapped_column(
        ForeignKey("drs_objects.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    child_id: Mapped[str] = mapped_column(
        ForeignKey("drs_objects.id", ondelete="CASCADE"), index=True
    )


class AuditEvent(Base):
    """Append-only record of writes that matter: who did what to which object, and when.

    Writers insert events unsealed; ``catalog.audit_chain.seal`` later sets ``seq``,
    ``prev_hash`` and ``hash`` once (docs/adr/0004-audit-chain.md). The database refuses every
    other UPDATE, and every DELETE.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("uq_audit_events_seq", "seq", unique=True),
        Index("ix_audit_events_unsealed", "id", postgresql_where=text("seq IS NULL")),
        CheckConstraint(
            "(seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)",
            name="sealed_at_once",
        ),
        CheckConstraint(
            "seq > 0 AND octet_length(hash) = 32 AND octet_length(prev_hash) = 32",
            name="seal_shape",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = _now()
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
    seq: Mapped[int | None] = mapped_column(
        BigInteger, comment="Position in the audit chain, from 1; null until sealed."
    )
    prev_hash: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="SHA-256 of the previous event in the chain (32 zero bytes for 1)."
    )
    hash: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="SHA-256 of this event's canonical form, prev_hash included."
    )
