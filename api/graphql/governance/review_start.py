"""reviewStart: a committee member takes up a submitted or resubmitted request."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import attempt
from api.graphql.governance.review_payload import ReviewPayload
from governance import reviews


class ReviewStart(graphene.Mutation):
    """Put your committee's review of a request under review (members and chairs)."""

    class Arguments:
        id = graphene.UUID(required=True, description="The review (`AccessRequest.reviews.id`).")

    Output = ReviewPayload

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, id: uuid.UUID) -> ReviewPayload:
        c = ctx(info)
        review, errors = attempt(
            c.session, lambda: reviews.start(c.session, c.principal, review_id=id, now=c.now)
        )
        return ReviewPayload(review=review, errors=errors)
