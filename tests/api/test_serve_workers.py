"""`atrium serve --workers 2`: the parent migrates and owns the database, two worker
processes built by the app factory answer GraphQL and DRS from the same catalog; a worker app
outside `serve` and a worker count below one are refused; a server's start-up heap is kept out
of garbage collections."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from api.cli import main
from api.coalesced_writes import PROTOCOL
from api.server import GC_YOUNG_THRESHOLD, serve, settle_heap, worker_app
from api.settings import Settings
from tests.api.test_drs_client_e2e import free_port, stop

BIN = Path(sys.executable).parent
START_SECONDS = 60


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def spawned_workers(pid: int) -> list[int]:
    """Children running multiprocessing's spawn entry point (not its resource tracker)."""
    workers = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            workers.append(child)
    return workers


@pytest.fixture
def served(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ATRIUM_LOG_LEVEL", "warning")
    for name in ("ATRIUM_HOST", "ATRIUM_PORT", "ATRIUM_PUBLIC_BASE_URL", "ATRIUM_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--no-serve", "--datasets", "4", "--files-per-dataset", "2"]) == 0
    port = free_port()
    command = [str(BIN / "atrium"), "serve", "--port", str(port), "--workers", "2"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"serve not healthy in {START_SECONDS} s:\n{log.read_text()[-3000:]}")
        yield base, server
    finally:
        stop(server)


def test_two_worker_processes_serve_one_catalog(
    served: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, server = served
    assert len(spawned_workers(server.pid)) == 2
    query = "{ datasets(first: 10) { totalCount edges { node { accession } } } }"
    with httpx.Client(base_url=base, timeout=10) as http:
        answers = [http.post("/graphql", json={"query": query}).json() for _ in range(6)]
        first = answers[0]["data"]["datasets"]
        assert first["totalCount"] == 4
        assert all(a == answers[0] for a in answers)
        missing = http.get("/ga4gh/drs/v1/objects/no-such-object")
        assert missing.status_code == 404
        assert missing.json()["status_code"] == 404


def test_the_workers_end_with_the_server(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    _base, server = served
    workers = spawned_workers(server.pid)
    stop(server)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    assert all(not Path(f"/proc/{w}").exists() for w in workers)


def test_a_worker_app_needs_the_database_the_parent_prepared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ATRIUM_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit, match="--workers"):
        worker_app()


def test_fewer_than_one_worker_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match="at least 1"):
        main(["serve", "--workers", "0"])


def test_the_heap_a_server_starts_with_is_kept_out_of_collections() -> None:
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        garbage: list[object] = []
        garbage.append(garbage)
        del garbage
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_uvicorn_with_one_write_per_response(
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    started: list[str] = []

    class Server:
        def __init__(self, config: uvicorn.Config) -> None:
            started.append(config.http)  # type: ignore[arg-type]

        def run(self) -> None:
            pass

    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve hands workers its settings
    monkeypatch.setattr(uvicorn, "Server", Server)
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: started.append(options["http"]))
    indexless = settings.model_copy(update={"workers": workers, "index_in_process": False})
    assert serve(indexless, engine=engine) == 0
    assert started == [PROTOCOL]
