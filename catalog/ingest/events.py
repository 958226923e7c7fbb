"""The audit trail of an ingest: events appended in bulk, in the ingest's own transaction, each
saying which file the change came from. They are inserted unsealed like any other event; the
ingest's caller seals them after its commit (``catalog.audit_chain.seal``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from catalog.audit import APPENDED
from catalog.audit_chain import check_summary
from catalog.ingest.bulk import insert_rows
from catalog.models import AuditEvent
from catalog.principals import SYSTEM


class AuditTrail:
    def __init__(self, session: Session, *, source: str) -> None:
        self.session = session
        self.context = {"via": "ingest", "source": source}
        self._rows: list[dict[str, Any]] = []

    def add(self, action: str, *, object_type: str, object_id: str, **summary: Any) -> None:
        check_summary(summary)
        self._rows.append(
            {
                "actor": SYSTEM.actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "summary": {**summary, **self.context},
            }
        )

    def flush(self) -> None:
        insert_rows(self.session, AuditEvent, self._rows)
        if self._rows:
            self.session.info[APPENDED] = True
        self._rows = []
