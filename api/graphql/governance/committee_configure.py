"""committeeConfigure: a steward sets how its committee decides."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import plain
from api.graphql.catalog.types import Committee, ctx
from api.graphql.errors import CatalogError, attempt, parse
from api.graphql.governance.inputs import CommitteeRulesInput
from governance import committees
from governance.schemas import CommitteeRulesInput as CommitteeRulesSchema


class CommitteeConfigure(graphene.Mutation):
    """Set a committee's decision rule, review deadline and longest grant (stewards of its
    organization)."""

    class Arguments:
        committee = graphene.String(required=True, description="The committee's slug.")
        input = CommitteeRulesInput(required=True, description="The rules.")

    committee = graphene.Field(Committee, description="The committee with its new rules.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, committee: str, input: Any
    ) -> CommitteeConfigure:
        c = ctx(info)
        data, errors = parse(CommitteeRulesSchema, plain(input), "input")
        if data is None:
            return CommitteeConfigure(committee=None, errors=errors)
        found, errors = attempt(
            c.session,
            lambda: committees.configure(c.session, c.principal, committee=committee, data=data),
        )
        return CommitteeConfigure(committee=found, errors=errors)
