"""The floor under ingest speed: the CPU a file costs in the parts no ingest design can skip,
each measured alone with nothing else running, on the benchmark's own records.

    python tests/perf/bench_ingest_floor.py                 # 200,000 files, 4,000 datasets
    python tests/perf/bench_ingest_floor.py --files 1000000 --datasets 20000

1. validating a file's line by the API's input model (``RECORDS.validate_json``, as the ingest
   does: the same rules as the GraphQL mutations);
2. writing its row in COPY's text format (``catalog.ingest.files._copy_row``);
3. Postgres storing the row: COPY straight into ``drs_objects`` (its indexes, checks, foreign
   key and catalog-generation triggers), in chunks of 20,000 in one transaction as the ingest
   does, with no staging table and none of the ingest's duplicate or conflict checks.

Prints CPU microseconds per file for each and the most files per second that their sum allows on
this machine's cores if they overlapped perfectly. The datasets are created by a real ingest of
the records' dataset lines first.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from bench_ingest import create_organizations, fresh_database, process_cpu_seconds, write_records
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog.ingest.bulk import array_rows_value, text_value
from catalog.ingest.files import CHUNK, _copy_row
from catalog.ingest.records import RECORDS, FileRecord
from catalog.ingest.runner import ingest_path

COPY = (
    "COPY drs_objects (id, dataset_id, name, size, mime_type, version, description,"
    " created_time, checksums, access_methods) FROM STDIN"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--datasets", type=int, default=4_000)
    parser.add_argument("--work-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atrium-floor-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / "catalog.jsonl"
        write_records(path, files=args.files, datasets=args.datasets)
        lines = path.read_bytes().splitlines()
        files = [line for line in lines if line.startswith(b'{"type": "file"')]
        validate = per_file(files, RECORDS.validate_json)
        file_records = [r for r in map(RECORDS.validate_json, files) if isinstance(r, FileRecord)]
        write = per_file(list(enumerate(file_records)), lambda item: _copy_row(*item))
        with fresh_database(work_dir) as engine:
            create_organizations(engine)
            datasets = work_dir / "datasets.jsonl"
            datasets.write_bytes(b"\n".join(line for line in lines if b'"dataset"' in line[:20]))
            ingest_path(engine, datasets)
            store = postgres_per_file(engine, file_records)
    total = validate + write + store
    cores = os.cpu_count() or 1
    print(f"{len(file_records):,} files (load average {os.getloadavg()[0]:.1f}, {cores} cores)")
    print(f"  validate a line (pydantic, the API's rules): {validate:5.1f} µs")
    print(f"  write its COPY row:                          {write:5.1f} µs")
    print(f"  Postgres stores the row (no staging):        {store:5.1f} µs")
    print(
        f"  sum {total:.1f} µs: at most {cores / total * 1e6:,.0f} files/s on {cores} cores,"
        f" overlapping perfectly"
    )


def per_file(items: list[Any], work: Callable[[Any], object]) -> float:
    """CPU microseconds of this process per ``work(item)``. Results are dropped as they come,
    as the ingest streams them: keeping them all would time the garbage collector's walks
    over a growing heap."""
    started = time.process_time()
    for item in items:
        work(item)
    return (time.process_time() - started) / len(items) * 1e6


def postgres_per_file(engine: Engine, records: list[FileRecord]) -> float:
    """The Postgres backend's CPU microseconds per file for COPYing them into ``drs_objects``."""
    with engine.connect() as conn:
        found = conn.execute(text("SELECT accession, id FROM datasets")).all()
        ids: dict[str, uuid.UUID] = dict(found)
        rows = [direct_row(ids[r.dataset], r) for r in records]
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        before = process_cpu_seconds(pid)
        for start in range(0, len(rows), CHUNK):
            chunk = "".join(rows[start : start + CHUNK]).encode()
            cursor.copy_expert(COPY, io.BytesIO(chunk), size=len(chunk))
        spent = process_cpu_seconds(pid) - before
        conn.rollback()
    return spent / len(records) * 1e6


def direct_row(dataset_id: uuid.UUID, record: FileRecord) -> str:
    created = record.created_time
    fields = (
        record.id or str(uuid.uuid4()),
        str(dataset_id),
        text_value(record.name),
        str(record.size),
        text_value(record.mime_type),
        text_value(record.version),
        text_value(record.description),
        created.isoformat() if created else "now",
        text_value(orjson.dumps(record.checksum_values()).decode()),
        array_rows_value(record.access_method_rows()),
    )
    return "\t".join(fields) + "\n"


if __name__ == "__main__":
    main()
