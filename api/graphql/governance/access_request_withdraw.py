"""accessRequestWithdraw: the requester ends a request before any decision."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessRequest
from governance import requests


class AccessRequestWithdraw(graphene.Mutation):
    """Withdraw your request at any time before a committee has decided on it."""

    class Arguments:
        id = graphene.UUID(required=True, description="The access request.")

    request = graphene.Field(AccessRequest, description="The request after the change.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> AccessRequestWithdraw:
        c = ctx(info)
        request, errors = attempt(
            c.session, lambda: requests.withdraw(c.session, c.principal, request_id=id)
        )
        return AccessRequestWithdraw(request=request, errors=errors)
