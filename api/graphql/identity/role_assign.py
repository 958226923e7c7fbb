"""roleAssign: an administrator gives a person a role."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.identity.types import RoleAssignment, RoleName
from catalog import service
from catalog.models import RoleName as RoleNameModel


class RoleAssign(graphene.Mutation):
    """Assign a role to the person with the given issuer and subject (administrators only).
    Assigning a role someone already holds changes nothing."""

    class Arguments:
        subject = graphene.String(required=True, description="`sub` of the person's tokens.")
        issuer = graphene.String(description="`iss` of the person's tokens (default: Atrium's).")
        role = graphene.Argument(RoleName, required=True, description="The role.")
        scope = graphene.String(description="Organization slug or committee slug; none for admin.")

    assignment = graphene.Field(RoleAssignment, description="The assignment.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        subject: str,
        role: Any,
        issuer: str | None = None,
        scope: str | None = None,
    ) -> RoleAssign:
        c = ctx(info)
        assignment, errors = attempt(
            c.session,
            lambda: service.assign_role(
                c.session,
                c.principal,
                issuer=issuer or c.base_url,
                subject=subject,
                role=RoleNameModel(role.value),
                scope=scope,
            ),
        )
        return RoleAssign(assignment=assignment, errors=errors)
