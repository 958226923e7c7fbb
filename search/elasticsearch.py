"""Discovery on Elasticsearch, the production backend.

The index has an explicit, strict mapping: keyword fields for facets (each with a lowercase
normalised ``lc`` sub-field that filters match on), text fields for words, ``date_nanos`` for
the update time so cursors are exact. Searches read an alias; a rebuild loads a new index and
moves the alias in one atomic call. Writes use external versions (the dataset's row version),
so a late, older copy never overwrites a newer one. Texts use the standard analyser: the
integration-test distribution that tests run lacks Elastic's language analysers, and one
mapping must serve tests and production alike."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from sqlalchemy.orm import Session

from catalog.errors import AtriumError
from search.backend import BackendUnavailable, IndexedEntry, IndexReport
from search.document import DatasetDocument
from search.facets import PARTICIPANT_BUCKETS, TERMS_FACETS, Facet, updated_buckets
from search.query import (
    FacetBucket,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortKey,
    SortOrder,
    Visibility,
    decode_cursor,
)

log = logging.getLogger(__name__)

FACET_SIZE = 50
FACET_FIELDS: dict[Facet, str] = {
    Facet.DISEASE: "diseases",
    Facet.DATA_TYPE: "data_types",
    Facet.FILE_FORMAT: "file_formats",
    Facet.ACCESS_LEVEL: "access_level",
    Facet.DATA_USE: "data_use",
    Facet.STEWARD: "steward",
    Facet.FUNDER: "funders",
    Facet.SPECIES: "species",
}
TEXT_FIELDS = [
    "title^3",
    "keywords^2",
    "disease_names^2",
    "description",
    "steward_name",
    "funder_names",
]
_KEYWORD = {"type": "keyword", "fields": {"lc": {"type": "keyword", "normalizer": "lowercase"}}}
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "accession": {"type": "keyword"},
        "status": {"type": "keyword"},
        "steward_id": {"type": "keyword"},
        "steward_name": {"type": "text"},
        "title": {
            "type": "text",
            "fields": {"sort": {"type": "keyword", "normalizer": "lowercase"}},
        },
        "description": {"type": "text"},
        "keywords": {"type": "text"},
        "disease_names": {"type": "text"},
        "funder_names": {"type": "text"},
        "participant_count": {"type": "integer"},
        "updated_at": {"type": "date_nanos"},
        **dict.fromkeys(FACET_FIELDS.values(), _KEYWORD),
    },
}
SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {"normalizer": {"lowercase": {"type": "custom", "filter": ["lowercase"]}}},
}
_SORTS: dict[SortOrder, dict[str, Any]] = {
    SortOrder.RELEVANCE: {"_score": "desc"},
    SortOrder.NEWEST: {"updated_at": "desc"},
    SortOrder.PARTICIPANTS: {"participant_count": {"order": "desc", "missing": -1}},
    SortOrder.TITLE: {"title.sort": "asc"},
}


class SearchUnavailable(AtriumError):
    status_code = 503
    code = "SEARCH_UNAVAILABLE"


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, *, alias: str = "atrium-datasets") -> None:
        self.client = client
        self.alias = alias

    def ensure_ready(self, session: Session) -> None:
        with _reachable():
            if not self.client.indices.exists_alias(name=self.alias):
                self._create_index(alias=True)

    def index(self, session: Session, documents: Sequence[DatasetDocument]) -> IndexReport:
        if not documents:
            return IndexReport()
        return self._bulk(self.alias, documents)

    def refresh(self) -> None:
        with _reachable():
            self.client.indices.refresh(index=self.alias)

    def search(
        self, session: Session, query: SearchQuery, visibility: Visibility, *, now: datetime
    ) -> SearchResult:
        after = decode_cursor(query)
        sort = query.effective_sort
        selections = _selections(query, now)
        scope = _visibility(visibility)
        matching = {"bool": {"filter": scope + list(selections.values()), **_words(query.text)}}
        body: dict[str, Any] = {
            "size": query.first + 1,
            "track_total_hits": False,
            "track_scores": bool(query.text),
            "query": matching,
            "sort": [_SORTS[sort], {"accession": "asc"}],
            "_source": ["accession"],
        }
        # Counts travel in a request of their own: with no hits in it, Elasticsearch's shard
        # request cache keeps its answer until the index next changes, so the facet counts of a
        # repeated search (paging, going back to a selection) cost nothing.
        counts: dict[str, Any] = {
            "size": 0,
            "track_total_hits": True,
            "query": matching,
            "aggs": _aggregations(selections, scope, query.text, now),
        }
        if after is not None:
            body["search_after"] = [after.value, after.accession]
        if query.text:
            body["highlight"] = {
                "encoder": "html",
                "pre_tags": ["<mark>"],
                "post_tags": ["</mark>"],
                "fields": {
                    "title": {"number_of_fragments": 0},
                    "description": {"fragment_size": 150, "number_of_fragments": 2},
                },
            }
        try:
            found, counted = self.client.msearch(
                searches=[
                    {"index": self.alias},
                    body,
                    {"index": self.alias, "request_cache": True},
                    counts,
                ]
            )["responses"]
        except (ApiError, TransportError) as error:
            log.error("search failed: %s", error)
            raise SearchUnavailable("search is unavailable right now; try again shortly") from None
        for answer in (found, counted):
            if "error" in answer:
                log.error("search failed: %s", answer["error"])
                raise SearchUnavailable("search is unavailable right now; try again shortly")
        hits = [_hit(raw) for raw in found["hits"]["hits"]]
        return SearchResult(
            total=counted["hits"]["total"]["value"],
            hits=tuple(hits[: query.first]),
            facets=_facets(counted["aggregations"]),
            has_next=len(hits) > query.first,
        )

    def entries(self, session: Session) -> Iterator[IndexedEntry]:
        with _reachable():
            for raw in helpers.scan(
                self.client, index=self.alias, query={"query": {"match_all": {}}}, version=True
            ):
                yield IndexedEntry(uuid.UUID(raw["_id"]), raw["_version"], raw["_source"])

    def rebuild(self, session: Session, documents: Iterator[Sequence[DatasetDocument]]) -> int:
        """Load a new index beside the live one, then move the alias to it atomically;
        searches answer from the old index until that moment."""
        with _reachable():
            new = self._create_index(alias=False)
            count = 0
            for batch in documents:
                report = self._bulk(new, batch)
                if report.failed:
                    self.client.indices.delete(index=new)
                    first = next(iter(report.failed.items()))
                    raise RuntimeError(f"document {first[0]} was refused: {first[1]}")
                count += len(batch)
            self.client.indices.refresh(index=new)
            old = list(self.client.indices.get_alias(name=self.alias)) if self._has_alias() else []
            actions: list[dict[str, Any]] = [
                {"remove": {"index": index, "alias": self.alias}} for index in old
            ]
            actions.append({"add": {"index": new, "alias": self.alias}})
            self.client.indices.update_aliases(actions=actions)
            for index in old:
                self.client.indices.delete(index=index)
        return count

    def _has_alias(self) -> bool:
        return bool(self.client.indices.exists_alias(name=self.alias))

    def _create_index(self, *, alias: bool) -> str:
        name = f"{self.alias}-{time.time_ns()}"
        self.client.indices.create(
            index=name,
            settings=SETTINGS,
            mappings=MAPPING,
            aliases={self.alias: {}} if alias else None,
        )
        return name

    def _bulk(self, index: str, documents: Sequence[DatasetDocument]) -> IndexReport:
        actions = [
            {
                "_op_type": "index",
                "_index": index,
                "_id": str(d.id),
                "version": d.version,
                "version_type": "external",
                "_source": d.body(),
            }
            for d in documents
        ]
        failed: dict[uuid.UUID, str] = {}
        with _reachable():
            for ok, item in helpers.streaming_bulk(
                self.client, actions, raise_on_error=False, raise_on_exception=True, max_retries=0
            ):
                result = item["index"]
                if not ok and result.get("status") != 409:
                    failed[uuid.UUID(result["_id"])] = str(result.get("error"))[:2000]
        return IndexReport(failed=failed)


@contextmanager
def _reachable() -> Iterator[None]:
    """Turns the client's connection and server errors into BackendUnavailable."""
    try:
        yield
    except TransportError as error:
        raise BackendUnavailable(f"Elasticsearch is unreachable: {error}") from error
    except ApiError as error:
        if error.meta.status >= 500:
            raise BackendUnavailable(f"Elasticsearch failed: {error}") from error
        raise


