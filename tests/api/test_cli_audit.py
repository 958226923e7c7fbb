"""`atrium audit seal` and `atrium audit verify` against a database they commit to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.cli import main
from api.database import prepare
from catalog import audit
from catalog.db import make_engine
from catalog.principals import SYSTEM


@pytest.fixture
def engine(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A migrated database holding three committed, unsealed events."""
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    engine = make_engine(committed_database_url, pool_size=1)
    prepare(engine)
    with Session(engine) as session, session.begin():
        for n in range(3):
            audit.record(
                session, SYSTEM, "dataset.created", object_type="dataset", object_id=f"D{n}"
            )
    yield engine
    engine.dispose()


def _sealed(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_events ORDER BY id")).scalars().all())


def test_seal_chains_committed_events(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sealed(engine) == [None, None, None]

    assert main(["audit", "seal"]) == 0

    assert "3 events sealed" in capsys.readouterr().err
    assert _sealed(engine) == [1, 2, 3]


def test_verify_seals_first_and_reports_an_intact_chain(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0

    out = capsys.readouterr().out
    assert "3 events verified" in out
    assert "events/s" in out
    assert "0 not yet sealed" in out
    assert "chain intact" in out


def test_verify_without_sealing_counts_what_waits(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", "--no-seal"]) == 0

    out = capsys.readouterr().out
    assert "0 events verified" in out
    assert "3 not yet sealed" in out
    assert _sealed(engine) == [None, None, None]


def test_verify_names_the_tampered_event_and_fails(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "seal"]) == 0
    with engine.begin() as conn:
        id_ = conn.execute(text("SELECT id FROM audit_events WHERE seq = 2")).scalar_one()
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(
            text("UPDATE audit_events SET object_id = 'forged' WHERE id = :id"), {"id": id_}
        )
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    capsys.readouterr()

    assert main(["audit", "verify"]) == 1

    out = capsys.readouterr().out
    assert "1 events verified" in out
    assert f"BROKEN at seq 2 (event id {id_}): hash does not match the event's content" in out
    assert "chain intact" not in out
