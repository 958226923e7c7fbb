"""accessRequestRenew: the requester renews approved access before it expires."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessRequest
from governance import requests


class AccessRequestRenew(graphene.Mutation):
    """Start a renewal of an approved request whose grants are still active: a new draft,
    linked to it, that goes through review again; its grants continue the current ones."""

    class Arguments:
        id = graphene.UUID(required=True, description="The access request.")

    request = graphene.Field(AccessRequest, description="The new renewal request (a draft).")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> AccessRequestRenew:
        c = ctx(info)
        request, errors = attempt(
            c.session, lambda: requests.renew(c.session, c.principal, request_id=id)
        )
        return AccessRequestRenew(request=request, errors=errors)