def _words(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    return {
        "must": [
            {
                "simple_query_string": {
                    "query": text,
                    "fields": TEXT_FIELDS,
                    "default_operator": "and",
                }
            }
        ]
    }


def _visibility(visibility: Visibility) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = [{"bool": {"must_not": {"term": {"status": "retired"}}}}]
    if not visibility.is_admin:
        clauses.append(
            _any(
                {"term": {"status": "published"}},
                {"terms": {"steward_id": [str(s) for s in visibility.steward_ids]}},
            )
        )
    readable = visibility.readable
    if readable is not None:
        published = {"term": {"status": "published"}}
        clauses.append(
            _any(
                {
                    "bool": {
                        "filter": [published, {"terms": {"access_level": sorted(readable.levels)}}]
                    }
                },
                {
                    "bool": {
                        "filter": [
                            published,
                            {"term": {"access_level": "controlled"}},
                            {"terms": {"id": [str(i) for i in readable.dataset_ids]}},
                        ]
                    }
                },
                {"terms": {"steward_id": [str(s) for s in readable.steward_ids]}},
            )
        )
    return clauses


def _any(*clauses: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"should": list(clauses), "minimum_should_match": 1}}


def _selections(query: SearchQuery, now: datetime) -> dict[Facet, dict[str, Any]]:
    """The filter clause of every facet with a selection."""
    found: dict[Facet, dict[str, Any]] = {}
    for facet, values in query.filters.items():
        if facet in TERMS_FACETS:
            found[facet] = {
                "terms": {f"{FACET_FIELDS[facet]}.lc": sorted(v.lower() for v in values)}
            }
        elif facet is Facet.PARTICIPANTS:
            found[facet] = _any(
                *(
                    {"range": {"participant_count": _bounds(b.gte, b.lt)}}
                    for b in PARTICIPANT_BUCKETS
                    if b.key in values
                )
            )
        else:
            found[facet] = _any(
                *(
                    {"range": {"updated_at": _bounds(b.gte, b.lt)}}
                    for b in updated_buckets(now)
                    if b.key in values
                )
            )
    return found


