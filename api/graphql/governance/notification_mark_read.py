"""notificationMarkRead: the caller marks some of their own notifications read."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt
from api.graphql.governance.notifications import MAX_PAGE, Notification, recipient
from catalog.errors import Invalid
from governance import notifications


class NotificationMarkRead(graphene.Mutation):
    """Mark some of your notifications read. Ids that are not yours are ignored, as if unknown."""

    class Arguments:
        ids = graphene.List(
            graphene.NonNull(graphene.UUID), required=True, description="At most 100 ids."
        )

    notifications = graphene.List(
        graphene.NonNull(Notification),
        required=True,
        description="Those of the ids that are yours, now read.",
    )
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, ids: list[uuid.UUID]
    ) -> NotificationMarkRead:
        c = ctx(info)

        def mark() -> Any:
            user_id = recipient(c.principal)
            if len(ids) > MAX_PAGE:
                raise Invalid(f"at most {MAX_PAGE} ids at once", field="ids")
            return notifications.mark_read(c.session, user_id, ids, now=c.now)

        marked, errors = attempt(c.session, mark)
        return NotificationMarkRead(notifications=marked or [], errors=errors)
