"""`atrium ingest` of JSON Lines and CSV: what lands in Postgres, what a second run leaves alone,
what changed records change, and every problem pinned to its line with nothing written.

Each ingest runs in a savepoint of the test's rolled-back transaction (`ingest_file`), so a
refused file can be checked to have left nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.errors
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.demo import ensure_organizations
from catalog import demo, repository, service
from catalog.ingest import files as file_loader
from catalog.ingest.problems import MAX_PROBLEMS, IngestFailed
from catalog.ingest.report import IngestReport
from catalog.ingest.runner import ingest_file, ingest_records
from catalog.ingest.writer import SWITCH_SECONDS, Writer
from catalog.models import (
    AuditEvent,
    Committee,
    Dataset,
    DatasetStatus,
    DatasetVersion,
    DrsAlias,
    DrsObject,
    Organization,
)
from catalog.principals import SYSTEM
from catalog.schemas import FileCreate
from tests.factories import Factory

TABLES = (
    "datasets",
    "dataset_terms",
    "dataset_data_use",
    "dataset_funders",
    "publications",
    "dataset_versions",
    "drs_objects",
    "drs_aliases",
    "bundle_members",
)


@dataclass(frozen=True)
class Orgs:
    steward: Organization
    committee: Committee
    funder: Organization


@pytest.fixture
def orgs(factory: Factory) -> Orgs:
    steward = factory.organization()
    return Orgs(steward, factory.committee(steward), factory.organization("funder"))


@pytest.fixture
def accession(db: Session) -> Callable[[], str]:
    """Accessions no dataset has, drawn from the catalog's own sequence."""
    next_value = text("SELECT nextval('dataset_accession_seq')")
    return lambda: f"ATR-DS-{db.scalar(next_value):06d}"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def md5(value: str) -> str:
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


def a_dataset(orgs: Orgs, accession: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "dataset",
        "accession": accession,
        "title": f"Whole genomes of {accession}",
        "access_level": "open",
        "steward": orgs.steward.slug,
        **fields,
    }


def a_file(accession: str, object_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "file",
        "dataset": accession,
        "id": object_id,
        "name": f"{object_id}.cram",
        "size": 1000,
        "checksums": [
            {"type": "sha-256", "checksum": sha256(object_id)},
            {"type": "md5", "checksum": md5(object_id)},
        ],
        "access_methods": [{"type": "s3", "url": f"s3://bucket/{object_id}.cram"}],
        **fields,
    }


