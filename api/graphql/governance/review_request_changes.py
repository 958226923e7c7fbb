"""reviewRequestChanges: a committee member sends a request back to its author."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import attempt
from api.graphql.governance.review_payload import ReviewPayload
from governance import reviews


class ReviewRequestChanges(graphene.Mutation):
    """Ask the requester for changes; standing votes are voided, since they judged the version
    being changed."""

    class Arguments:
        id = graphene.UUID(required=True, description="The review.")
        comment = graphene.String(required=True, description="The changes needed.")

    Output = ReviewPayload

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, id: uuid.UUID, comment: str
    ) -> ReviewPayload:
        c = ctx(info)
        review, errors = attempt(
            c.session,
            lambda: reviews.request_changes(
                c.session, c.principal, review_id=id, comment=comment, now=c.now
            ),
        )
        return ReviewPayload(review=review, errors=errors)
