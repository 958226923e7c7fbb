"""committeeCreate: a steward of an organization sets up its data access committee."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import CommitteeInput, plain
from api.graphql.catalog.types import Committee, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog import service
from catalog.schemas import CommitteeCreate as CommitteeCreateSchema


class CommitteeCreate(graphene.Mutation):
    """Create a committee of an organization you steward."""

    class Arguments:
        input = CommitteeInput(required=True, description="The committee.")

    committee = graphene.Field(Committee, description="The new committee.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, input: Any) -> CommitteeCreate:
        c = ctx(info)
        data, errors = parse(CommitteeCreateSchema, plain(input))
        if data is None:
            return CommitteeCreate(committee=None, errors=errors)
        committee, errors = attempt(
            c.session, lambda: service.create_committee(c.session, c.principal, data=data)
        )
        return CommitteeCreate(committee=committee, errors=errors)