def jsonl(path: Path, *records: dict[str, Any] | str) -> Path:
    """Records as JSON Lines; a str is written as it is (a blank or broken line)."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def refused(db: Session, path: Path, **options: Any) -> list[str]:
    with pytest.raises(IngestFailed) as failure:
        ingest_file(db, path, **options)
    return [f"{p.line}: {p.message}" for p in failure.value.problems]


def count(db: Session, table: str) -> int:
    return db.scalar(text(f"SELECT count(*) FROM {table}")) or 0


def row_versions(db: Session) -> dict[str, list[str]]:
    """Where every row of the catalog lives: an UPDATE, even one that changes no value, moves a
    row to a new ctid, so equal maps mean that nothing was rewritten."""
    return {
        table: list(db.scalars(text(f"SELECT ctid::text FROM {table} ORDER BY ctid")))
        for table in TABLES
    }


def events(db: Session, action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.scalars(stmt))


def dataset(db: Session, accession: str) -> Dataset:
    found = repository.datasets_by_accessions(db, [accession]).get(accession)
    assert found is not None
    db.refresh(found)
    return found


def test_jsonl_loads_datasets_files_and_first_versions(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    published, draft = accession(), accession()
    rich = a_dataset(
        orgs,
        published,
        status="published",
        access_level="controlled",
        committee=orgs.committee.slug,
        description="Deeply sequenced tumours.",
        keywords=["cancer", "WGS"],
        diseases=["MONDO:0004992"],
        data_types=["WGS"],
        file_formats=["CRAM"],
        species=["Homo sapiens"],
        participant_count=120,
        sample_count=240,
        data_use={"permission": "DS", "diseases": ["MONDO:0004992"], "modifiers": ["NPU"]},
        funders=[{"funder": orgs.funder.slug, "award_number": "R01-1"}],
        license="CC-BY-4.0",
        publications=[{"scheme": "doi", "identifier": "10.1234/abc"}],
    )
    path = jsonl(
        tmp_path / "catalog.jsonl",
        rich,
        a_file(published, "tumour-1", aliases=["legacy/tumour-1"]),
        "",
        a_dataset(orgs, draft),
        a_file(published, "tumour-2", mime_type="application/octet-stream"),
        a_file(draft, "draft-1", size=5),
    )

    report = ingest_file(db, path)

    assert (report.datasets_created, report.datasets_published, report.files_new) == (2, 1, 3)
    assert report.lines == 6
    rich_row, draft_row = dataset(db, published), dataset(db, draft)
    assert (rich_row.status, rich_row.version) == (DatasetStatus.PUBLISHED, 1)
    assert rich_row.published_at is not None
    assert (draft_row.status, draft_row.version) == (DatasetStatus.DRAFT, 0)
    version = db.get(DatasetVersion, (rich_row.id, 1))
    assert version is not None
    assert version.published_by == SYSTEM.actor
    assert version.snapshot == service.snapshot(db, rich_row)
    assert version.snapshot["data_use"] == [["DS", "MONDO:0004992"], ["NPU", None]]
    assert version.snapshot["funders"] == [[orgs.funder.slug, "R01-1"]]
    assert version.snapshot["committee"] == orgs.committee.slug
    assert db.get(DatasetVersion, (draft_row.id, 1)) is None

    tumour = db.get(DrsObject, "tumour-1")
    assert tumour is not None
    assert (tumour.dataset_id, tumour.name, tumour.size) == (rich_row.id, "tumour-1.cram", 1000)
    assert tumour.checksums == {"sha-256": sha256("tumour-1"), "md5": md5("tumour-1")}
    assert tumour.access_methods == [["s3", "s3", "s3://bucket/tumour-1.cram", None]]
    assert repository.object_by_id_or_alias(db, "legacy/tumour-1") == tumour
    totals = repository.file_totals(db, [rich_row.id, draft_row.id])
    assert (totals[rich_row.id].files, totals[draft_row.id].bytes) == (2, 5)

    summaries = {(e.action, e.object_id): e.summary for e in events(db) if e.actor == SYSTEM.actor}
    assert summaries[("dataset.created", published)]["via"] == "ingest"
    assert summaries[("dataset.created", draft)]["source"] == "catalog.jsonl"
    assert summaries[("dataset.published", published)]["version"] == 1
    assert ("dataset.published", draft) not in summaries
    registered = summaries[("files.registered", published)]
    assert registered["new_files"] == 2
    assert registered["bytes"] == 2000
    assert registered["via"] == "ingest"
    assert summaries[("files.registered", draft)]["new_files"] == 1


def test_a_second_run_changes_nothing(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    path = jsonl(
        tmp_path / "catalog.jsonl",
        a_dataset(
            orgs,
            acc,
            status="published",
            diseases=["MONDO:0004992"],
            data_use={"permission": "GRU", "modifiers": ["NPU", "IRB"]},
            funders=[{"funder": orgs.funder.slug}],
            publications=[{"scheme": "pmid", "identifier": "123"}],
        ),
        *(a_file(acc, f"f-{i}", aliases=[f"alias-{i}"]) for i in range(5)),
        {
            "type": "bundle",
            "dataset": acc,
            "id": "b-1",
            "name": "all",
            "members": [{"name": f"m{i}", "object_id": f"f-{i}"} for i in range(5)],
        },
    )
    ingest_file(db, path)
    rows, audit = row_versions(db), len(events(db))
    updated_at = dataset(db, acc).updated_at

    again = ingest_file(db, path)

    assert row_versions(db) == rows
    assert len(events(db)) == audit
    assert dataset(db, acc).updated_at == updated_at
    assert (again.datasets_unchanged, again.files_unchanged, again.bundles_unchanged) == (1, 5, 1)
    assert again.datasets_created + again.datasets_updated + again.datasets_published == 0
    assert again.files_new + again.files_changed + again.bundles_new == 0


def test_a_changed_dataset_is_updated_and_published_again(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc, draft, quiet = accession(), accession(), accession()
    first = a_dataset(orgs, acc, status="published", keywords=["a"])
    ingest_file(
        db,
        jsonl(
            tmp_path / "v1.jsonl",
            first,
            a_dataset(orgs, draft),
            a_dataset(orgs, quiet, status="published"),
        ),
    )

    changed = {**first, "title": "Renamed", "keywords": ["a", "b"]}
    report = ingest_file(
        db,
        jsonl(
            tmp_path / "v2.jsonl",
            changed,
            a_dataset(orgs, draft, description="More."),
            a_dataset(orgs, quiet, license="CC0-1.0"),  # no status: still versioned
        ),
    )

    assert (report.datasets_updated, report.datasets_published) == (3, 2)
    assert dataset(db, quiet).version == 2
    row = dataset(db, acc)
    assert (row.title, row.keywords, row.version) == ("Renamed", ["a", "b"], 2)
    versions = repository.versions_of_datasets(db, [row.id])[row.id]
    assert [v.snapshot["title"] for v in versions] == ["Renamed", f"Whole genomes of {acc}"]
    updated = [e for e in events(db, "dataset.updated") if e.object_id == acc]
    assert [e.summary for e in updated] == [
        {"fields": ["keywords", "title"], "via": "ingest", "source": "v2.jsonl"}
    ]
    published = [e.summary for e in events(db, "dataset.published") if e.object_id == acc]
    assert published[-1] == {"version": 2, "via": "ingest", "source": "v2.jsonl"}
    still_draft = dataset(db, draft)
    assert (still_draft.description, still_draft.status) == ("More.", DatasetStatus.DRAFT)


def test_published_records_publish_drafts_and_draft_records_never_unpublish(
    db: Session, orgs: Orgs, factory: Factory, tmp_path: Path
) -> None:
    draft = factory.dataset(orgs.steward, title="Draft")
    live = factory.dataset(orgs.steward, title="Live", publish=True)
    path = jsonl(
        tmp_path / "catalog.jsonl",
        a_dataset(orgs, draft.accession, title="Draft", status="published"),
        a_dataset(orgs, live.accession, title="Live"),
    )

    report = ingest_file(db, path)

    assert (report.datasets_published, report.datasets_unchanged) == (1, 1)
    assert (dataset(db, draft.accession).status, dataset(db, draft.accession).version) == (
        DatasetStatus.PUBLISHED,
        1,
    )
    assert dataset(db, live.accession).status is DatasetStatus.PUBLISHED
    assert not [e for e in events(db, "dataset.updated") if e.object_id == live.accession]


def test_a_changed_file_is_updated_and_the_others_are_left_alone(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    first = a_file(acc, "f-1", aliases=["old"])
    ingest_file(db, jsonl(tmp_path / "v1.jsonl", a_dataset(orgs, acc), first, a_file(acc, "f-2")))
    untouched = row_versions(db)["drs_objects"]

    changed = {
        **first,
        "name": "renamed.cram",
        "size": 2000,
        "checksums": [{"type": "sha-256", "checksum": sha256("new")}],
        "access_methods": [
            {"type": "gs", "url": "gs://bucket/renamed.cram", "region": "us-central1"},
            {"type": "https", "url": "https://example.org/renamed.cram"},
        ],
        "aliases": ["new"],
    }
    report = ingest_file(
        db, jsonl(tmp_path / "v2.jsonl", a_dataset(orgs, acc), changed, a_file(acc, "f-2"))
    )

    assert (report.files_changed, report.files_unchanged) == (1, 1)
    db.expire_all()
    obj = db.get(DrsObject, "f-1")
    assert obj is not None
    assert (obj.name, obj.size) == ("renamed.cram", 2000)
    assert obj.checksums == {"sha-256": sha256("new")}
    assert [(access_id, region) for access_id, _, _, region in obj.access_methods] == [
        ("gs", "us-central1"),
        ("https", None),
    ]
    assert repository.aliases_of_objects(db, ["f-1"])["f-1"] == ["new"]
    assert repository.object_by_id_or_alias(db, "old") is None
    assert len(set(untouched) & set(row_versions(db)["drs_objects"])) == 1  # f-2 stayed put
    registered = [e.summary for e in events(db, "files.registered") if e.object_id == acc]
    assert registered[-1]["changed_files"] == 1
    assert registered[-1]["new_files"] == 0


def test_any_change_to_a_files_access_methods_is_found_and_only_that(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    two = [
        {"type": "s3", "url": "s3://bucket/x", "region": "us-east-1"},
        {"type": "https", "url": "https://example.org/x"},
    ]
    before = {
        "same": two,
        "region-set": two,
        "region-cleared": two,
        "url": two,
        "added": two[:1],
        "removed": two,
        "access-id": two[:1],
    }
    after = {
        "same": list(reversed(two)),
        "region-set": [two[0], {**two[1], "region": "eu"}],
        "region-cleared": [{"type": "s3", "url": "s3://bucket/x"}, two[1]],
        "url": [two[0], {**two[1], "url": "https://example.org/y"}],
        "added": two,
        "removed": two[:1],
        "access-id": [{**two[0], "access_id": "s3-main"}],
    }

    def load(name: str, methods: dict[str, list[dict[str, Any]]]) -> IngestReport:
        files = [a_file(acc, key, access_methods=value) for key, value in methods.items()]
        return ingest_file(db, jsonl(tmp_path / name, a_dataset(orgs, acc), *files))

    load("v1.jsonl", before)
    report = load("v2.jsonl", after)

    assert (report.files_changed, report.files_unchanged) == (6, 1)
    stored = repository.objects_by_ids(db, list(after))
    for key, methods in after.items():
        assert stored[key].access_methods == sorted(
            [m.get("access_id", m["type"]), m["type"], m["url"], m.get("region")] for m in methods
        ), key
    assert load("v3.jsonl", after).files_unchanged == len(after)


def test_created_time_is_kept(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    created = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)
    ingest_file(
        db,
        jsonl(
            tmp_path / "v1.jsonl",
            a_dataset(orgs, acc),
            a_file(acc, "old-file", created_time=created.isoformat()),
        ),
    )
    again = ingest_file(
        db, jsonl(tmp_path / "v2.jsonl", a_dataset(orgs, acc), a_file(acc, "old-file"))
    )

    obj = db.get(DrsObject, "old-file")
    assert obj is not None
    assert obj.created_time == created
    assert again.files_unchanged == 1


def test_files_may_join_datasets_already_in_the_catalog(
    db: Session, orgs: Orgs, factory: Factory, tmp_path: Path
) -> None:
    existing = factory.dataset(orgs.steward)
    report = ingest_file(db, jsonl(tmp_path / "files.jsonl", a_file(existing.accession, "late")))

    assert report.files_new == 1
    assert report.datasets_created == 0
    obj = db.get(DrsObject, "late")
    assert obj is not None
    assert obj.dataset_id == existing.id


def test_every_problem_is_reported_with_its_line(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc, unknown, refused_dataset = accession(), accession(), accession()
    path = jsonl(
        tmp_path / "bad.jsonl",
        a_dataset(orgs, acc),  # 1
        a_file(acc, "ok-1"),  # 2
        a_file(acc, "bad-sum", checksums=[{"type": "sha-256", "checksum": "xyz"}]),  # 3
        a_file(acc, "bad-size", size=-1),  # 4
        "{not json",  # 5
        {"type": "folder"},  # 6
        a_file(unknown, "orphan"),  # 7
        a_file(acc, "ok-1"),  # 8
        a_dataset(orgs, refused_dataset, steward="nobody", committee="no-dac"),  # 9
        a_dataset(  # 10
            orgs,
            accession(),
            diseases=["MONDO:0004992", "MONDO:9999999"],
            phenotypes=["MONDO:0004992"],
            funders=[{"funder": orgs.steward.slug}],
            data_use={"permission": "GRU", "modifiers": ["HMB"]},
        ),
        a_dataset(orgs, acc),  # 11
        a_file(acc, "ok-2", extra="field"),  # 12
    )

    problems = refused(db, path)

    assert problems == [
        "3: checksums[0]: 'xyz' is not a valid sha-256 checksum",
        "4: size: Input should be greater than or equal to 0 (got -1)",
        "5: Invalid JSON: key must be a string at line 1 column 2",
        "6: type: 'folder' is not one of 'dataset', 'file', 'bundle'",
        f"7: dataset: no dataset {unknown} in the catalog or on an earlier line",
        "8: id: 'ok-1' is already used on line 2",
        "9: committee: no committee 'no-dac'",
        "9: steward: no organization 'nobody'",
        "10: data_use.modifiers[0]: HMB is not a DUO data use modifier",
        "10: diseases[1]: MONDO:9999999 is not a known MONDO term",
        f"10: funders[0].funder: {orgs.steward.slug!r} is not a funder organization",
        "10: phenotypes[0]: MONDO:0004992 is not a known HP term",
        f"11: accession: {acc} is also on line 1",
        "12: extra: Extra inputs are not permitted",
    ]
    assert count(db, "datasets") == 0
    assert count(db, "drs_objects") == 0


def test_text_the_database_cannot_store_is_refused_with_its_line(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    path = jsonl(
        tmp_path / "nul.jsonl",
        a_dataset(orgs, acc, title="a\u0000b"),  # 1
        a_dataset(orgs, accession()),  # 2
        a_file(acc, "nul-name", name="x\u0000y"),  # 3
        a_file(acc, "nul-alias", aliases=["ok", "a\u0000"]),  # 4
    )

    problems = refused(db, path)

    message = "strings may not contain NUL characters or unpaired surrogates"
    assert problems[0] == f"1: title: {message}"
    assert f"4: aliases: {message}" in problems
    assert count(db, "datasets") == 0


def test_files_of_a_refused_dataset_are_not_reported_again(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    path = jsonl(
        tmp_path / "bad.jsonl",
        a_dataset(orgs, acc, access_level="secret"),
        a_file(acc, "f-1"),
    )

    assert refused(db, path) == [
        "1: access_level: Input should be 'open', 'registered' or 'controlled' (got 'secret')"
    ]


def test_ids_and_aliases_share_one_namespace(
    db: Session, orgs: Orgs, factory: Factory, tmp_path: Path
) -> None:
    mine, theirs = factory.dataset(orgs.steward), factory.dataset(orgs.steward)
    factory.files(theirs, 1, prefix="taken")
    service.register_files(
        db,
        SYSTEM,
        accession=mine.accession,
        files=[_file_create(f"mine-{i}", aliases=[f"legacy-{i}"]) for i in (1, 2, 3)],
    )
    path = jsonl(
        tmp_path / "clash.jsonl",
        a_file(mine.accession, "taken-00000"),  # 1: a file of another dataset
        a_file(mine.accession, "legacy-1"),  # 2: an alias already
        a_file(mine.accession, "new-1", aliases=["mine-1"]),  # 3: a DRS id already
        a_file(mine.accession, "new-2", aliases=["legacy-2"]),  # 4: another object's alias
        a_file(mine.accession, "new-3", aliases=["new-3"]),  # 5: its own id twice
        a_file(mine.accession, "new-4", aliases=["dup"]),  # 6
        a_file(mine.accession, "dup"),  # 7: the alias of line 6
        a_file(mine.accession, "mine-3", aliases=["legacy-3"]),  # 8: itself, unchanged
    )

    assert refused(db, path) == [
        f"1: id: 'taken-00000' already belongs to dataset {theirs.accession}",
        "2: id: 'legacy-1' is already an alias of DRS object 'mine-1'",
        "3: aliases: 'mine-1' is already a DRS id",
        "4: aliases: 'legacy-2' is already an alias of DRS object 'mine-2'",
        "5: aliases: 'new-3' is already used earlier in this record",
        "7: id: 'dup' is already used on line 6",
    ]


def _file_create(object_id: str, **fields: Any) -> FileCreate:
    record = a_file("", object_id, **fields)
    del record["type"], record["dataset"]
    return FileCreate.model_validate(record)


def test_repeated_ids_are_found_across_chunks(
    db: Session,
    orgs: Orgs,
    accession: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_loader, "CHUNK", 2)
    acc = accession()
    path = jsonl(
        tmp_path / "chunks.jsonl",
        a_dataset(orgs, acc),
        *(a_file(acc, f"f-{i}") for i in range(5)),  # lines 2-6, three chunks
        a_file(acc, "f-1"),  # 7
    )

    assert refused(db, path) == ["7: id: 'f-1' is already used on line 3"]
    assert count(db, "drs_objects") == 0


def test_aliases_and_ids_repeated_across_and_within_chunks_name_the_first_line(
    db: Session,
    orgs: Orgs,
    accession: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_loader, "CHUNK", 2)
    acc = accession()
    path = jsonl(
        tmp_path / "chunks.jsonl",
        a_dataset(orgs, acc),
        a_file(acc, "f-0", aliases=["old-0"]),  # 2, first chunk
        a_file(acc, "f-1"),  # 3
        a_file(acc, "f-2", aliases=["f-0"]),  # 4, second chunk
        a_file(acc, "f-3", aliases=["old-0", "new-3"]),  # 5
        a_file(acc, "f-1"),  # 6, third chunk: twice, and used in the first
        a_file(acc, "f-1"),  # 7
        a_file(acc, "f-4", aliases=["new-3"]),  # 8, fourth chunk
    )

    assert refused(db, path) == [
        "4: aliases: 'f-0' is already used on line 2",
        "5: aliases: 'old-0' is already used on line 2",
        "6: id: 'f-1' is already used on line 3",
        "7: id: 'f-1' is already used on line 3",
        "8: aliases: 'new-3' is already used on line 5",
    ]
    assert count(db, "drs_objects") == 0


def test_a_file_with_one_bad_line_at_the_end_writes_nothing(
    db: Session,
    orgs: Orgs,
    factory: Factory,
    accession: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(file_loader, "CHUNK", 3)
    existing = factory.dataset(orgs.steward, publish=True)
    before = {table: count(db, table) for table in (*TABLES, "audit_events")}
    acc = accession()
    records: list[dict[str, Any]] = [
        a_dataset(orgs, acc, status="published"),
        {**a_dataset(orgs, existing.accession), "title": "Changed", "status": "published"},
    ]
    records += [a_file(acc, f"f-{i}") for i in range(10)]
    records.append(a_file(acc, "last", size="big"))

    problems = refused(db, jsonl(tmp_path / "catalog.jsonl", *records))

    assert problems == [
        "13: size: Input should be a valid integer, unable to parse string as an integer"
        " (got 'big')"
    ]
    assert {table: count(db, table) for table in (*TABLES, "audit_events")} == before
    assert dataset(db, existing.accession).title != "Changed"


def test_a_row_the_database_refuses_fails_the_ingest_naming_its_rule(
    db: Session,
    orgs: Orgs,
    accession: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows that get past input validation (here a staging row spoilt on its way) still meet
    the database's own checks: the file is refused with the constraint's name, and nothing of
    it stays."""
    stage = file_loader._copy_row
    monkeypatch.setattr(
        file_loader,
        "_copy_row",
        lambda line, record: stage(line, record).replace('"md5": "', '"md5": "g'),
    )
    before = {table: count(db, table) for table in (*TABLES, "audit_events")}
    acc = accession()
    path = jsonl(tmp_path / "spoilt.jsonl", a_dataset(orgs, acc), a_file(acc, "f-1"))

    with pytest.raises(psycopg2.errors.CheckViolation) as refusal:
        ingest_file(db, path)

    assert refusal.value.diag.constraint_name == "ck_drs_objects_checksum_format"
    assert {table: count(db, table) for table in (*TABLES, "audit_events")} == before


