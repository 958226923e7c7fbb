"""Read access requests and grants. Requests come from ``readable_requests(principal)``: the
requester's own, and once submitted those of the datasets the caller's committees govern, its
organizations steward or its funders paid for (read-only for stewards and auditors)."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import (
    connection,
    ctx,
    decode_time_id_cursor,
    encode_cursor,
    page_size,
)
from api.graphql.governance.types import (
    AccessGrant,
    AccessRequest,
    AccessRequestConnection,
    RequestState,
)
from catalog import repository as catalog_repository
from governance import policies
from governance import repository as repo

MAX_REQUESTS_PAGE = 100


class AccessRequestFilter(graphene.InputObjectType):
    """Conditions on access requests; all given conditions must hold."""

    states = graphene.List(graphene.NonNull(RequestState), description="Any of these states.")
    mine = graphene.Boolean(description="Only requests you made.")


class GovernanceQuery(graphene.ObjectType):
    access_request = graphene.Field(
        AccessRequest,
        id=graphene.UUID(required=True, description="The request's id."),
        description="One access request; null if unknown or not visible to you.",
    )
    access_requests = graphene.Field(
        AccessRequestConnection,
        required=True,
        filter=graphene.Argument(AccessRequestFilter, description="Conditions."),
        first=graphene.Int(default_value=20, description=f"Page size, 1-{MAX_REQUESTS_PAGE}."),
        after=graphene.String(description="`endCursor` of the previous page."),
        description="Access requests visible to you, newest first.",
    )
    my_grants = graphene.List(
        graphene.NonNull(AccessGrant),
        required=True,
        description="Your grants with their expiry, latest expiry first (expired and revoked"
        " included; `active` tells which count now).",
    )
    dataset_grants = graphene.List(
        graphene.NonNull(AccessGrant),
        accession=graphene.String(required=True, description="The dataset's accession."),
        description="Who holds or held access to a dataset; for its stewards, its committee"
        " and administrators, null for everyone else.",
    )

    @staticmethod
    def resolve_access_request(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> Any:
        c = ctx(info)
        return repo.request_by_id(c.session, c.principal, id)

    @staticmethod
    def resolve_access_requests(
        _root: Any,
        info: graphene.ResolveInfo,
        filter: Any = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Any:
        first = page_size(first, MAX_REQUESTS_PAGE)
        position = decode_time_id_cursor(after, "requests") if after is not None else None
        c = ctx(info)
        rows, total = repo.page_of_requests(
            c.session,
            c.principal,
            states=list((filter or {}).get("states") or []),
            mine=bool((filter or {}).get("mine")),
            first=first,
            after=position,
        )
        edges = [
            (r, encode_cursor(["requests", r.created_at.isoformat(), str(r.id)]))
            for r in rows[:first]
        ]
        return connection(
            AccessRequestConnection, edges, has_next=len(rows) > first, total_count=total
        )

    @staticmethod
    def resolve_my_grants(_root: Any, info: graphene.ResolveInfo) -> Any:
        c = ctx(info)
        if c.principal.user_id is None:
            return []
        return repo.grants_of_user(c.session, c.principal.user_id)

    @staticmethod
    def resolve_dataset_grants(_root: Any, info: graphene.ResolveInfo, accession: str) -> Any:
        c = ctx(info)
        dataset = catalog_repository.dataset_by_accession(c.session, c.principal, accession)
        if dataset is None or not policies.can_see_grants_of(c.principal, dataset):
            return None
        return repo.grants_of_dataset(c.session, dataset.id)
