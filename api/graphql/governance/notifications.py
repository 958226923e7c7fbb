"""The caller's notifications: a Relay connection, newest first. Everyone sees only their
own; anonymous callers are told to authenticate."""

from __future__ import annotations

import uuid
from typing import Any

import graphene

from api.graphql.catalog.types import (
    connection,
    ctx,
    decode_time_id_cursor,
    encode_cursor,
    page_size,
)
from catalog.errors import Unauthenticated
from catalog.principals import Principal
from governance import notifications
from governance.models import NotificationKind as NotificationKindModel

MAX_PAGE = 100

NotificationKind = graphene.Enum.from_enum(
    NotificationKindModel, description="What a notification is about."
)


class Notification(graphene.ObjectType):
    """A message to you about a request or a grant."""

    id = graphene.UUID(required=True, description="Stable identifier (the webhook's `id`).")
    kind = graphene.Field(NotificationKind, required=True, description="What it is about.")
    payload = graphene.JSONString(
        required=True, description="Details by kind, e.g. `grant_id`, `dataset`, `expires_at`."
    )
    created_at = graphene.DateTime(required=True, description="When it was written.")
    read_at = graphene.DateTime(description="When you marked it read; null while unread.")
    delivered_at = graphene.DateTime(
        description="When the webhook accepted it; null if not (yet) pushed."
    )


class NotificationConnection(graphene.relay.Connection):
    """A page of notifications, newest first."""

    class Meta:
        node = Notification

    total_count = graphene.Int(required=True, description="Notifications matching the filter.")

    @staticmethod
    def resolve_total_count(parent: Any, _info: graphene.ResolveInfo) -> int:
        return int(parent.total_count())


def recipient(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Unauthenticated("notifications belong to an authenticated caller")
    return principal.user_id


class NotificationQuery(graphene.ObjectType):
    notifications = graphene.Field(
        NotificationConnection,
        required=True,
        first=graphene.Int(default_value=20, description=f"Page size, 1-{MAX_PAGE}."),
        after=graphene.String(description="`endCursor` of the previous page."),
        unread_only=graphene.Boolean(default_value=False, description="Only unread ones."),
        description="Your notifications, newest first (authenticated callers only).",
    )

    @staticmethod
    def resolve_notifications(
        _root: Any,
        info: graphene.ResolveInfo,
        first: int | None,
        unread_only: bool,
        after: str | None = None,
    ) -> Any:
        c = ctx(info)
        user_id = recipient(c.principal)
        first = page_size(first, MAX_PAGE)
        position = decode_time_id_cursor(after, "notifications") if after is not None else None
        stmt = notifications.of_recipient(user_id, unread_only=unread_only)
        rows = notifications.page(c.session, stmt, after=position, limit=first + 1)
        edges = [
            (n, encode_cursor(["notifications", n.created_at.isoformat(), str(n.id)]))
            for n in rows[:first]
        ]
        return connection(
            NotificationConnection,
            edges,
            has_next=len(rows) > first,
            total_count=lambda: notifications.count(c.session, stmt),
        )
