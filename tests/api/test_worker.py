"""`atrium worker` against a committed database: `--once` drains what is due and exits; the
loop stops cleanly on SIGTERM; without a webhook, notifications wait and are not lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.auth.issuer import BuiltinIssuer
from api.cli import main
from api.database import prepare
from api.worker import Job, Worker, stop_on_signals
from catalog.audit_chain import verify
from catalog.db import make_engine
from catalog.models import AuditEvent
from governance.models import AccessGrant, Notification, NotificationKind
from search.models import SearchDocument, SearchOutbox
from tests.factories import Factory
from tests.governance.webhook_server import Receiver, receiver


@pytest.fixture
def engine(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    engine = make_engine(committed_database_url, pool_size=2)
    prepare(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def expired_grant(engine: Engine, issuer: BuiltinIssuer) -> AccessGrant:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        factory = Factory(session, issuer=issuer)
        grant = factory.grant("gina", factory.dataset(publish=True, access_level="controlled"))
        now = datetime.now(UTC)
        session.execute(
            update(AccessGrant)
            .where(AccessGrant.id == grant.id)
            .values(starts_at=now - timedelta(days=9), expires_at=now - timedelta(seconds=1))
        )
    return grant


def stored(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.scalars(select(Notification)))


def test_once_records_the_expiry_and_delivers_it(
    engine: Engine, issuer: BuiltinIssuer, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATRIUM_NOTIFY_WEBHOOK_URL", hook.url)
    monkeypatch.setenv("ATRIUM_NOTIFY_WEBHOOK_SECRET", "s3cret")
    grant = expired_grant(engine, issuer)

    assert main(["worker", "--once"]) == 0

    (row,) = stored(engine)
    assert (row.kind, row.attempts, row.payload["grant_id"]) == (
        NotificationKind.GRANT_EXPIRED,
        1,
        str(grant.id),
    )
    assert row.delivered_at is not None
    assert len(hook.received) == 1
    assert main(["worker", "--once"]) == 0
    assert len(hook.received) == 1, "nothing is announced or sent twice"


def test_without_a_webhook_notifications_wait_and_are_not_lost(
    engine: Engine, issuer: BuiltinIssuer
) -> None:
    expired_grant(engine, issuer)

    assert main(["worker", "--once"]) == 0

    (row,) = stored(engine)
    assert (row.kind, row.attempts, row.delivered_at, row.parked_at) == (
        NotificationKind.GRANT_EXPIRED,
        0,
        None,
        None,
    )


def test_a_failing_job_does_not_stop_the_others(engine: Engine) -> None:
    def broken(_session: Session, _now: datetime) -> int:
        raise RuntimeError("boom")

    ran: list[str] = []

    def counting(_session: Session, _now: datetime) -> int:
        ran.append("ok")
        return 0

    worker = Worker(engine, [Job("broken", broken), Job("counting", counting)])

    assert worker.drain() is False
    assert ran == ["ok"]


def test_the_loop_stops_on_sigterm(engine: Engine) -> None:
    passes: list[float] = []

    def idle(_session: Session, _now: datetime) -> int:
        passes.append(time.monotonic())
        return 0

    worker = Worker(engine, [Job("idle", idle)])
    previous = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    with stop_on_signals() as stop:
        timer.start()
        worker.run_until(stop, idle_seconds=60)

    assert time.monotonic() - started < 5, "the signal ends the idle sleep at once"
    assert passes, "the loop ran its jobs before stopping"
    assert signal.getsignal(signal.SIGTERM) is previous, "the old handler is back"


def test_once_seals_the_audit_chain_and_indexes_every_change(
    engine: Engine, issuer: BuiltinIssuer
) -> None:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        accessions = [factory.dataset(steward, publish=True).accession for _ in range(3)]

    assert main(["worker", "--once"]) == 0

    with Session(engine) as session:
        assert session.scalars(select(SearchOutbox)).all() == []
        indexed = set(session.scalars(select(SearchDocument.accession)))
        unsealed = session.scalars(select(AuditEvent).where(AuditEvent.hash.is_(None))).all()
    with engine.connect() as connection:
        assert verify(connection).intact
    assert set(accessions) <= indexed
    assert unsealed == []