def test_problems_stop_at_the_limit(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    path = jsonl(
        tmp_path / "bad.jsonl",
        *(a_file(acc, f"f-{i}", size=-1) for i in range(MAX_PROBLEMS + 50)),
    )

    with pytest.raises(IngestFailed) as failure:
        ingest_file(db, path)

    assert failure.value.truncated
    assert len(failure.value.problems) == MAX_PROBLEMS
    assert failure.value.problems[-1].line == MAX_PROBLEMS


def test_ingest_refuses_steward_moves_and_changes_to_retired_datasets(
    db: Session, orgs: Orgs, factory: Factory, tmp_path: Path
) -> None:
    elsewhere = factory.dataset(orgs.steward)
    retired = factory.dataset(orgs.steward, publish=True, files=1)
    service.retire_dataset(db, SYSTEM, accession=retired.accession, reason="Superseded.")
    other = factory.organization()
    path = jsonl(
        tmp_path / "catalog.jsonl",
        {**a_dataset(orgs, elsewhere.accession), "steward": other.slug},
        {**a_dataset(orgs, retired.accession), "title": "New title"},
        a_file(elsewhere.accession, "f-1"),
        a_file(retired.accession, "f-2"),
    )

    assert refused(db, path) == [
        f"1: steward: {elsewhere.accession} is stewarded by {orgs.steward.slug!r};"
        " an ingest cannot move it",
        f"2: {retired.accession} is retired; it cannot change",
        "4: id: 'f-2' cannot be added to a retired dataset",
    ]


def test_bundles_nest_and_take_their_members_sizes_and_checksums(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    path = jsonl(
        tmp_path / "bundles.jsonl",
        a_dataset(orgs, acc),
        a_file(acc, "r1", size=10),
        a_file(acc, "r2", size=20),
        {
            "type": "bundle",
            "dataset": acc,
            "id": "pair",
            "name": "pair",
            "members": [
                {"name": "read1", "object_id": "r1"},
                {"name": "read2", "object_id": "r2"},
            ],
        },
        a_file(acc, "index", size=5),
        {
            "type": "bundle",
            "dataset": acc,
            "id": "sample",
            "name": "sample",
            "description": "A sample and its index.",
            "members": [
                {"name": "reads", "object_id": "pair"},
                {"name": "index", "object_id": "index"},
            ],
        },
    )

    report = ingest_file(db, path)

    assert (report.files_new, report.bundles_new) == (3, 2)
    pair, sample = db.get(DrsObject, "pair"), db.get(DrsObject, "sample")
    assert pair is not None
    assert sample is not None
    assert (pair.is_bundle, pair.size, sample.size) == (True, 30, 35)
    pair_sum = service.bundle_checksum([{"sha-256": sha256("r1")}, {"sha-256": sha256("r2")}])
    assert pair.checksums == dict([pair_sum])
    sample_sum = service.bundle_checksum([{"sha-256": pair_sum[1]}, {"sha-256": sha256("index")}])
    assert sample.checksums == dict([sample_sum])
    assert (pair.access_methods, sample.access_methods) == ([], [])
    members = repository.members_of_bundles(db, ["sample"])["sample"]
    assert [(m.name, m.child_id) for m in members] == [("index", "index"), ("reads", "pair")]
    registered = [e.summary for e in events(db, "files.registered") if e.object_id == acc]
    assert (registered[0]["new_files"], registered[0]["new_bundles"]) == (3, 2)


def test_bundle_members_must_be_objects_of_the_dataset(
    db: Session, orgs: Orgs, factory: Factory, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc = accession()
    other = factory.dataset(orgs.steward)
    factory.files(other, 1, prefix="theirs")
    path = jsonl(
        tmp_path / "bundles.jsonl",
        a_dataset(orgs, acc),
        a_file(acc, "mine"),
        {
            "type": "bundle",
            "dataset": acc,
            "id": "b1",
            "name": "b1",
            "members": [
                {"name": "a", "object_id": "mine"},
                {"name": "b", "object_id": "missing"},
                {"name": "c", "object_id": "theirs-00000"},
                {"name": "d", "object_id": "b2"},
            ],
        },
        {
            "type": "bundle",
            "dataset": acc,
            "id": "b2",
            "name": "b2",
            "members": [
                {"name": "a", "object_id": "mine"},
            ],
        },
    )

    assert refused(db, path) == [
        f"3: members[1].object_id: 'missing' is not an object of {acc}",
        f"3: members[2].object_id: 'theirs-00000' is not an object of {acc}",
        "3: members[3].object_id: bundle 'b2' is declared later, on line 4;"
        " declare nested bundles first",
    ]


def test_records_from_a_generator(db: Session, orgs: Orgs, accession: Callable[[], str]) -> None:
    acc = accession()
    records = [a_dataset(orgs, acc, status="published"), a_file(acc, "gen-1")]

    report = ingest_records(db, iter(records), source="generator")

    assert (report.datasets_created, report.files_new) == (1, 1)
    created = [e for e in events(db, "dataset.created") if e.object_id == acc]
    assert created[0].summary["source"] == "generator"


def test_the_format_comes_from_the_extension(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "catalog.txt"
    path.write_text("{}\n")

    assert refused(db, path) == [
        "0: cannot tell the format from the extension (known: .jsonl, .ndjson, .csv, .tsv);"
        " name the format"
    ]
    assert refused(db, path, fmt="jsonl", dataset="ATR-DS-000001") == [
        "0: a target dataset is only for Gen3 manifests; name datasets in the file"
    ]


def test_first_version_snapshot_holds_every_field_in_canonical_order(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    """Terms in CURIE order whatever the record's order, pairs and publications sorted."""
    acc = accession()
    record = a_dataset(
        orgs,
        acc,
        status="published",
        access_level="controlled",
        committee=orgs.committee.slug,
        description="Tumours.",
        keywords=["WGS", "cancer"],
        diseases=["MONDO:0007254", "MONDO:0004992"],
        phenotypes=["HP:0001626", "HP:0000707"],
        data_types=["WGS"],
        file_formats=["CRAM", "BAM"],
        species=["Homo sapiens"],
        participant_count=12,
        sample_count=24,
        data_use={"permission": "DS", "diseases": ["MONDO:0007254"], "modifiers": ["NPU", "IRB"]},
        funders=[
            {"funder": orgs.funder.slug, "award_number": "R01-2"},
            {"funder": orgs.funder.slug},
        ],
        license="CC-BY-4.0",
        publications=[
            {"scheme": "pmid", "identifier": "42"},
            {"scheme": "doi", "identifier": "10.1234/abc"},
        ],
    )

    ingest_file(db, jsonl(tmp_path / "rich.jsonl", record))

    row = dataset(db, acc)
    version = db.get(DatasetVersion, (row.id, 1))
    assert version is not None
    assert version.snapshot == {
        "accession": acc,
        "title": f"Whole genomes of {acc}",
        "description": "Tumours.",
        "keywords": ["WGS", "cancer"],
        "diseases": ["MONDO:0004992", "MONDO:0007254"],
        "phenotypes": ["HP:0000707", "HP:0001626"],
        "data_types": ["WGS"],
        "file_formats": ["CRAM", "BAM"],
        "species": ["Homo sapiens"],
        "participant_count": 12,
        "sample_count": 24,
        "data_use": [["DS", "MONDO:0007254"], ["IRB", None], ["NPU", None]],
        "access_level": "controlled",
        "steward": orgs.steward.slug,
        "committee": orgs.committee.slug,
        "funders": [[orgs.funder.slug, ""], [orgs.funder.slug, "R01-2"]],
        "license": "CC-BY-4.0",
        "publications": ["doi:10.1234/abc", "pmid:42"],
    }
    assert service.snapshot(db, row) == version.snapshot


def test_first_versions_of_the_demo_catalog_are_the_service_snapshots(db: Session) -> None:
    """Every version an ingest publishes is what ``service.snapshot`` reads back, over the demo
    catalog's variety of terms, consents, funders and publications; the audit trail lists the
    creations, then the publications, each in file order, then the files."""
    ensure_organizations(db)
    records = list(demo.records(datasets=60, files_per_dataset=1, seed=5))
    accessions = [r["accession"] for r in records if r["type"] == "dataset"]
    published = [r["accession"] for r in records if r.get("status") == "published"]

    report = ingest_records(db, records, source="demo")

    trail = [(e.action, e.object_id) for e in events(db) if e.summary.get("source") == "demo"]
    datasets_trail = len(accessions) + len(published)
    assert trail[:datasets_trail] == [
        *(("dataset.created", a) for a in accessions),
        *(("dataset.published", a) for a in published),
    ]
    assert sorted(trail[datasets_trail:]) == [("files.registered", a) for a in accessions]
    datasets = repository.datasets_by_accessions(db, accessions)
    versions = db.scalars(
        select(DatasetVersion).where(DatasetVersion.dataset_id.in_(d.id for d in datasets.values()))
    ).all()
    assert len(versions) == report.datasets_published > 50
    snapshots = service.snapshots(db, list(datasets.values()))
    assert {v.dataset_id: v.snapshot for v in versions} == {
        v.dataset_id: snapshots[v.dataset_id] for v in versions
    }


def test_csv_datasets(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    acc, bad = accession(), accession()
    path = tmp_path / "datasets.csv"
    path.write_text(
        "accession,title,keywords,diseases,participant_count,data_use_permission,"
        "data_use_diseases,data_use_modifiers,access_level,steward,committee,funders,"
        "publications,status\n"
        f'{acc},"Tumours, deeply",cancer|WGS,MONDO:0004992,120,DS,MONDO:0004992,NPU|IRB,'
        f"controlled,{orgs.steward.slug},{orgs.committee.slug},"
        f"{orgs.funder.slug}=R01-1|{orgs.funder.slug},doi:10.1234/abc|pmid:42,published\n"
        "\n"
        f"{bad},Broken,,,-5,DS,,,open,{orgs.steward.slug},,,isbn:123,\n"
    )

    assert refused(db, path) == [
        "4: data_use_permission: DS (disease-specific research) needs at least one MONDO disease",
        "4: participant_count: Input should be greater than or equal to 0 (got '-5')",
        "4: publications[0]: 'isbn:123' is not doi:10.x/y or pmid:123",
    ]
    path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")
    report = ingest_file(db, path)

    assert (report.datasets_created, report.datasets_published) == (1, 1)
    row = dataset(db, acc)
    assert (row.title, row.keywords, row.participant_count) == (
        "Tumours, deeply",
        ["cancer", "WGS"],
        120,
    )
    snapshot = service.snapshot(db, row)
    assert snapshot["data_use"] == [["DS", "MONDO:0004992"], ["IRB", None], ["NPU", None]]
    assert snapshot["funders"] == [[orgs.funder.slug, ""], [orgs.funder.slug, "R01-1"]]
    assert snapshot["publications"] == ["doi:10.1234/abc", "pmid:42"]
    assert ingest_file(db, path).datasets_unchanged == 1


def test_csv_files(db: Session, orgs: Orgs, factory: Factory, tmp_path: Path) -> None:
    owner = factory.dataset(orgs.steward)
    acc = owner.accession
    path = tmp_path / "files.csv"
    path.write_text(
        "dataset,id,name,size,sha256,md5,mime_type,aliases,urls,region,created_time\n"
        f"{acc},c-1,a.cram,10,{sha256('a')},{md5('a')},application/octet-stream,old-a|older-a,"
        "s3://b/a.cram|https://x.org/a.cram|s3://mirror/a.cram,us-east-1,2020-01-02T03:04:05Z\n"
        f"{acc},c-2,b.cram,20,xyz,,,,ftp://x.org/b.cram|http://x.org/b.cram,,\n"
    )

    assert refused(db, path) == [
        "3: sha256: 'xyz' is not a valid sha-256 checksum",
        "3: urls[1]: 'http://x.org/b.cram' is not an s3://, gs://, https://, file:// or ftp:// URL",
    ]
    path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")
    assert ingest_file(db, path).files_new == 1

    obj = db.get(DrsObject, "c-1")
    assert obj is not None
    assert (obj.name, obj.size, obj.mime_type) == ("a.cram", 10, "application/octet-stream")
    assert obj.created_time == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert obj.access_methods == [
        ["https", "https", "https://x.org/a.cram", "us-east-1"],
        ["s3", "s3", "s3://b/a.cram", "us-east-1"],
        ["s3-2", "s3", "s3://mirror/a.cram", "us-east-1"],
    ]
    assert repository.aliases_of_objects(db, ["c-1"])["c-1"] == ["old-a", "older-a"]
    assert ingest_file(db, path).files_unchanged == 1


def test_csv_headers_are_checked(db: Session, tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("dataset,name,size,colour\n")
    neither = tmp_path / "neither.csv"
    neither.write_text("name,size\n")

    assert refused(db, unknown) == [
        "1: unknown file columns: colour; known: dataset, id, name, size, sha256, md5, crc32c,"
        " etag, mime_type, version, description, aliases, urls, region, created_time"
    ]
    assert refused(db, neither) == [
        "1: the header names neither datasets (a title column) nor files (dataset, name and"
        " size columns)"
    ]


def test_rows_of_every_table_are_written_through_copy(
    db: Session, orgs: Orgs, accession: Callable[[], str], tmp_path: Path
) -> None:
    """Values that need escaping in COPY text and in array literals arrive intact."""
    acc = accession()
    awkward = 'tab\there "quoted" back\\slash, {braces}\nnewline'
    path = jsonl(
        tmp_path / "awkward.jsonl",
        a_dataset(orgs, acc),
        a_file(
            acc,
            "awkward",
            name=awkward,
            description=awkward,
            aliases=[awkward, "NULL"],
            access_methods=[{"type": "https", "url": "https://x.org/a?b=c,d", "region": awkward}],
        ),
    )

    ingest_file(db, path)

    obj = db.get(DrsObject, "awkward")
    assert obj is not None
    assert (obj.name, obj.description) == (awkward, awkward)
    assert sorted(repository.aliases_of_objects(db, ["awkward"])["awkward"]) == sorted(
        [awkward, "NULL"]
    )
    assert obj.access_methods == [["https", "https", "https://x.org/a?b=c,d", awkward]]
    assert ingest_file(db, path).files_unchanged == 1
    assert db.scalar(select(func.count()).select_from(DrsAlias)) == 2


def test_csv_file_rows_need_a_checksum_and_a_url(
    db: Session, orgs: Orgs, factory: Factory, tmp_path: Path
) -> None:
    owner = factory.dataset(orgs.steward)
    path = tmp_path / "files.csv"
    path.write_text(f"dataset,name,size,md5,urls\n{owner.accession},a.cram,1,,\n")

    assert refused(db, path) == [
        "2: sha256 or md5 or crc32c or etag: List should have at least 1 item after validation,"
        " not 0",
        "2: urls: List should have at least 1 item after validation, not 0",
    ]


def test_the_writer_hands_the_gil_over_promptly_while_it_is_open(db: Session) -> None:
    """Its statements release the GIL; with Python's 5 ms slices, getting it back again made
    the writer the bottleneck. The interpreter's setting is restored, on failure too."""
    before = sys.getswitchinterval()
    seen: list[float] = []
    with Writer(db) as writer:
        writer.submit(lambda: seen.append(sys.getswitchinterval()))
        writer.wait()
    assert seen == [pytest.approx(SWITCH_SECONDS)]
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), Writer(db):
        raise RuntimeError("the ingest failed")
    assert sys.getswitchinterval() == before


def test_overlapping_writers_restore_the_interval_once_the_last_closes(db: Session) -> None:
    before = sys.getswitchinterval()
    first, second = Writer(db), Writer(db)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == pytest.approx(SWITCH_SECONDS)  # the second is still open
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
