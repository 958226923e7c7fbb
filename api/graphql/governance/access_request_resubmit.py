"""accessRequestResubmit: the requester answers a request for changes."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessRequest
from governance import requests


class AccessRequestResubmit(graphene.Mutation):
    """Send a request back to the committees that asked for changes."""

    class Arguments:
        id = graphene.UUID(required=True, description="The access request.")

    request = graphene.Field(AccessRequest, description="The request after the change.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> AccessRequestResubmit:
        c = ctx(info)
        request, errors = attempt(
            c.session, lambda: requests.resubmit(c.session, c.principal, request_id=id)
        )
        return AccessRequestResubmit(request=request, errors=errors)
