"""``atrium worker``: runs background jobs against Postgres until told to stop.

A job is a function that handles one bounded batch in the transaction it is given and returns
how many items it handled; the worker opens and commits that transaction, so a job that fails
leaves nothing half-written and the next pass retries it. Jobs run in turn; when a whole pass
handles nothing, the worker sleeps, longer each idle pass up to ``idle_seconds``, and wakes at
once on SIGINT or SIGTERM to stop cleanly between batches. Add a job by appending it to
``build_jobs``; nothing else changes.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.search_backend import build_search_backend
from api.settings import Settings
from catalog import audit, audit_chain
from governance import expiry
from governance.delivery import WebhookDelivery
from search import outbox

log = logging.getLogger(__name__)

FIRST_IDLE_SECONDS = 1.0
MAX_BATCHES_PER_DRAIN = 10_000
"""A bound on ``--once``: a job that never runs dry is a bug, not a reason to hang cron."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Session, datetime], int]


def build_jobs(settings: Settings, http: httpx.Client) -> list[Job]:
    """The jobs of this deployment. Without a webhook, notifications are kept (and readable in
    GraphQL) but not pushed anywhere."""
    lead = timedelta(days=settings.grant_reminder_days)
    search = build_search_backend(settings)
    jobs = [
        Job("audit sealing", lambda s, now: audit_chain.seal(s, wait=False)),
        Job("search indexing", lambda s, now: outbox.drain_batch(s, search, now=now)),
        Job("grant expiry reminders", lambda s, now: expiry.remind_expiring(s, now, lead=lead)),
        Job("grant expiry events", expiry.record_expired),
    ]
    if settings.notify_webhook_url:
        secret = settings.notify_webhook_secret
        jobs.append(
            Job(
                "notification delivery",
                WebhookDelivery(
                    url=settings.notify_webhook_url,
                    secret=secret.get_secret_value().encode() if secret else b"",
                    client=http,
                    max_attempts=settings.notify_max_attempts,
                    backoff_seconds=settings.notify_backoff_seconds,
                ),
            )
        )
    return jobs


@dataclass
class Worker:
    engine: Engine
    jobs: Sequence[Job]
    clock: Callable[[], datetime] = _now

    def run_job(self, job: Job) -> int | None:
        """One batch of ``job`` in its own transaction; None when it failed."""
        try:
            with Session(self.engine) as session:
                with session.begin():
                    handled = job.run(session, self.clock())
                audit.seal_appended(session)
                return handled
        except Exception:
            log.exception("job %r failed; it will be retried", job.name)
            return None

    def run_pass(self) -> tuple[int, bool]:
        """Each job once: items handled, and whether every job succeeded."""
        results = [self.run_job(job) for job in self.jobs]
        return sum(r or 0 for r in results), None not in results

    def drain(self) -> bool:
        """Run every job until it has nothing due (``--once``); whether all succeeded."""
        ok = True
        for job in self.jobs:
            for _ in range(MAX_BATCHES_PER_DRAIN):
                handled = self.run_job(job)
                ok = ok and handled is not None
                if not handled:
                    break
        return ok

    def run_until(self, stop: threading.Event, *, idle_seconds: float) -> None:
        idle = FIRST_IDLE_SECONDS
        while not stop.is_set():
            handled, _ = self.run_pass()
            if handled:
                idle = FIRST_IDLE_SECONDS
                continue
            stop.wait(idle)
            idle = min(idle * 2, idle_seconds)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs; the old handlers come back."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s; stopping after the current batch", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(settings: Settings, engine: Engine, *, once: bool) -> int:
    with httpx.Client(timeout=10, follow_redirects=False) as http:
        worker = Worker(engine, build_jobs(settings, http))
        if once:
            return 0 if worker.drain() else 1
        with stop_on_signals() as stop:
            worker.run_until(stop, idle_seconds=settings.worker_idle_seconds)
    return 0
