"""accessRequestSubmit: the requester sends a draft to the committees."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessRequest
from governance import requests


class AccessRequestSubmit(graphene.Mutation):
    """Submit a draft: each committee governing one of its datasets gets its own review."""

    class Arguments:
        id = graphene.UUID(required=True, description="The access request.")

    request = graphene.Field(AccessRequest, description="The request after the change.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> AccessRequestSubmit:
        c = ctx(info)
        request, errors = attempt(
            c.session, lambda: requests.submit(c.session, c.principal, request_id=id)
        )
        return AccessRequestSubmit(request=request, errors=errors)
