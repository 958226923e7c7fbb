"""organizationCreate: an administrator adds a steward, funder or institution."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import OrganizationInput, plain
from api.graphql.catalog.types import Organization, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog import service
from catalog.schemas import OrganizationCreate as OrganizationCreateSchema


class OrganizationCreate(graphene.Mutation):
    """Create an organization (administrators only)."""

    class Arguments:
        input = OrganizationInput(required=True, description="The organization.")

    organization = graphene.Field(Organization, description="The new organization.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, input: Any) -> OrganizationCreate:
        c = ctx(info)
        data, errors = parse(OrganizationCreateSchema, plain(input))
        if data is None:
            return OrganizationCreate(organization=None, errors=errors)
        org, errors = attempt(
            c.session, lambda: service.create_organization(c.session, c.principal, data=data)
        )
        return OrganizationCreate(organization=org, errors=errors)
