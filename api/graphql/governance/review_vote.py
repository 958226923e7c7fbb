"""reviewVote: a committee member votes on a review under way."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import attempt
from api.graphql.governance.review_payload import ReviewPayload
from api.graphql.governance.types import VoteChoice
from governance import reviews
from governance.models import VoteChoice as VoteChoiceModel


class ReviewVote(graphene.Mutation):
    """Vote once on your committee's review. Under a VOTES or MAJORITY rule, the vote that
    settles the count decides the review and issues its grants."""

    class Arguments:
        id = graphene.UUID(required=True, description="The review.")
        choice = VoteChoice(required=True, description="APPROVE or REJECT.")
        comment = graphene.String(description="Your reasons.")

    Output = ReviewPayload

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        id: uuid.UUID,
        choice: Any,
        comment: str | None = None,
    ) -> ReviewPayload:
        c = ctx(info)
        review, errors = attempt(
            c.session,
            lambda: reviews.vote(
                c.session,
                c.principal,
                review_id=id,
                choice=VoteChoiceModel(getattr(choice, "value", choice)),
                comment=comment,
                now=c.now,
            ),
        )
        return ReviewPayload(review=review, errors=errors)
