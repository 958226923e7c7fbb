"""The tamper-evident audit chain: sealing committed events into one hash chain, and verifying
it. docs/adr/0004-audit-chain.md defines the canonical form an outside auditor re-implements.

Writers never chain anything: ``catalog.audit`` inserts events unsealed, so appending holds no
other writer back. ``seal`` runs in a transaction of its own, after the writers' commits, and
gives every committed unsealed event the next position, its predecessor's hash and its own.
Sealers take one advisory lock, so two never extend the chain from the same head.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

GENESIS = bytes(32)
"""The ``prev_hash`` of the first event."""

SEAL_LOCK = 0x41_75_64_69_74  # "Audit": the advisory lock key every sealer takes
SEAL_BATCH = 5_000
VERIFY_BATCH = 10_000

_UNSEALED = text(
    "SELECT id, occurred_at, actor, action, object_type, object_id, summary::text"
    " FROM audit_events WHERE seq IS NULL ORDER BY id LIMIT :limit"
)
_HEAD = text("SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
_SEAL = text(
    "UPDATE audit_events e SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:prevs AS bytea[]),"
    " CAST(:hashes AS bytea[])) AS s(id, seq, prev_hash, hash)"
    " WHERE e.id = s.id AND e.id BETWEEN :low AND :high"
)
_CHAIN = text(
    "SELECT seq, id, occurred_at, actor, action, object_type, object_id, summary::text,"
    " prev_hash, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq"
)


@dataclass(frozen=True)
class Event:
    """The hashed content of one event."""

    seq: int
    id: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: Any


class NotCanonical(ValueError):
    """A summary holds a value the canonical form has no spelling for (a non-integer number)."""


def _refuse(number: str) -> Any:
    raise NotCanonical(f"no canonical form for the number {number}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_DECODER = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse)
_ABOVE_E000 = re.compile("[\ue000-\U0010ffff]")


def canonical(event: Event, prev_hash: bytes) -> bytes:
    """The bytes an event's hash covers: a JSON array canonicalized as in RFC 8785, whose
    numbers are all integers (see the ADR).

    The C encoder of ``json`` writes exactly that when every key sorts the same by code point
    as by UTF-16 code unit, which can only differ once a character at or above U+E000 occurs;
    then the slower exact writer runs instead.
    """
    utc = event.occurred_at.astimezone(UTC).replace(tzinfo=None)
    occurred = utc.isoformat(timespec="microseconds") + "Z"
    fields = [
        event.seq,
        event.id,
        occurred,
        event.actor,
        event.action,
        event.object_type,
        event.object_id,
        event.summary,
        prev_hash.hex(),
    ]
    form = _ENCODER.encode(fields)
    if _ABOVE_E000.search(form):
        form = _json(fields)
    return form.encode()


def check_summary(summary: Any) -> None:
    """Refuse a summary the chain could not seal, before it is written."""
    _json(summary)


def event_hash(event: Event, prev_hash: bytes) -> bytes:
    return hashlib.sha256(canonical(event, prev_hash)).digest()


def _json(value: Any) -> str:
    """RFC 8785 for values without fractions; refuses what it cannot spell."""
    if value is None or isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_json(k)}:{_json(value[k])}" for k in keys) + "}"
    raise NotCanonical(f"no canonical form for {type(value).__name__} {value!r}")


def parse_summary(stored: str) -> Any:
    """A summary as stored (jsonb text), refusing the numbers the canonical form has no
    spelling for."""
    return _DECODER.decode(stored)


def seal(session: Session, *, wait: bool = True) -> int:
    """Chain every committed unsealed event, in id order; the number sealed.

    Call it in a transaction that has written nothing else and commit right after: events the
    caller's own transaction inserted would be sealed too, and the lock held until its end.
    With ``wait=False`` it returns 0 at once if another sealer is running; that sealer, or the
    next, picks the events up.
    """
    if wait:
        session.execute(text("SET LOCAL lock_timeout = 0"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})
    elif not session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK}
    ).scalar_one():
        return 0
    seq, prev = head(session)
    sealed = 0
    while rows := session.execute(_UNSEALED, {"limit": SEAL_BATCH}).all():
        ids, seqs, prevs, hashes = [], [], [], []
        for row in rows:
            seq += 1
            digest = event_hash(_event(seq, row), prev)
            ids.append(row.id)
            seqs.append(seq)
            prevs.append(prev)
            hashes.append(digest)
            prev = digest
        session.execute(
            _SEAL,
            {
                "ids": ids,
                "seqs": seqs,
                "prevs": prevs,
                "hashes": hashes,
                "low": ids[0],
                "high": ids[-1],
            },
        )
        sealed += len(rows)
    return sealed


def head(session: Session) -> tuple[int, bytes]:
    """Position and hash of the last sealed event; (0, GENESIS) before the first."""
    row = session.execute(_HEAD).one_or_none()
    return (int(row.seq), bytes(row.hash)) if row else (0, GENESIS)


def _event(seq: int, row: Any) -> Event:
    return Event(
        seq=seq,
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        summary=parse_summary(row.summary),
    )


@dataclass(frozen=True)
class Break:
    """The first event at which the chain does not hold."""

    seq: int
    id: int
    problem: str


@dataclass(frozen=True)
class Verification:
    events: int
    seconds: float
    head_seq: int
    head_hash: bytes
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def verify(
    connection: Connection, *, progress: Callable[[int], None] | None = None
) -> Verification:
    """Recompute the chain from its first event, streaming it with a server-side cursor so
    memory stays constant; stop at the first break."""
    started = time.perf_counter()
    result = connection.execute(
        _CHAIN, execution_options={"stream_results": True, "yield_per": VERIFY_BATCH}
    )
    checked, prev, broken = 0, GENESIS, None
    for rows in result.partitions(VERIFY_BATCH):
        checked, prev, broken = _check(rows, checked, prev)
        if progress is not None:
            progress(checked)
        if broken is not None:
            break
    result.close()
    return Verification(
        events=checked,
        seconds=time.perf_counter() - started,
        head_seq=checked,
        head_hash=prev,
        broken=broken,
    )


def _check(
    rows: Iterable[Sequence[Any]], checked: int, prev: bytes
) -> tuple[int, bytes, Break | None]:
    """Check the rows that follow ``checked`` good events, the last of which hashed to
    ``prev``; rows are ``_CHAIN``'s columns."""
    for row in rows:
        seq, id_, expected = row[0], row[1], checked + 1
        if seq != expected:
            problem = f"seq {seq} where {expected} was expected: an event is missing or moved"
            return checked, prev, Break(seq, id_, problem)
        if bytes(row[8]) != prev:
            problem = "prev_hash is not the hash of the event before it"
            return checked, prev, Break(seq, id_, problem)
        try:
            occurred_at, actor, action, object_type, object_id = row[2:7]
            summary = parse_summary(row[7])
            event = Event(seq, id_, occurred_at, actor, action, object_type, object_id, summary)
            digest = event_hash(event, prev)
        except NotCanonical as exc:
            return checked, prev, Break(seq, id_, f"summary is not canonical: {exc}")
        if digest != bytes(row[9]):
            problem = "hash does not match the event's content"
            return checked, prev, Break(seq, id_, problem)
        checked, prev = expected, digest
    return checked, prev, None


def unsealed(connection: Connection) -> int:
    """Committed events not yet in the chain."""
    count: int = connection.execute(
        text("SELECT count(*) FROM audit_events WHERE seq IS NULL")
    ).scalar_one()
    return count
