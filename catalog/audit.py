"""Appending audit events. Callers append in the same transaction as the write they record, so
an event exists exactly when its write committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from catalog.models import AuditEvent
from catalog.principals import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    object_type: str,
    object_id: str,
    summary: dict[str, Any] | None = None,
) -> None:
    session.execute(
        insert(AuditEvent).values(
            actor=principal.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary or {},
        )
    )
