"""Running a search: validate, ask the backend, label the facet buckets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from search.backend import SearchBackend
from search.facets import Facet
from search.labels import facet_labels
from search.query import SearchQuery, SearchResult, Visibility, validate


@dataclass(frozen=True)
class LabelledResult:
    query: SearchQuery
    result: SearchResult
    labels: Mapping[tuple[Facet, str], str]

    def label(self, facet: Facet, value: str) -> str:
        return self.labels.get((facet, value), value)


def search(
    session: Session,
    backend: SearchBackend,
    query: SearchQuery,
    visibility: Visibility,
    *,
    now: datetime,
) -> LabelledResult:
    """Raises ``catalog.errors.Invalid`` (with the field) for input no backend should see."""
    checked = validate(query)
    result = backend.search(session, checked, visibility, now=now)
    return LabelledResult(checked, result, facet_labels(session, result.facets))
