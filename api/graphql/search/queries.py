"""The `search` query: discovery over the configured backend, with the visibility and access
rules of the caller."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.context import Context
from api.graphql.search.types import (
    SearchConnection,
    SearchEdge,
    SearchFilters,
    SearchHighlight,
    SearchHit,
    SearchIndexStatus,
    SearchSort,
)
from catalog import repository
from catalog.errors import Forbidden, Unauthenticated
from catalog.models import Dataset, RoleName
from governance import repository as grants
from governance.access import readable_scope
from search import outbox, service
from search.facets import Facet
from search.query import AccessFilter, SearchQuery, SortOrder, Visibility, encode_cursor


class SearchQueries(graphene.ObjectType):
    search = graphene.Field(
        SearchConnection,
        required=True,
        query=graphene.String(
            description="Words to look for (quotes for phrases, - to exclude), up to 1000"
            " characters; omit to browse."
        ),
        filters=graphene.Argument(SearchFilters, description="Selected facet values."),
        sort=graphene.Argument(
            SearchSort, description="Default: relevance with words, newest without."
        ),
        first=graphene.Int(default_value=20, description="Page size, 1-100."),
        after=graphene.String(description="`endCursor` of the previous page of this search."),
        description="Search published datasets (and drafts the caller stewards); retired"
        " datasets never appear.",
    )

    search_index_status = graphene.Field(
        SearchIndexStatus,
        required=True,
        description="Index lag: pending and parked changes (administrators only).",
    )

    @staticmethod
    def resolve_search_index_status(_root: Any, info: graphene.ResolveInfo) -> Any:
        c = ctx(info)
        if not c.principal.is_authenticated:
            raise Unauthenticated("sign in as an administrator")
        if not c.principal.is_admin:
            raise Forbidden("only administrators see the index status")
        state = outbox.status(c.session, now=c.now)
        return SearchIndexStatus(
            backend=c.search.name,
            pending_changes=state.pending,
            parked_changes=state.parked,
            lag_seconds=state.lag_seconds,
        )

    @staticmethod
    def resolve_search(
        _root: Any,
        info: graphene.ResolveInfo,
        first: int,
        query: str | None = None,
        filters: Any = None,
        sort: Any = None,
        after: str | None = None,
    ) -> Any:
        c = ctx(info)
        request = SearchQuery(
            text=query,
            filters=_selection(filters),
            sort=SortOrder(sort.value if hasattr(sort, "value") else sort) if sort else None,
            first=first,
            after=after,
        )
        readable = bool(filters and filters.get("readable_only"))
        labelled = service.search(
            c.session, c.search, request, _visibility(c, readable=readable), now=c.now
        )
        return _connection(c, labelled)


def _selection(filters: Any) -> dict[Facet, frozenset[str]]:
    if not filters:
        return {}
    selected: dict[Facet, frozenset[str]] = {}
    for facet in Facet:
        values = filters.get(facet.value)
        if values:
            selected[facet] = frozenset(v.value if hasattr(v, "value") else v for v in values)
    return selected


def _visibility(c: Context, *, readable: bool) -> Visibility:
    principal = c.principal
    access = None
    if readable:
        scope = readable_scope(
            principal,
            granted_dataset_ids=grants.all_granted_dataset_ids(c.session, principal.user_id, c.now),
        )
        access = AccessFilter(
            levels=frozenset(level.value for level in scope.levels),
            dataset_ids=scope.dataset_ids,
            steward_ids=scope.steward_ids,
        )
    return Visibility(
        is_admin=principal.is_admin,
        steward_ids=principal.organizations_with(RoleName.STEWARD),
        readable=access,
    )


def _connection(c: Context, labelled: service.LabelledResult) -> Any:
    hits = labelled.result.hits
    readable = repository.readable_datasets(c.principal).where(
        Dataset.id.in_([h.dataset_id for h in hits])
    )
    datasets = {d.id: d for d in c.session.scalars(readable)}
    c.loaders.catalog.seen.add_datasets(datasets.values())
    edges = [
        SearchEdge(
            cursor=encode_cursor(labelled.query, hit.key),
            node=SearchHit(
                dataset=datasets[hit.dataset_id],
                score=hit.score,
                highlights=[
                    SearchHighlight(field=name, fragments=list(fragments))
                    for name, fragments in hit.highlights.items()
                ],
            ),
        )
        for hit in hits
        if hit.dataset_id in datasets
    ]
    connection = SearchConnection(
        total_count=labelled.result.total,
        edges=edges,
        page_info=graphene.relay.PageInfo(
            has_next_page=labelled.result.has_next,
            has_previous_page=labelled.query.after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
    connection.labelled = labelled
    return connection
