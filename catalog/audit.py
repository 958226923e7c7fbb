"""Appending audit events. Callers append in the same transaction as the write they record, so
an event exists exactly when its write committed. Events are inserted unsealed; the transaction
boundary that committed them calls ``catalog.audit_chain.seal`` (see ``APPENDED``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from catalog.audit_chain import check_summary, seal
from catalog.models import AuditEvent
from catalog.principals import Principal

APPENDED = "audit_appended"
"""Key of ``Session.info`` set when the session's transaction appended events, so the code that
commits it knows to seal them afterwards."""


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    object_type: str,
    object_id: str,
    summary: dict[str, Any] | None = None,
) -> None:
    check_summary(summary or {})
    session.execute(
        insert(AuditEvent).values(
            actor=principal.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary or {},
        )
    )
    session.info[APPENDED] = True


def seal_appended(session: Session, *, wait: bool = False) -> int:
    """Seal right after a commit that appended events, in a short transaction of its own; the
    number sealed. Without ``wait`` a running sealer makes this a no-op (see ``seal``)."""
    if not session.info.pop(APPENDED, False):
        return 0
    with session.begin():
        return seal(session, wait=wait)
