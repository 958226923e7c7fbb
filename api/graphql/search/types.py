"""GraphQL types of discovery: a search answers hits (datasets with highlights), facets with
labelled buckets, and a total."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import AccessLevel, Dataset
from search.facets import Facet


class SearchFacetField(graphene.Enum):
    """A facet of the catalog."""

    DISEASE = Facet.DISEASE.value
    DATA_TYPE = Facet.DATA_TYPE.value
    FILE_FORMAT = Facet.FILE_FORMAT.value
    ACCESS_LEVEL = Facet.ACCESS_LEVEL.value
    DATA_USE = Facet.DATA_USE.value
    STEWARD = Facet.STEWARD.value
    FUNDER = Facet.FUNDER.value
    SPECIES = Facet.SPECIES.value
    PARTICIPANTS = Facet.PARTICIPANTS.value
    UPDATED = Facet.UPDATED.value


class SearchSort(graphene.Enum):
    """Order of hits; ties are broken by accession."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    PARTICIPANTS = "participants"
    TITLE = "title"


def _values(description: str) -> graphene.List:
    return graphene.List(graphene.NonNull(graphene.String), description=description)


class SearchFilters(graphene.InputObjectType):
    """Selected facet values. Values of one facet combine with OR, facets with AND; matching
    ignores case."""

    disease = _values("MONDO CURIEs, e.g. MONDO:0007254.")
    data_type = _values("Data types, e.g. WGS.")
    file_format = _values("File formats, e.g. CRAM.")
    access_level = graphene.List(graphene.NonNull(AccessLevel), description="Access levels.")
    data_use = _values("DUO codes, e.g. GRU, DS, NPU.")
    steward = _values("Steward organization slugs.")
    funder = _values("Funder organization slugs.")
    species = _values("Species, e.g. Homo sapiens.")
    participants = _values("Participant-count ranges: 0-99, 100-999, 1000-9999, 10000+.")
    updated = _values("Last-update ranges: last-30-days, last-year, older.")
    readable_only = graphene.Boolean(
        description="Only datasets whose files the caller may download (the DRS access rule)."
    )


class SearchFacetBucket(graphene.ObjectType):
    """A value of a facet and how many matching datasets have it."""

    value = graphene.String(required=True, description="Value to filter on.")
    label = graphene.String(required=True, description="Human-readable name of the value.")
    count = graphene.Int(required=True, description="Datasets with this value.")


class SearchFacet(graphene.ObjectType):
    """Counts for one facet. A facet's counts ignore its own selection, so the other values
    stay visible and selectable."""

    field = graphene.Field(SearchFacetField, required=True)
    buckets = graphene.List(graphene.NonNull(SearchFacetBucket), required=True)


class SearchHighlight(graphene.ObjectType):
    """Fragments of a field with the matched words in <mark>…</mark>; other text is escaped."""

    field = graphene.String(required=True, description="title or description.")
    fragments = graphene.List(graphene.NonNull(graphene.String), required=True)


class SearchHit(graphene.ObjectType):
    """A dataset that matches."""

    dataset = graphene.Field(Dataset, required=True)
    score = graphene.Float(description="Relevance score (null when not ranked by words).")
    highlights = graphene.List(graphene.NonNull(SearchHighlight), required=True)


class SearchEdge(graphene.ObjectType):
    cursor = graphene.String(required=True, description="Pass as `after` for the next page.")
    node = graphene.Field(SearchHit, required=True)


class SearchConnection(graphene.ObjectType):
    """A page of search hits with the facets of the whole result."""

    total_count = graphene.Int(required=True, description="Datasets matching the search.")
    facets = graphene.List(
        graphene.NonNull(SearchFacet),
        required=True,
        fields=graphene.List(
            graphene.NonNull(SearchFacetField), description="Only these facets (default: all)."
        ),
    )
    edges = graphene.List(graphene.NonNull(SearchEdge), required=True)
    page_info = graphene.Field(graphene.relay.PageInfo, required=True)

    @staticmethod
    def resolve_facets(parent: Any, _info: graphene.ResolveInfo, fields: Any = None) -> Any:
        wanted = [Facet(f.value if hasattr(f, "value") else f) for f in fields or Facet]
        result = parent.labelled
        return [
            SearchFacet(
                field=facet.value,
                buckets=[
                    SearchFacetBucket(
                        value=b.value, label=result.label(facet, b.value), count=b.count
                    )
                    for b in result.result.facets.get(facet, ())
                ],
            )
            for facet in wanted
        ]


class SearchIndexStatus(graphene.ObjectType):
    """How far the index trails Postgres, for monitoring (administrators only)."""

    backend = graphene.String(required=True, description="postgres or elasticsearch.")
    pending_changes = graphene.Int(required=True, description="Changes not yet indexed.")
    parked_changes = graphene.Int(
        required=True, description="Changes that kept failing and wait for an operator."
    )
    lag_seconds = graphene.Float(
        required=True, description="Age of the oldest pending change (0 when none)."
    )
