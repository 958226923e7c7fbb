"""GraphQL types of access governance."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Dataset, ctx


class AccessGrant(graphene.ObjectType):
    """Permission for one person to read one controlled dataset, for a time."""

    id = graphene.UUID(required=True, description="Stable identifier.")
    dataset = graphene.Field(Dataset, required=True, description="The controlled dataset.")
    starts_at = graphene.DateTime(required=True, description="When access begins.")
    expires_at = graphene.DateTime(required=True, description="When access ends.")
    granted_by = graphene.String(required=True, description="Who granted it.")
    revoked_at = graphene.DateTime(description="When it was revoked, if it was.")
    revoked_reason = graphene.String(description="Why it was revoked.")
    active = graphene.Boolean(
        required=True, description="Whether it grants access at this instant."
    )

    @staticmethod
    async def resolve_dataset(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.dataset_by_id.load(parent.dataset_id)

    @staticmethod
    def resolve_active(parent: Any, info: graphene.ResolveInfo) -> bool:
        now = ctx(info).now
        return bool(parent.revoked_at is None and parent.starts_at <= now < parent.expires_at)