def _bounds(gte: Any, lt: Any) -> dict[str, Any]:
    bounds = {}
    if gte is not None:
        bounds["gte"] = gte.isoformat() if isinstance(gte, datetime) else gte
    if lt is not None:
        bounds["lt"] = lt.isoformat() if isinstance(lt, datetime) else lt
    return bounds


def _aggregations(
    selections: dict[Facet, dict[str, Any]],
    scope: list[dict[str, Any]],
    text: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Counts per facet, each ignoring the facet's own selection. Facets without a selection
    count the query's own (fully filtered, usually small) matches; a facet with one counts,
    from a global aggregation, the documents matching everything but that selection."""
    aggs: dict[str, Any] = {}
    for facet in Facet:
        inner = _facet_aggregation(facet, now)
        if facet not in selections:
            aggs[facet.value] = {"filter": {"match_all": {}}, "aggs": {"values": inner}}
            continue
        others = [clause for f, clause in selections.items() if f is not facet]
        aggs[facet.value] = {
            "global": {},
            "aggs": {
                "scoped": {
                    "filter": {"bool": {"filter": scope + others, **_words(text)}},
                    "aggs": {"values": inner},
                }
            },
        }
    return aggs


def _facet_aggregation(facet: Facet, now: datetime) -> dict[str, Any]:
    if facet in TERMS_FACETS:
        return {
            "terms": {
                "field": FACET_FIELDS[facet],
                "size": FACET_SIZE,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
    if facet is Facet.PARTICIPANTS:
        return {
            "range": {
                "field": "participant_count",
                "keyed": False,
                "ranges": [
                    {"key": b.key, "from": b.gte, **({"to": b.lt} if b.lt else {})}
                    for b in PARTICIPANT_BUCKETS
                ],
            }
        }
    return {
        "date_range": {
            "field": "updated_at",
            "ranges": [
                {
                    "key": b.key,
                    **({"from": b.gte.isoformat()} if b.gte else {}),
                    **({"to": b.lt.isoformat()} if b.lt else {}),
                }
                for b in updated_buckets(now)
            ],
        }
    }


def _hit(raw: dict[str, Any]) -> SearchHit:
    accession = raw["_source"]["accession"]
    highlights = {field: tuple(fragments) for field, fragments in raw.get("highlight", {}).items()}
    score = raw.get("_score")
    return SearchHit(
        dataset_id=uuid.UUID(raw["_id"]),
        accession=accession,
        score=float(score) if score else None,
        key=SortKey(raw["sort"][0], accession),
        highlights=highlights,
    )


def _facet_buckets(aggregation: dict[str, Any]) -> list[dict[str, Any]]:
    scoped = aggregation.get("scoped", aggregation)
    buckets: list[dict[str, Any]] = scoped["values"]["buckets"]
    return buckets


def _facets(aggregations: dict[str, Any]) -> dict[Facet, tuple[FacetBucket, ...]]:
    found = {}
    for facet in Facet:
        buckets = [
            FacetBucket(str(b["key"]), b["doc_count"])
            for b in _facet_buckets(aggregations[facet.value])
            if b["doc_count"] > 0
        ]
        found[facet] = tuple(sorted(buckets, key=lambda b: (-b.count, b.value.encode())))
    return found
