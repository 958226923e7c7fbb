"""reviewDecide: the chair decides a review, under the CHAIR rule."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import attempt
from api.graphql.governance.review_payload import ReviewPayload
from governance import reviews

ReviewDecision = graphene.Enum(
    "ReviewDecision", [("APPROVE", "approve"), ("REJECT", "reject")], description="A decision."
)


class ReviewDecide(graphene.Mutation):
    """Approve or reject your committee's review (its chair, when the chair decides). Approval
    issues one grant per requested dataset the committee governs; exactly one decision stands
    however many chairs decide at once."""

    class Arguments:
        id = graphene.UUID(required=True, description="The review.")
        decision = ReviewDecision(required=True, description="APPROVE or REJECT.")
        comment = graphene.String(description="The decision's reasons.")

    Output = ReviewPayload

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        id: uuid.UUID,
        decision: Any,
        comment: str | None = None,
    ) -> ReviewPayload:
        c = ctx(info)
        approve = getattr(decision, "value", decision) == "approve"
        review, errors = attempt(
            c.session,
            lambda: reviews.decide(
                c.session, c.principal, review_id=id, approve=approve, comment=comment, now=c.now
            ),
        )
        return ReviewPayload(review=review, errors=errors)
