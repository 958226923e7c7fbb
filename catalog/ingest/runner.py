"""Running an ingest: pick the parser, stream the lines through the loaders, refuse the whole
file if any line has a problem, and write the audit trail.

``ingest_path`` owns its transaction (the ``atrium ingest`` command). ``ingest_file`` and
``ingest_records`` run inside the caller's transaction, in a savepoint, so a refused file
leaves nothing behind there either; they never commit.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog import audit, repository
from catalog.ingest.bundles import BundleLoader
from catalog.ingest.csv_records import parse_csv
from catalog.ingest.datasets import DatasetLoader
from catalog.ingest.events import AuditTrail
from catalog.ingest.files import Changes, FileLoader
from catalog.ingest.gen3 import GuidMode, parse_manifest
from catalog.ingest.problems import WHOLE_FILE, IngestFailed, Problem, Problems
from catalog.ingest.records import (
    Accepted,
    DatasetRecord,
    FileRecord,
    Parsed,
    parse_jsonl,
    parse_mappings,
)
from catalog.ingest.report import IngestReport
from catalog.ingest.writer import Writer
from catalog.models import Dataset

__all__ = ["IngestFailed", "IngestReport", "ingest_file", "ingest_path", "ingest_records"]

Format = Literal["jsonl", "csv", "gen3"]
FORMATS_BY_SUFFIX: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "gen3",
}
PROGRESS_EVERY = 10_000


def ingest_path(
    engine: Engine,
    path: Path,
    *,
    fmt: Format | None = None,
    dataset: str | None = None,
    gen3_ids: GuidMode = "id",
    console: Console | None = None,
) -> IngestReport:
    """Ingest a file in one transaction of its own, committed only if every line is good; then
    seal its audit events."""
    with Session(engine) as session:
        with session.begin():
            report = _ingest_file(session, path, fmt, dataset, gen3_ids, console)
        audit.seal_appended(session, wait=True)
    return report


def ingest_file(
    session: Session,
    path: Path,
    *,
    fmt: Format | None = None,
    dataset: str | None = None,
    gen3_ids: GuidMode = "id",
    console: Console | None = None,
) -> IngestReport:
    with session.begin_nested():
        return _ingest_file(session, path, fmt, dataset, gen3_ids, console)


def ingest_records(
    session: Session,
    records: Iterable[Mapping[str, Any]],
    *,
    source: str,
    console: Console | None = None,
) -> IngestReport:
    """Records already parsed from JSON Lines (generated ones, such as the demo catalog)."""
    with session.begin_nested(), _progress(console, None, source) as advance:
        return _ingest(session, parse_mappings(_counted(records, advance)), source=source)


def _ingest_file(
    session: Session,
    path: Path,
    fmt: Format | None,
    dataset: str | None,
    gen3_ids: GuidMode,
    console: Console | None,
) -> IngestReport:
    fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(FORMATS_BY_SUFFIX)
        _refuse(f"cannot tell the format from the extension (known: {known}); name the format")
    if fmt == "gen3":
        _check_target(session, dataset)
    elif dataset is not None:
        _refuse("a target dataset is only for Gen3 manifests; name datasets in the file")
    with path.open("rb") as handle, _progress(console, path.stat().st_size, path.name) as advance:
        lines = _read(handle, advance)
        if fmt == "jsonl":
            parsed = parse_jsonl(lines)
        elif fmt == "csv":
            parsed = parse_csv(lines)
        else:
            assert dataset is not None
            parsed = parse_manifest(lines, dataset=dataset, ids=gen3_ids)
        return _ingest(session, parsed, source=path.name)


def _ingest(session: Session, parsed: Iterator[Parsed], *, source: str) -> IngestReport:
    started = time.perf_counter()
    problems = Problems()
    report = IngestReport(source)
    audit = AuditTrail(session, source=source)
    changes: defaultdict[uuid.UUID, Changes] = defaultdict(Changes)
    with Writer(session) as writer:
        datasets = DatasetLoader(
            session, writer=writer, problems=problems, report=report, audit=audit
        )
        files = FileLoader(
            session,
            writer=writer,
            datasets=datasets,
            problems=problems,
            report=report,
            changes=changes,
        )
        bundles = BundleLoader(
            session,
            datasets=datasets,
            files=files,
            problems=problems,
            report=report,
            changes=changes,
        )
        for item in parsed:
            report.lines = item.line
            _dispatch(item, problems, datasets, files, bundles)
        files.flush()
        writer.wait()
        bundles.finish()
        if not problems:
            datasets.finish()
        files.close()
        problems.raise_if_any()
    _record_file_changes(session, audit, datasets, changes)
    report.seconds = time.perf_counter() - started
    return report


def _dispatch(
    item: Parsed,
    problems: Problems,
    datasets: DatasetLoader,
    files: FileLoader,
    bundles: BundleLoader,
) -> None:
    if not isinstance(item, Accepted):
        for message in item.messages:
            problems.add(item.line, message)
        if item.declares:
            datasets.refuse(item.declares)
    elif isinstance(item.record, FileRecord):
        files.add(item.line, item.record)
    elif isinstance(item.record, DatasetRecord):
        datasets.add(item.line, item.record)
    else:
        bundles.add(item.line, item.record)


def _record_file_changes(
    session: Session,
    audit: AuditTrail,
    datasets: DatasetLoader,
    changes: Mapping[uuid.UUID, Changes],
) -> None:
    """One ``files.registered`` event per dataset whose objects changed, and its ``updated_at``
    moved as ``service.register_files`` moves it."""
    touched = {dataset_id: c for dataset_id, c in changes.items() if c.touched}
    accessions = {ref.id: ref.accession for ref in datasets.refs.values()}
    for dataset_id, counted in touched.items():
        audit.add(
            "files.registered",
            object_type="dataset",
            object_id=accessions[dataset_id],
            new_files=counted.new_files,
            changed_files=counted.changed_files,
            new_bundles=counted.new_bundles,
            changed_bundles=counted.changed_bundles,
            bytes=counted.bytes,
        )
    audit.flush()
    moved = [dataset_id for dataset_id in touched if dataset_id not in datasets.created]
    if moved:
        session.execute(update(Dataset).where(Dataset.id.in_(moved)).values(updated_at=func.now()))


def _check_target(session: Session, dataset: str | None) -> None:
    if dataset is None:
        _refuse("a Gen3 manifest needs the accession of the dataset that receives its files")
    elif dataset not in repository.datasets_by_accessions(session, [dataset]):
        _refuse(f"no dataset {dataset} in the catalog")


def _refuse(message: str) -> None:
    raise IngestFailed([Problem(WHOLE_FILE, message)])


def _read(handle: BinaryIO, advance: Callable[[int], None]) -> Iterator[bytes]:
    done = 0
    for number, line in enumerate(handle, 1):
        done += len(line)
        if number % PROGRESS_EVERY == 0:
            advance(done)
        yield line
    advance(done)


def _counted(
    records: Iterable[Mapping[str, Any]], advance: Callable[[int], None]
) -> Iterator[Mapping[str, Any]]:
    for number, record in enumerate(records, 1):
        if number % PROGRESS_EVERY == 0:
            advance(number)
        yield record


@contextmanager
def _progress(
    console: Console | None, total: int | None, description: str
) -> Iterator[Callable[[int], None]]:
    """A progress bar over the bytes of the file read (or the records, when there is no
    file); nothing when there is no console."""
    if console is None:
        yield lambda done: None
        return
    columns = (
        [BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        if total is not None
        else [TextColumn("{task.completed:,} records")]
    )
    with Progress(TextColumn("{task.description}"), *columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)
