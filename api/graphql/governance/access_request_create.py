"""accessRequestCreate: a researcher drafts a request for controlled datasets."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import plain
from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt, parse
from api.graphql.governance.inputs import AccessRequestInput
from api.graphql.governance.types import AccessRequest
from governance import requests
from governance.schemas import AccessRequestInput as AccessRequestSchema


class AccessRequestCreate(graphene.Mutation):
    """Draft a request for published controlled datasets; submit it when it is complete."""

    class Arguments:
        input = AccessRequestInput(required=True, description="The request.")

    request = graphene.Field(AccessRequest, description="The new draft.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, input: Any) -> AccessRequestCreate:
        c = ctx(info)
        data, errors = parse(AccessRequestSchema, plain(input), "input")
        if data is None:
            return AccessRequestCreate(request=None, errors=errors)
        request, errors = attempt(
            c.session, lambda: requests.create(c.session, c.principal, data=data)
        )
        return AccessRequestCreate(request=request, errors=errors)
