"""Tables of discovery: the outbox that carries catalog changes to the index, and the Postgres
backend's own index. Triggers on ``datasets`` (migration 0004) fill the outbox in the writing
transaction, so no code path that changes a dataset, ORM or COPY, can forget to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import Base


class SearchOutbox(Base):
    """One pending change of one dataset. Rows are deleted once the index holds the change;
    a row that keeps failing is parked with its error for an operator."""

    __tablename__ = "search_outbox"
    __table_args__ = (
        Index(
            "ix_search_outbox_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("parked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(UUID)
    enqueued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SearchDocument(Base):
    """The Postgres backend's index: one row per dataset, written only by the outbox worker
    and reindexing, guarded by ``row_version`` exactly as Elasticsearch's external versions."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_documents_filter_keys", "filter_keys", postgresql_using="gin"),
        Index("ix_search_documents_updated_at", "updated_at"),
        Index("ix_search_documents_title_sort", "title_sort"),
        Index("ix_search_documents_participants", "participant_count"),
    )

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    row_version: Mapped[int] = mapped_column(BigInteger)
    accession: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    access_level: Mapped[str] = mapped_column(Text)
    steward_id: Mapped[uuid.UUID] = mapped_column(UUID)
    title: Mapped[str] = mapped_column(Text)
    title_sort: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    participant_count: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facets: Mapped[dict[str, list[str]]] = mapped_column(
        JSONB, comment="Facet name to the values this dataset counts under."
    )
    filter_keys: Mapped[list[str]] = mapped_column(
        ARRAY(Text), comment="'facet:lowercased value' pairs; one GIN index serves every filter."
    )
    tsv: Mapped[str] = mapped_column(TSVECTOR)
    document: Mapped[dict[str, object]] = mapped_column(JSONB)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
