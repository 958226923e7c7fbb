"""Migrating a Gen3 file index: indexing manifests (TSV) loaded as the files of one dataset, with
GUIDs kept as DRS ids where they fit and as aliases where they do not."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import repository
from catalog.ingest.problems import IngestFailed
from catalog.ingest.runner import ingest_file
from catalog.models import Dataset, DrsObject
from tests.factories import Factory

HEADER = "guid\tmd5\tsize\tauthz\tacl\turls\tfile_name"
AUTHZ = "/programs/tcga/projects/brca"


@pytest.fixture
def target(factory: Factory) -> Dataset:
    return factory.dataset(factory.organization(), access_level="controlled")


def md5(value: str) -> str:
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


def manifest(path: Path, header: str, *rows: tuple[object, ...]) -> Path:
    path.write_text("\n".join([header, *("\t".join(map(str, row)) for row in rows)]) + "\n")
    return path


def row(guid: str, urls: str, name: str = "", authz: str = AUTHZ) -> tuple[object, ...]:
    return (guid, md5(guid), 1024, authz, "['phs000178']", urls, name)


def refused(db: Session, path: Path, **options: str) -> list[str]:
    with pytest.raises(IngestFailed) as failure:
        ingest_file(db, path, **options)  # type: ignore[arg-type]
    return [f"{p.line}: {p.message}" for p in failure.value.problems]


def objects(db: Session, dataset: Dataset) -> list[DrsObject]:
    stmt = select(DrsObject).where(DrsObject.dataset_id == dataset.id).order_by(DrsObject.name)
    return list(db.scalars(stmt))


def test_guids_that_fit_become_drs_ids(db: Session, target: Dataset, tmp_path: Path) -> None:
    guid = str(uuid.uuid4())
    path = manifest(
        tmp_path / "manifest.tsv",
        HEADER,
        row(guid, "s3://tcga/brca/a.bam gs://mirror/brca/a.bam https://x.org/a.bam", "a.bam"),
    )

    report = ingest_file(db, path, dataset=target.accession)

    assert report.files_new == 1
    obj = db.get(DrsObject, guid)
    assert obj is not None
    assert (obj.dataset_id, obj.name, obj.size) == (target.id, "a.bam", 1024)
    assert obj.checksums == {"md5": md5(guid)}
    assert obj.access_methods == [
        ["gs", "gs", "gs://mirror/brca/a.bam", None],
        ["https", "https", "https://x.org/a.bam", None],
        ["s3", "s3", "s3://tcga/brca/a.bam", None],
    ]
    assert repository.aliases_of_objects(db, [guid]) == {}


def test_prefixed_guids_keep_their_uuid_as_id_and_the_guid_as_alias(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    tail = str(uuid.uuid4())
    guid = f"dg.4503/{tail}"
    path = manifest(tmp_path / "manifest.tsv", HEADER, row(guid, "s3://tcga/brca/b.bam", "b.bam"))

    ingest_file(db, path, dataset=target.accession)

    obj = repository.object_by_id_or_alias(db, guid)
    assert obj is not None
    assert obj.id == tail
    assert repository.aliases_of_objects(db, [tail])[tail] == [guid]
    assert ingest_file(db, path, dataset=target.accession).files_unchanged == 1


def test_guids_as_aliases_of_minted_ids_are_found_again(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    guids = [str(uuid.uuid4()), f"dg.4503/{uuid.uuid4()}"]
    path = manifest(
        tmp_path / "manifest.tsv",
        HEADER,
        *(row(g, f"s3://tcga/brca/{i}.bam", f"{i}.bam") for i, g in enumerate(guids)),
    )

    ingest_file(db, path, dataset=target.accession, gen3_ids="alias")

    minted = {o.id: o for o in objects(db, target)}
    aliases = repository.aliases_of_objects(db, list(minted))
    assert sorted(a for found in aliases.values() for a in found) == sorted(guids)
    assert all(str(uuid.UUID(object_id)) == object_id for object_id in minted)
    assert not set(minted) & set(guids)

    again = ingest_file(db, path, dataset=target.accession, gen3_ids="alias")

    assert again.files_unchanged == 2
    assert {o.id for o in objects(db, target)} == set(minted)


def test_a_manifest_that_mixes_authz_is_refused(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    path = manifest(
        tmp_path / "manifest.tsv",
        HEADER,
        row(str(uuid.uuid4()), "s3://b/1.bam", "1.bam"),
        row(str(uuid.uuid4()), "s3://b/2.bam", "2.bam"),
        row(str(uuid.uuid4()), "s3://b/3.bam", "3.bam", authz="/programs/tcga/projects/luad"),
    )

    assert refused(db, path, dataset=target.accession) == [
        "4: authz: ['/programs/tcga/projects/luad'] differs from ['/programs/tcga/projects/brca']"
        " on line 2; Atrium decides access per dataset, so split the manifest into one dataset"
        " per value"
    ]
    assert objects(db, target) == []


def test_the_name_defaults_to_the_last_segment_of_the_first_url(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    named, folder = str(uuid.uuid4()), str(uuid.uuid4())
    header = "GUID\tmd5\tsize\turl"
    path = manifest(
        tmp_path / "manifest.tsv",
        header,
        (named, md5(named), 7, "[s3://b/dir/my%20file.vcf.gz, gs://m/other.vcf.gz]"),
        (folder, md5(folder), 7, "s3://b/dir/"),
    )

    assert refused(db, path, dataset=target.accession) == [
        "3: file_name: empty, and the first URL does not end in a file name"
    ]
    path = manifest(tmp_path / "manifest.tsv", header, (named, md5(named), 7, "s3://b/x/my.vcf"))
    ingest_file(db, path, dataset=target.accession)
    obj = db.get(DrsObject, named)
    assert obj is not None
    assert obj.name == "my.vcf"


def test_bracketed_url_lists_and_repeated_schemes(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    guid = str(uuid.uuid4())
    path = manifest(
        tmp_path / "manifest.tsv",
        "guid\tmd5\tsize\turls\tfilename",
        (guid, md5(guid), 3, "['s3://one/a%20b.txt', 's3://two/a%20b.txt']", ""),
    )

    ingest_file(db, path, dataset=target.accession)

    obj = db.get(DrsObject, guid)
    assert obj is not None
    assert obj.name == "a b.txt"
    assert [(access_id, url) for access_id, _, url, _ in obj.access_methods] == [
        ("s3", "s3://one/a%20b.txt"),
        ("s3-2", "s3://two/a%20b.txt"),
    ]


def test_rows_are_checked_with_the_manifest_s_own_column_names(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    path = manifest(
        tmp_path / "manifest.tsv",
        HEADER,
        ("", md5("x"), 1, AUTHZ, "", "s3://b/x", "x"),
        ("bad-1", "not-an-md5", "-1", AUTHZ, "", "s3://b/y", "y"),
        ("odd guid/with space", md5("z"), 1, AUTHZ, "", "http://b/z", "z"),
        ("dup-1", md5("v"), 1, AUTHZ, "", "s3://b/v", "v"),
        ("dup-1", md5("w"), 1, AUTHZ, "", "s3://b/w", "w"),
    )

    assert refused(db, path, dataset=target.accession) == [
        "2: guid: required",
        "3: md5: 'not-an-md5' is not a valid md5 checksum",
        "3: size: Input should be greater than or equal to 0 (got '-1')",
        "4: guid: 'odd guid/with space' cannot be a DRS id; ingest with Gen3 GUIDs as aliases"
        " instead",
        "4: urls: List should have at least 1 item after validation, not 0",
        "4: urls[0]: 'http://b/z' is not an s3://, gs://, https://, file:// or ftp:// URL",
        "6: id: 'dup-1' is already used on line 5",
    ]


def test_manifest_headers_and_options_are_checked(
    db: Session, target: Dataset, tmp_path: Path
) -> None:
    odd = manifest(tmp_path / "odd.tsv", "guid\tmd5\tsize\tcolour")
    good = manifest(tmp_path / "good.tsv", HEADER, row(str(uuid.uuid4()), "s3://b/a", "a"))

    assert refused(db, odd, dataset=target.accession) == [
        "1: missing Gen3 manifest columns: urls",
        "1: unknown Gen3 manifest columns: colour; known: acl, authz, file_md5sum, file_name,"
        " file_size, filename, filesize, guid, md5, md5_hash, md5hash, md5sum, size, url, urls",
    ]
    assert refused(db, good) == [
        "0: a Gen3 manifest needs the accession of the dataset that receives its files"
    ]
    assert refused(db, good, dataset="ATR-DS-999999") == [
        "0: no dataset ATR-DS-999999 in the catalog"
    ]
    assert db.scalar(select(func.count()).select_from(DrsObject)) == 0
