"""The caller as GraphQL sees it."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Committee, Organization, ctx
from api.graphql.governance.types import AccessGrant
from catalog.models import RoleName as RoleNameModel
from governance import repository as grants

RoleName = graphene.Enum.from_enum(RoleNameModel, description="A role held in the commons.")


class RoleAssignment(graphene.ObjectType):
    """One role of the caller and what it is scoped to."""

    role = graphene.Field(RoleName, required=True, description="The role.")
    organization = graphene.Field(Organization, description="Scope of steward/auditor roles.")
    committee = graphene.Field(Committee, description="Scope of committee roles.")

    @staticmethod
    async def resolve_organization(parent: Any, info: graphene.ResolveInfo) -> Any:
        if parent.organization_id is None:
            return None
        return await ctx(info).loaders.organization_by_id.load(parent.organization_id)

    @staticmethod
    async def resolve_committee(parent: Any, info: graphene.ResolveInfo) -> Any:
        if parent.committee_id is None:
            return None
        return await ctx(info).loaders.committee_by_id.load(parent.committee_id)


class Me(graphene.ObjectType):
    """The authenticated caller, or an anonymous one."""

    authenticated = graphene.Boolean(required=True, description="Whether a token was verified.")
    subject = graphene.String(description="`sub` of the verified token.")
    issuer = graphene.String(description="`iss` of the verified token.")
    roles = graphene.List(
        graphene.NonNull(RoleAssignment), required=True, description="Roles held in Atrium."
    )
    grants = graphene.List(
        graphene.NonNull(AccessGrant),
        required=True,
        description="Your access grants, latest expiry first (expired and revoked included).",
    )

    @staticmethod
    def resolve_authenticated(parent: Any, _info: graphene.ResolveInfo) -> bool:
        return bool(parent.is_authenticated)

    @staticmethod
    def resolve_roles(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return sorted(
            parent.roles, key=lambda r: (r.role.value, str(r.organization_id), str(r.committee_id))
        )

    @staticmethod
    def resolve_grants(parent: Any, info: graphene.ResolveInfo) -> Any:
        if parent.user_id is None:
            return []
        return grants.grants_of_user(ctx(info).session, parent.user_id)


class IdentityQuery(graphene.ObjectType):
    me = graphene.Field(Me, required=True, description="Who the API thinks you are.")

    @staticmethod
    def resolve_me(_root: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).principal
