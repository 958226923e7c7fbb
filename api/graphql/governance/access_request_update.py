"""accessRequestUpdate: the requester rewrites a draft, or a request sent back for changes."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.inputs import plain
from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt, parse
from api.graphql.governance.inputs import AccessRequestInput
from api.graphql.governance.types import AccessRequest
from governance import requests
from governance.schemas import AccessRequestInput as AccessRequestSchema


class AccessRequestUpdate(graphene.Mutation):
    """Replace what a request states: freely while a draft; while changes are requested, with
    the same datasets."""

    class Arguments:
        id = graphene.UUID(required=True, description="The access request.")
        input = AccessRequestInput(required=True, description="The whole request, as it should be.")

    request = graphene.Field(AccessRequest, description="The request after the change.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, id: uuid.UUID, input: Any
    ) -> AccessRequestUpdate:
        c = ctx(info)
        data, errors = parse(AccessRequestSchema, plain(input), "input")
        if data is None:
            return AccessRequestUpdate(request=None, errors=errors)
        request, errors = attempt(
            c.session,
            lambda: requests.update(c.session, c.principal, request_id=id, data=data),
        )
        return AccessRequestUpdate(request=request, errors=errors)
