"""What a search asks and what it answers, independent of the backend that runs it.

Cursors carry the sort key of the last hit and a fingerprint of the query they belong to, so
a cursor can never silently page through a different query."""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.errors import Invalid
from catalog.models import ACCESSION_PATTERN
from catalog.schemas import UNSTORABLE, storable
from search.facets import TERMS_FACETS, Facet, range_keys

MAX_QUERY_LENGTH = 1000
MAX_PAGE_SIZE = 100
MAX_FILTER_VALUES = 100
MAX_FILTER_VALUE_LENGTH = 500


class SortOrder(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PARTICIPANTS = "participants"
    TITLE = "title"


@dataclass(frozen=True)
class AccessFilter:
    """The datasets a caller may read, as sets a backend can filter on; built from the access
    rule's set form (``governance.access.readable_scope``): a published dataset whose level is
    in ``levels``, a published controlled one in ``dataset_ids``, or any of ``steward_ids``."""

    levels: frozenset[str]
    dataset_ids: frozenset[uuid.UUID]
    steward_ids: frozenset[uuid.UUID]


@dataclass(frozen=True)
class Visibility:
    """Who searches: retired datasets are never shown; drafts only to their stewards and
    administrators; ``readable`` narrows to what the caller may download."""

    is_admin: bool = False
    steward_ids: frozenset[uuid.UUID] = frozenset()
    readable: AccessFilter | None = None


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    filters: Mapping[Facet, frozenset[str]] = field(default_factory=dict)
    sort: SortOrder | None = None
    first: int = 20
    after: str | None = None

    @property
    def effective_sort(self) -> SortOrder:
        """Relevance needs words to rank by; without them the newest come first."""
        if self.sort is None or (self.sort is SortOrder.RELEVANCE and not self.text):
            return SortOrder.RELEVANCE if self.text else SortOrder.NEWEST
        return self.sort

    def fingerprint(self) -> str:
        canonical = json.dumps(
            [
                self.text or "",
                sorted((str(k), sorted(v)) for k, v in self.filters.items() if v),
                self.effective_sort.value,
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SortKey:
    """The position of a hit in its ordering: the sort value, then the accession."""

    value: float | int | str | None
    accession: str


@dataclass(frozen=True)
class SearchHit:
    dataset_id: uuid.UUID
    accession: str
    score: float | None
    key: SortKey
    highlights: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class FacetBucket:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: tuple[SearchHit, ...]
    facets: Mapping[Facet, tuple[FacetBucket, ...]]
    has_next: bool


def validate(query: SearchQuery) -> SearchQuery:
    """Refuse what no backend should see; returns the query with its text normalised."""
    text = query.text.strip() if query.text else None
    if text is not None and len(text) > MAX_QUERY_LENGTH:
        raise Invalid(
            f"the query has {len(text)} characters; at most {MAX_QUERY_LENGTH} are allowed",
            field="query",
        )
    if text is not None and not storable(text):
        raise Invalid(f"the query is not storable text: {UNSTORABLE}", field="query")
    if not 1 <= query.first <= MAX_PAGE_SIZE:
        raise Invalid(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
    for facet, values in query.filters.items():
        if len(values) > MAX_FILTER_VALUES:
            raise Invalid(
                f"at most {MAX_FILTER_VALUES} values per filter", field=f"filters.{facet.value}"
            )
        if any(len(v) > MAX_FILTER_VALUE_LENGTH or not storable(v) for v in values):
            raise Invalid(
                f"filter values have at most {MAX_FILTER_VALUE_LENGTH} characters and no NUL",
                field=f"filters.{facet.value}",
            )
        if facet not in TERMS_FACETS:
            unknown = sorted(set(values) - set(range_keys(facet)))
            if unknown:
                raise Invalid(
                    f"unknown {facet.value} range {unknown[0]!r}; use one of "
                    + ", ".join(range_keys(facet)),
                    field=f"filters.{facet.value}",
                )
    return SearchQuery(
        text=text or None,
        filters={k: v for k, v in query.filters.items() if v},
        sort=query.sort,
        first=query.first,
        after=query.after,
    )


def encode_cursor(query: SearchQuery, key: SortKey) -> str:
    raw = json.dumps([query.fingerprint(), key.value, key.accession]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: SearchQuery) -> SortKey | None:
    """The position ``query.after`` points at; a clear error for a cursor that is malformed
    or belongs to another query."""
    if query.after is None:
        return None
    try:
        padded = query.after + "=" * (-len(query.after) % 4)
        fingerprint, value, accession = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error) as error:
        raise Invalid("the cursor is not one this search returned", field="after") from error
    if fingerprint != query.fingerprint():
        raise Invalid(
            "the cursor belongs to a different query, filters or sort; start again without it",
            field="after",
        )
    if not (
        isinstance(accession, str)
        and re.match(ACCESSION_PATTERN, accession)
        and _fits(query.effective_sort, value)
    ):
        raise Invalid("the cursor is not one this search returned", field="after")
    return SortKey(value, accession)


def _fits(sort: SortOrder, value: Any) -> bool:
    """Whether ``value`` can be a sort key of ``sort``, so that a forged cursor is refused
    here rather than failing in the backend. Update times are ISO text on Postgres and
    nanoseconds on Elasticsearch."""
    if isinstance(value, bool):
        return False
    if sort is SortOrder.RELEVANCE:
        return isinstance(value, int | float)
    if sort is SortOrder.PARTICIPANTS:
        return isinstance(value, int)
    if sort is SortOrder.TITLE:
        return isinstance(value, str) and storable(value)
    if isinstance(value, int):
        return True
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True
