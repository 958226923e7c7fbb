"""The audit chain: sealing, the canonical form, tampering the verifier must name, the one update
the database lets through, and many writers committing at once."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.database import prepare
from catalog import audit
from catalog.audit_chain import (
    GENESIS,
    Event,
    NotCanonical,
    canonical,
    event_hash,
    seal,
    unsealed,
    verify,
)
from catalog.db import make_engine
from catalog.principals import SYSTEM


def _append(session: Session, count: int, *, prefix: str = "ATR-DS-") -> None:
    for n in range(count):
        audit.record(
            session,
            SYSTEM,
            "dataset.updated",
            object_type="dataset",
            object_id=f"{prefix}{n:06d}",
            summary={"changed": ["title"], "n": n},
        )


def _chain(session: Session) -> list[tuple[int, int]]:
    """(seq, id) of the sealed events, in chain order."""
    rows = session.execute(
        text("SELECT seq, id FROM audit_events WHERE seq IS NOT NULL ORDER BY seq")
    ).all()
    return [(row.seq, row.id) for row in rows]


def _unguarded(session: Session, sql: str, **params: object) -> None:
    """Change the table as an intruder with the owner's rights would: trigger off, then on."""
    session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    session.execute(text(sql), params)
    session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


@pytest.fixture
def sealed(db: Session) -> list[tuple[int, int]]:
    """Five sealed events (after whatever the database held); their (seq, id)."""
    seal(db)
    before = len(_chain(db))
    _append(db, 5)
    assert seal(db) == 5
    return _chain(db)[before:]


def test_canonical_form_is_exactly_as_the_adr_defines() -> None:
    event = Event(
        seq=1,
        id=7,
        occurred_at=datetime(2026, 11, 30, 12, 0, 0, 5, tzinfo=UTC),
        actor="ada@https://issuer.example",
        action="dataset.created",
        object_type="dataset",
        object_id="ATR-DS-000001",
        summary={"title": 'Zürich "pilot"\n', "b": [1, True, None], "a": {"z": 0, "é": -3}},
    )

    form = canonical(event, GENESIS)

    assert (
        form
        == (
            '[1,7,"2026-11-30T12:00:00.000005Z","ada@https://issuer.example","dataset.created",'
            '"dataset","ATR-DS-000001",{"a":{"z":0,"é":-3},"b":[1,true,null],'
            '"title":"Zürich \\"pilot\\"\\n"},"' + "0" * 64 + '"]'
        ).encode()
    )
    assert event_hash(event, GENESIS) == hashlib.sha256(form).digest()


def test_canonical_form_sorts_keys_by_utf16_code_units() -> None:
    """RFC 8785 order: U+FF61 (one code unit 0xFF61) sorts after U+1F600 (0xD83D 0xDE00)."""
    event = Event(1, 1, datetime(2026, 1, 1, tzinfo=UTC), "a", "b", "c", "d", {"｡": 1, "😀": 2})

    assert b'{"\xf0\x9f\x98\x80":2,"\xef\xbd\xa1":1}' in canonical(event, GENESIS)


def test_record_refuses_a_summary_with_a_fraction(db: Session) -> None:
    with pytest.raises(NotCanonical):
        audit.record(
            db, SYSTEM, "x.y", object_type="dataset", object_id="A", summary={"ratio": 0.5}
        )


def test_sealing_chains_events_in_id_order_and_verifies(
    db: Session, sealed: list[tuple[int, int]]
) -> None:
    seqs = [seq for seq, _ in sealed]
    ids = [id_ for _, id_ in sealed]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert ids == sorted(ids)
    assert unsealed(db.connection()) == 0

    result = verify(db.connection())

    assert result.intact, result.broken
    assert result.head_seq == seqs[-1] == result.events
    head = db.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": seqs[-1]})
    assert result.head_hash == bytes(head.scalar_one())


def test_sealing_again_extends_the_chain_from_its_head(
    db: Session, sealed: list[tuple[int, int]]
) -> None:
    _append(db, 2, prefix="ATR-DS-9")

    assert seal(db) == 2
    assert seal(db) == 0
    chain = _chain(db)
    assert [seq for seq, _ in chain] == list(range(1, len(chain) + 1))
    assert verify(db.connection()).intact


def test_changed_summary_is_named(db: Session, sealed: list[tuple[int, int]]) -> None:
    seq, id_ = sealed[2]
    _unguarded(db, "UPDATE audit_events SET summary = '{\"n\": 99}' WHERE id = :id", id=id_)

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == (seq, id_)
    assert broken.problem == "hash does not match the event's content"


def test_changed_actor_with_recomputed_hash_breaks_the_next_link(
    db: Session, sealed: list[tuple[int, int]]
) -> None:
    """An intruder who rehashes the event they changed still breaks its successor's link."""
    seq, id_ = sealed[1]
    row = db.execute(
        text(
            "SELECT occurred_at, action, object_type, object_id, summary, prev_hash"
            " FROM audit_events WHERE id = :id"
        ),
        {"id": id_},
    ).one()
    forged = Event(seq, id_, row[0], "mallory", row[1], row[2], row[3], row[4])
    _unguarded(
        db,
        "UPDATE audit_events SET actor = 'mallory', hash = :h WHERE id = :id",
        h=event_hash(forged, bytes(row.prev_hash)),
        id=id_,
    )

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == sealed[2]
    assert broken.problem == "prev_hash is not the hash of the event before it"


