"""accessGrantRevoke: end a grant before its expiry."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessGrant
from governance import service


class AccessGrantRevoke(graphene.Mutation):
    """Revoke an active grant, with a reason (administrators and the dataset's committee);
    access stops at once."""

    class Arguments:
        id = graphene.UUID(required=True, description="The grant.")
        reason = graphene.String(required=True, description="Why (recorded in the audit log).")

    grant = graphene.Field(AccessGrant, description="The revoked grant.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, id: uuid.UUID, reason: str
    ) -> AccessGrantRevoke:
        c = ctx(info)
        grant, errors = attempt(
            c.session,
            lambda: service.revoke_grant(
                c.session, c.principal, grant_id=id, reason=reason, now=c.now
            ),
        )
        return AccessGrantRevoke(grant=grant, errors=errors)
