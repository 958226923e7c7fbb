"""The one interface both discovery backends implement.

Backends receive the caller's Postgres session: the Postgres backend indexes and searches in
it (so an outbox batch and its index writes commit together); Elasticsearch ignores it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from search.document import DatasetDocument
from search.query import SearchQuery, SearchResult, Visibility


class BackendUnavailable(Exception):
    """The index cannot be reached; nothing was written and the whole batch may be retried."""


@dataclass(frozen=True)
class IndexReport:
    """Per-document failures of a batch the backend accepted; the others are indexed (or were
    already newer in the index, which counts as indexed)."""

    failed: Mapping[uuid.UUID, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexedEntry:
    dataset_id: uuid.UUID
    version: int
    body: Mapping[str, Any]


class SearchBackend(Protocol):
    name: str

    def ensure_ready(self, session: Session) -> None:
        """Create the index if it does not exist yet (idempotent)."""

    def index(self, session: Session, documents: Sequence[DatasetDocument]) -> IndexReport: ...

    def refresh(self) -> None:
        """Make everything indexed so far searchable now (tests, after a reindex)."""

    def search(
        self, session: Session, query: SearchQuery, visibility: Visibility, *, now: datetime
    ) -> SearchResult: ...

    def entries(self, session: Session) -> Iterator[IndexedEntry]:
        """Everything the index holds, for ``atrium search check``."""
        ...

    def rebuild(self, session: Session, documents: Iterator[Sequence[DatasetDocument]]) -> int:
        """Build a fresh index from batches of documents and switch searches to it at once;
        returns how many documents it holds."""
        ...
