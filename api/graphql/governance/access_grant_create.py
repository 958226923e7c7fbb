"""accessGrantCreate: an administrator grants a person access to a controlled dataset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.types import AccessGrant
from governance import service


class AccessGrantCreate(graphene.Mutation):
    """Grant time-limited access to a controlled dataset (administrators only, until committee
    decisions issue grants). Access stops by itself at `expiresAt`."""

    class Arguments:
        subject = graphene.String(required=True, description="`sub` of the person's tokens.")
        issuer = graphene.String(description="`iss` of the person's tokens (default: Atrium's).")
        accession = graphene.String(required=True, description="Controlled dataset accession.")
        expires_at = graphene.DateTime(required=True, description="When access ends.")
        starts_at = graphene.DateTime(description="When access begins (default: now).")

    grant = graphene.Field(AccessGrant, description="The new grant.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        subject: str,
        accession: str,
        expires_at: datetime,
        issuer: str | None = None,
        starts_at: datetime | None = None,
    ) -> AccessGrantCreate:
        c = ctx(info)
        grant, errors = attempt(
            c.session,
            lambda: service.grant_access(
                c.session,
                c.principal,
                issuer=issuer or c.base_url,
                subject=subject,
                accession=accession,
                expires_at=expires_at,
                starts_at=starts_at,
                now=c.now,
            ),
        )
        return AccessGrantCreate(grant=grant, errors=errors)
