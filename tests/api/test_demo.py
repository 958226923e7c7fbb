"""`atrium demo --no-serve`: a small catalog loads, loads again without changes, and its local
files hold the bytes their checksums promise."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import main
from catalog import demo
from catalog.db import make_engine
from catalog.models import AuditEvent, Dataset, DatasetStatus, DrsObject, User


@pytest.fixture
def demo_env(committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    return committed_database_url


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    with Session(engine) as session:
        found = {
            "datasets": session.scalar(select(func.count()).select_from(Dataset)) or 0,
            "objects": session.scalar(select(func.count()).select_from(DrsObject)) or 0,
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            "retired": session.scalar(
                select(func.count())
                .select_from(Dataset)
                .where(Dataset.status == DatasetStatus.RETIRED)
            )
            or 0,
            "users": session.scalar(select(func.count()).select_from(User)) or 0,
        }
    engine.dispose()
    return found


def test_demo_loads_idempotently_with_real_local_files(
    demo_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--no-serve", "--datasets", "60", "--files-per-dataset", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "STEWARD_TOKEN=" in printed
    first = counts(demo_env)
    assert first["datasets"] == 60
    assert first["objects"] == 60 * 3 + 12 * 2  # every fifth dataset is local, with 2 bundles
    statuses = [
        next(demo.dataset_records(n, files_per_dataset=0, seed=42))["status"] for n in (7, 57)
    ]
    assert statuses == ["draft", "published"]
    assert first["retired"] == 1  # one in fifty is retired if published: dataset 57
    assert first["users"] == 6
    assert main(args) == 0
    assert counts(demo_env) == first

    engine = make_engine(demo_env, pool_size=1)
    with Session(engine) as session:
        local = session.execute(
            select(DrsObject.id, DrsObject.checksums["sha-256"].astext).where(
                DrsObject.id.like("atr-ds-000005-f%")
            )
        ).all()
    engine.dispose()
    assert len(local) == 3
    files = sorted((tmp_path / "files" / "ATR-DS-000005").iterdir())
    assert len(files) == 3
    digests = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert digests == {checksum for _, checksum in local}
