"""What every review mutation returns: the review and its request, whose state follows it."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError
from api.graphql.governance.types import AccessRequest, RequestReview
from governance.models import AccessRequest as AccessRequestModel


class ReviewPayload(graphene.ObjectType):
    """A review after a committee command, or why the command was refused."""

    review = graphene.Field(RequestReview, description="The review after the change.")
    request = graphene.Field(AccessRequest, description="Its request (state derived from it).")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def resolve_request(parent: Any, info: graphene.ResolveInfo) -> Any:
        if parent.review is None:
            return None
        return ctx(info).session.get(AccessRequestModel, parent.review.request_id)
