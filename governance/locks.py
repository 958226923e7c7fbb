"""Bounded row locks for workflow commands.

Commands that change a request or its reviews first lock the request row, so two members
deciding at once are serialised: the second sees the first's decision and is refused. The wait
is bounded by a transaction-local ``lock_timeout``; when it runs out the caller gets ``Busy``
(retry later) instead of a hung request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from catalog.db import is_lock_timeout
from catalog.errors import Busy

LOCK_TIMEOUT_MS = 2000


@contextmanager
def bounded_lock_wait(session: Session, timeout_ms: int = LOCK_TIMEOUT_MS) -> Iterator[None]:
    """Run the block's ``FOR UPDATE`` reads with a bounded wait; a timeout becomes ``Busy``."""
    session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    try:
        yield
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise Busy("another change to this request is in progress; retry shortly") from exc
        raise
