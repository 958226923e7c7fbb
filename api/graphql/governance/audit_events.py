"""Audit events in GraphQL: the log, newest first, for those allowed to audit, and the head of
the chain that an auditor records to detect a truncated chain later."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import connection, ctx, decode_cursor, encode_cursor, page_size
from catalog import audit_chain
from catalog.errors import Forbidden, Invalid
from governance import audit_log, policies

MAX_EVENTS_PAGE = 500


class AuditEvent(graphene.ObjectType):
    """One write that matters: who did what to which object, when; and its place in the chain."""

    id = graphene.ID(required=True, description="The event's id (assigned at insert).")
    occurred_at = graphene.DateTime(
        required=True, description="Start of the transaction that wrote it."
    )
    actor = graphene.String(required=True, description="`subject@issuer` of who did it.")
    action = graphene.String(required=True, description="What was done, e.g. dataset.published.")
    object_type = graphene.String(required=True, description="Kind of object, e.g. dataset.")
    object_id = graphene.String(required=True, description="The object's accession or id.")
    summary = graphene.JSONString(required=True, description="What changed, briefly.")
    seq = graphene.BigInt(description="Position in the audit chain; null until sealed.")
    hash = graphene.String(description="SHA-256 of the sealed event, hex; null until sealed.")
    prev_hash = graphene.String(description="Hash of the event before it, hex.")

    @staticmethod
    def resolve_hash(parent: Any, _info: graphene.ResolveInfo) -> str | None:
        return parent.hash.hex() if parent.hash is not None else None

    @staticmethod
    def resolve_prev_hash(parent: Any, _info: graphene.ResolveInfo) -> str | None:
        return parent.prev_hash.hex() if parent.prev_hash is not None else None


class AuditEventConnection(graphene.relay.Connection):
    """A page of audit events, newest first."""

    class Meta:
        node = AuditEvent

    total_count = graphene.Int(required=True, description="Events matching the filter.")

    @staticmethod
    def resolve_total_count(parent: Any, _info: graphene.ResolveInfo) -> int:
        return int(parent.total_count())


class AuditEventFilter(graphene.InputObjectType):
    """Narrows the audit log; all given conditions must hold."""

    object_type = graphene.String(description="Kind of object, e.g. dataset.")
    object_id = graphene.String(description="The object's accession or id.")
    actor = graphene.String(description="`subject@issuer` of who did it.")
    action = graphene.String(description="What was done, e.g. grant.created.")
    since = graphene.DateTime(description="Events at or after this instant.")
    until = graphene.DateTime(description="Events before this instant.")


class AuditChainHead(graphene.ObjectType):
    """The last sealed event. Recording it lets an auditor prove later that no sealed event
    was removed from the end of the chain, which the chain alone cannot show."""

    seq = graphene.BigInt(required=True, description="Sealed events (0 if none).")
    hash = graphene.String(required=True, description="Its hash, hex (zeros if none).")
    unsealed = graphene.Int(required=True, description="Committed events not yet sealed.")


class AuditQuery(graphene.ObjectType):
    audit_events = graphene.Field(
        AuditEventConnection,
        required=True,
        filter=graphene.Argument(AuditEventFilter, description="Conditions."),
        first=graphene.Int(default_value=50, description=f"Page size, 1-{MAX_EVENTS_PAGE}."),
        after=graphene.String(description="`endCursor` of the previous page."),
        description="Audit events the caller may audit, newest first: all for administrators;"
        " those of the datasets their organization funds for funder auditors, of the datasets"
        " their committee governs for committee members and chairs. Others are refused.",
    )
    audit_chain_head = graphene.Field(
        AuditChainHead,
        required=True,
        description="The head of the audit chain; administrators and funder auditors.",
    )

    @staticmethod
    def resolve_audit_events(
        _root: Any,
        info: graphene.ResolveInfo,
        first: int | None,
        filter: Any = None,
        after: str | None = None,
    ) -> Any:
        c = ctx(info)
        readable = audit_log.readable_events(c.principal)
        if readable is None:
            raise Forbidden("only administrators, funder auditors and committees read audit events")
        first = page_size(first, MAX_EVENTS_PAGE)
        before_id = None
        if after is not None:
            decoded = decode_cursor(after)
            if (
                not decoded
                or len(decoded) != 2
                or decoded[0] != "audit"
                or not isinstance(decoded[1], int)
            ):
                raise Invalid("after is not a cursor of audit events", field="after")
            before_id = int(decoded[1])
        stmt = audit_log.filtered_events(readable, _filter(filter))
        rows = audit_log.page_of_events(c.session, stmt, before_id=before_id, limit=first + 1)
        edges = [(e, encode_cursor(["audit", e.id])) for e in rows[:first]]
        return connection(
            AuditEventConnection,
            edges,
            has_next=len(rows) > first,
            total_count=lambda: audit_log.count_events(c.session, stmt),
        )

    @staticmethod
    def resolve_audit_chain_head(_root: Any, info: graphene.ResolveInfo) -> Any:
        c = ctx(info)
        if not policies.can_read_audit_chain_head(c.principal):
            raise Forbidden("only administrators and funder auditors read the chain head")
        seq, hash_ = audit_chain.head(c.session)
        unsealed = audit_chain.unsealed(c.session.connection())
        return AuditChainHead(seq=seq, hash=hash_.hex(), unsealed=unsealed)


def _filter(raw: Any) -> audit_log.AuditFilter:
    if raw is None:
        return audit_log.AuditFilter()
    return audit_log.AuditFilter(
        object_type=raw.object_type,
        object_id=raw.object_id,
        actor=raw.actor,
        action=raw.action,
        since=raw.since,
        until=raw.until,
    )