def test_deleted_event_is_a_gap(db: Session, sealed: list[tuple[int, int]]) -> None:
    _unguarded(db, "DELETE FROM audit_events WHERE id = :id", id=sealed[1][1])

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == sealed[2]
    assert "missing" in broken.problem


def test_reordered_events_are_detected(db: Session, sealed: list[tuple[int, int]]) -> None:
    (seq_a, id_a), (seq_b, id_b) = sealed[1], sealed[3]
    _unguarded(
        db,
        "UPDATE audit_events SET seq = 999999 WHERE id = :a;"
        " UPDATE audit_events SET seq = :sa WHERE id = :b;"
        " UPDATE audit_events SET seq = :sb WHERE id = :a",
        a=id_a,
        b=id_b,
        sa=seq_a,
        sb=seq_b,
    )

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == (seq_a, id_b)


def test_forked_event_is_detected(db: Session, sealed: list[tuple[int, int]]) -> None:
    """Event 4 made to follow event 2 (a fork) with a consistent hash of its own."""
    fork_seq, fork_id = sealed[3]
    prev = db.execute(
        text("SELECT hash FROM audit_events WHERE id = :id"), {"id": sealed[1][1]}
    ).scalar_one()
    _unguarded(
        db, "UPDATE audit_events SET prev_hash = :p WHERE id = :id", p=bytes(prev), id=fork_id
    )

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == (fork_seq, fork_id)
    assert broken.problem == "prev_hash is not the hash of the event before it"


def test_fraction_written_behind_the_api_is_reported_not_raised(
    db: Session, sealed: list[tuple[int, int]]
) -> None:
    seq, id_ = sealed[0]
    _unguarded(db, "UPDATE audit_events SET summary = '{\"r\": 0.5}' WHERE id = :id", id=id_)

    broken = verify(db.connection()).broken

    assert broken is not None
    assert (broken.seq, broken.id) == (seq, id_)
    assert broken.problem.startswith("summary is not canonical")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET summary = '{}' WHERE id = :id",
        "UPDATE audit_events SET hash = :h WHERE id = :id",
        "UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ],
)
def test_database_refuses_changes_to_sealed_events(
    db: Session, sealed: list[tuple[int, int]], sql: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(sql), {"id": sealed[0][1], "h": b"\x01" * 32})


def test_database_allows_sealing_but_no_other_change_to_unsealed_events(db: Session) -> None:
    _append(db, 1, prefix="ATR-DS-7")
    id_ = db.execute(text("SELECT max(id) FROM audit_events")).scalar_one()
    seal_values = {"id": id_, "h": b"\x02" * 32}
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(
            text(
                "UPDATE audit_events SET seq = 999999, prev_hash = :h, hash = :h,"
                " actor = 'mallory' WHERE id = :id"
            ),
            seal_values,
        )
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), seal_values)
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("TRUNCATE audit_events"))

    db.execute(
        text("UPDATE audit_events SET seq = 999999, prev_hash = :h, hash = :h WHERE id = :id"),
        seal_values,
    )


def test_concurrent_writers_make_one_chain(committed_database_url: str) -> None:
    """Eight writers commit events while they (and a ninth thread) seal: one line, every
    committed event in it exactly once, no gaps, and it verifies."""
    engine = make_engine(committed_database_url, pool_size=10)
    prepare(engine)
    writers, transactions, per_transaction = 8, 15, 3
    failures: list[BaseException] = []
    done = threading.Event()

    def write(writer: int) -> None:
        try:
            for t in range(transactions):
                with Session(engine) as session:
                    with session.begin():
                        _append(session, per_transaction, prefix=f"W{writer}-{t}-")
                    audit.seal_appended(session)
        except BaseException as exc:
            failures.append(exc)

    def keep_sealing() -> None:
        while not done.is_set():
            with Session(engine) as session, session.begin():
                seal(session)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    sealer = threading.Thread(target=keep_sealing)
    sealer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sealer.join()
    with Session(engine) as session, session.begin():
        seal(session)

    assert failures == []
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, object_id FROM audit_events ORDER BY seq")).all()
        forks = conn.execute(
            text("SELECT count(*) - count(DISTINCT prev_hash) FROM audit_events")
        ).scalar_one()
        result = verify(conn)
    total = writers * transactions * per_transaction
    assert [seq for seq, _ in rows] == list(range(1, total + 1))
    assert len({object_id for _, object_id in rows}) == total
    assert forks == 0
    assert result.intact
    assert result.events == total
    engine.dispose()


def test_verify_streams_in_batches(
    db: Session, sealed: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Constant memory: rows arrive a batch at a time, never all at once."""
    monkeypatch.setattr("catalog.audit_chain.VERIFY_BATCH", 2)
    seen: list[int] = []

    result = verify(db.connection(), progress=seen.append)

    assert seen == [2, 4, 5]
    assert result.intact
