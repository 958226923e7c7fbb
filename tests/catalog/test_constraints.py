"""Integrity held by Postgres itself, whatever path the rows take (ORM, COPY, a psql session).

Rows are written with raw SQL, each attempt in a savepoint, and every refusal is pinned to the
constraint (or trigger) that made it, next to a valid row that the same statement accepts.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import CHECKSUM_FORMATS, Dataset, DrsObject, Organization
from tests.factories import Factory

CHECK_VIOLATION = "23514"
UNIQUE_VIOLATION = "23505"
INSUFFICIENT_PRIVILEGE = "42501"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def execute(db: Session, sql: str, **params: Any) -> Any:
    with db.begin_nested():
        return db.execute(text(sql), params)


def refused(db: Session, sql: str, **params: Any) -> DBAPIError:
    """Run ``sql`` in a savepoint that Postgres must refuse; the session stays usable."""
    with pytest.raises(DBAPIError) as caught:
        execute(db, sql, **params)
    return caught.value


def assert_violates(error: DBAPIError, constraint: str, code: str = CHECK_VIOLATION) -> None:
    assert isinstance(error, IntegrityError), error
    assert error.orig is not None
    assert (error.orig.pgcode, error.orig.diag.constraint_name) == (code, constraint), error


@pytest.fixture
def steward(factory: Factory) -> Organization:
    return factory.organization()


@pytest.fixture
def dataset(factory: Factory, steward: Organization) -> Dataset:
    return factory.dataset(steward)


INSERT_OBJECT = (
    "INSERT INTO drs_objects (id, dataset_id, name, size, is_bundle, checksums, access_methods)"
    " VALUES (:id, :dataset_id, :name, :size, :is_bundle, CAST(:checksums AS jsonb),"
    " CAST(:access_methods AS text[]))"
)
S3_METHOD = '{{"s3","s3","s3://bucket/key","us-east-1"}}'


def object_row(dataset: Dataset, object_id: str, **changes: Any) -> dict[str, Any]:
    """A file with a sha-256 and one access method, as raw SQL parameters; ``checksums`` may be
    a dict (sent as its JSON) or the JSON text itself."""
    row: dict[str, Any] = {
        "id": object_id,
        "dataset_id": dataset.id,
        "name": "sample.cram",
        "size": 1,
        "is_bundle": False,
        "checksums": {"sha-256": SHA256},
        "access_methods": S3_METHOD,
        **changes,
    }
    if isinstance(row["checksums"], dict):
        row["checksums"] = json.dumps(row["checksums"])
    return row


def insert_object(
    db: Session, dataset: Dataset, object_id: str, *, size: int = 1, is_bundle: bool = False
) -> None:
    methods = "{}" if is_bundle else S3_METHOD
    execute(
        db,
        INSERT_OBJECT,
        **object_row(dataset, object_id, size=size, is_bundle=is_bundle, access_methods=methods),
    )


INSERT_DATASET = (
    "INSERT INTO datasets (id, accession, title, access_level, steward_id, status, version,"
    " retired_at) VALUES (gen_random_uuid(), :accession, 'A dataset', 'open', :steward_id,"
    " :status, :version, :retired_at) RETURNING accession"
)


def dataset_row(steward: Organization, **changes: Any) -> dict[str, Any]:
    row = {
        "accession": f"ATR-DS-{uuid.uuid4().int % 10**9:09d}",
        "steward_id": steward.id,
        "status": "draft",
        "version": 0,
        "retired_at": None,
    }
    return {**row, **changes}


# --- DRS objects --------------------------------------------------------------------------------


def test_negative_file_size_is_refused(db: Session, dataset: Dataset) -> None:
    execute(db, INSERT_OBJECT, **object_row(dataset, "empty-file", size=0))

    error = refused(db, INSERT_OBJECT, **object_row(dataset, "negative-file", size=-1))

    assert_violates(error, "ck_drs_objects_size_non_negative")


@pytest.mark.parametrize(
    "object_id", ["a/b", "../etc/passwd", "with space", "", "ünïcode"], ids=repr
)
def test_drs_id_outside_the_unreserved_characters_is_refused(
    db: Session, dataset: Dataset, object_id: str
) -> None:
    execute(db, INSERT_OBJECT, **object_row(dataset, "Az09._~-"))

    error = refused(db, INSERT_OBJECT, **object_row(dataset, object_id))

    assert_violates(error, "ck_drs_objects_id_format")


@pytest.mark.parametrize(
    "checksum",
    [SHA256.upper(), SHA256[:-1], SHA256 + "0", "g" * 64, f" {SHA256[1:]}", f"sha256:{SHA256}"],
    ids=["uppercase", "63-chars", "65-chars", "not-hex", "leading-space", "prefixed"],
)
def test_sha256_checksum_must_be_64_lowercase_hex(
    db: Session, dataset: Dataset, checksum: str
) -> None:
    insert_object(db, dataset, "checked")

    row = object_row(dataset, "unchecked", checksums={"md5": "0" * 32, "sha-256": checksum})
    error = refused(db, INSERT_OBJECT, **row)

    assert_violates(error, "ck_drs_objects_checksum_format")


HEX_LENGTHS = {"sha-256": 64, "sha-512": 128, "sha1": 40, "md5": 32, "crc32c": 8, "trunc512": 48}
ETAG = "d41d8cd98f00b204e9800998ecf8427e"


def hex_digits(length: int) -> str:
    """Lower-case hex digits, letters first (so that upper-casing changes them)."""
    return ("fedcba9876543210" * 9)[:length]


def wrong_hex(length: int) -> dict[str, str]:
    """Values a hex checksum of ``length`` digits must not take, by what is wrong."""
    valid = hex_digits(length)
    return {
        "short": valid[:-1],
        "long": valid + "0",
        "uppercase": valid.upper(),
        "not-hex": valid[:-1] + "g",
        "trailing-newline": valid + "\n",
        "empty": "",
    }


WRONG_CHECKSUMS = (
    [
        pytest.param(kind, value, id=f"{kind}-{problem}")
        for kind, length in {**HEX_LENGTHS, "etag": 32}.items()
        for problem, value in wrong_hex(length).items()
    ]
    + [
        pytest.param("etag", f"{ETAG}-{suffix}", id=f"etag-suffix-{suffix!r}")
        for suffix in ["", "123456", "1a", "-1", "1-1", " 1"]
    ]
    + [pytest.param("etag", f"{ETAG}0-1", id="etag-long-before-suffix")]
)


@pytest.mark.parametrize(
    ("checksum_type", "checksum"),
    [(kind, hex_digits(length)) for kind, length in HEX_LENGTHS.items()]
    + [("etag", ETAG), ("etag", f"{ETAG}-1"), ("etag", f"{ETAG}-99999")],
)
def test_each_checksum_type_accepts_its_format(
    db: Session, dataset: Dataset, checksum_type: str, checksum: str
) -> None:
    execute(db, INSERT_OBJECT, **object_row(dataset, "object", checksums={checksum_type: checksum}))


@pytest.mark.parametrize(("checksum_type", "checksum"), WRONG_CHECKSUMS)
def test_each_checksum_type_refuses_other_formats(
    db: Session, dataset: Dataset, checksum_type: str, checksum: str
) -> None:
    row = object_row(dataset, "object", checksums={checksum_type: checksum})
    error = refused(db, INSERT_OBJECT, **row)

    assert_violates(error, "ck_drs_objects_checksum_format")


def checksum_candidates() -> list[tuple[str, str]]:
    """(type, value) pairs around every format's edges: each length near the right one, in
    valid hex and with one wrong character at each end, and etags with every suffix shape."""
    pieces = ["", "0", "9", "a", "f", "A", "g", "-", " ", "\n", "é"]
    candidates = []
    for kind, length in {**HEX_LENGTHS, "etag": 32}.items():
        for n in range(max(length - 2, 0), length + 3):
            valid = hex_digits(n)
            candidates += [(kind, valid + piece) for piece in pieces]
            candidates += [(kind, piece + valid) for piece in pieces]
    for suffix in ["", "1", "12345", "123456", "00000", "1a", "-1", "1-", "a", " 1", "1\n"]:
        for n in (31, 32, 33):
            candidates.append(("etag", f"{(ETAG + '0')[:n]}-{suffix}"))
    return candidates


def checksum_verdicts(
    conn: Connection | Session, constraint: str = "ck_drs_objects_checksum_format"
) -> list[tuple[str, str, bool, bool]]:
    """For each candidate: a checksum format constraint of the database, evaluated by Postgres,
    next to the bounded regex of CHECKSUM_FORMATS (the patterns the constraint used before
    migration 0009). The constraint is that of ``drs_objects.checksums`` or, before migration
    0011, of the ``checksums`` table (columns ``type`` and ``checksum``)."""
    definition = conn.execute(
        text("SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conname = :name"),
        {"name": constraint},
    ).scalar_one()
    candidates = checksum_candidates()
    rows = conn.execute(
        text(
            f"SELECT type, checksum, {definition}, checksum ~ pattern"
            " FROM (SELECT *, jsonb_build_object(type, checksum) AS checksums"
            " FROM unnest(CAST(:types AS text[]), CAST(:checksums AS text[]),"
            " CAST(:patterns AS text[])) AS c(type, checksum, pattern)) AS c"
        ),
        {
            "types": [kind for kind, _ in candidates],
            "checksums": [value for _, value in candidates],
            "patterns": [CHECKSUM_FORMATS[kind] for kind, _ in candidates],
        },
    ).all()
    assert len(rows) == len(candidates)
    return [(kind, value, checked, bounded) for kind, value, checked, bounded in rows]


def test_checksum_check_accepts_exactly_the_bounded_patterns(db: Session) -> None:
    assert {*HEX_LENGTHS, "etag"} == set(CHECKSUM_FORMATS), "candidates for every type"
    verdicts = checksum_verdicts(db)

    assert any(bounded for *_, bounded in verdicts)
    assert [row for row in verdicts if row[2] != row[3]] == []


@pytest.mark.parametrize("checksum_type", ["crc64", "SHA-256", "sha256", ""])
def test_unknown_checksum_type_is_refused(
    db: Session, dataset: Dataset, checksum_type: str
) -> None:
    row = object_row(dataset, "object", checksums={"sha-256": SHA256, checksum_type: SHA256})
    error = refused(db, INSERT_OBJECT, **row)

    assert_violates(error, "ck_drs_objects_checksum_type_known")


@pytest.mark.parametrize("checksums", [f'["sha-256", "{SHA256}"]', f'"{SHA256}"', "null"], ids=repr)
def test_checksums_that_are_not_an_object_are_refused(
    db: Session, dataset: Dataset, checksums: str
) -> None:
    error = refused(db, INSERT_OBJECT, **object_row(dataset, "object", checksums=checksums))

    assert_violates(error, "ck_drs_objects_checksum_type_known")


@pytest.mark.parametrize("is_bundle", [False, True], ids=["file", "bundle"])
def test_an_object_without_a_checksum_is_refused(
    db: Session, dataset: Dataset, is_bundle: bool
) -> None:
    row = object_row(dataset, "object", is_bundle=is_bundle, checksums={}, access_methods="{}")
    error = refused(db, INSERT_OBJECT, **row)

    assert_violates(error, "ck_drs_objects_has_checksum")


@pytest.mark.parametrize(
    "checksums",
    ['{"crc32c": 12345678}', '{"md5": null}', '{"md5": ["' + "0" * 32 + '"]}'],
    ids=["number", "null", "array"],
)
def test_checksums_that_are_not_text_are_refused(
    db: Session, dataset: Dataset, checksums: str
) -> None:
    error = refused(db, INSERT_OBJECT, **object_row(dataset, "object", checksums=checksums))

    assert_violates(error, "ck_drs_objects_checksum_format")


def test_a_checksum_type_is_stored_once(db: Session, dataset: Dataset) -> None:
    """A JSON object has each key once: given twice, the database keeps the last."""
    twice = '{"md5": "' + "0" * 32 + '", "md5": "' + "1" * 32 + '"}'
    execute(db, INSERT_OBJECT, **object_row(dataset, "object", checksums=twice))

    stored = db.execute(text("SELECT checksums FROM drs_objects WHERE id = 'object'")).scalar()

    assert stored == {"md5": "1" * 32}


TYPE_KNOWN, VALID = "access_method_type_known", "access_methods_valid"


@pytest.mark.parametrize(
    ("methods", "constraint"),
    [
        ('{{"s3","s3","s3://b/k",NULL},{"x","ftpx","ftp://h/k",NULL}}', TYPE_KNOWN),
        ('{{"s3",NULL,"s3://b/k",NULL}}', TYPE_KNOWN),
        ('{{"a/b","s3","s3://b/k",NULL}}', VALID),
        ('{{"","s3","s3://b/k",NULL}}', VALID),
        ('{{"' + "a" * 256 + '","s3","s3://b/k",NULL}}', VALID),
        ('{{"s3","s3","s3://b/k",NULL},{"s3","gs","gs://b/k",NULL}}', VALID),
        ('{{NULL,"s3","s3://b/k",NULL}}', VALID),
        ('{{"s3","s3",NULL,NULL}}', VALID),
        ('{"s3","s3","s3://b/k",NULL}', VALID),
        ('{{"s3","s3","s3://b/k"}}', VALID),
        ('{{"s3","s3","s3://b/k",NULL,"extra"}}', VALID),
        ('[0:0][1:4]={{"s3","s3","s3://b/k",NULL}}', VALID),
    ],
    ids=[
        "unknown-type",
        "no-type",
        "access-id-with-slash",
        "empty-access-id",
        "long-access-id",
        "access-id-twice",
        "no-access-id",
        "no-url",
        "one-dimension",
        "three-columns",
        "five-columns",
        "numbered-from-0",
    ],
)
def test_malformed_access_methods_are_refused(
    db: Session, dataset: Dataset, methods: str, constraint: str
) -> None:
    valid = '{{"a.Z_9~-","s3","s3://b/k","us-east-1"},{"s3-2","s3","s3://c/k",NULL}}'
    execute(db, INSERT_OBJECT, **object_row(dataset, "valid", access_methods=valid))

    error = refused(db, INSERT_OBJECT, **object_row(dataset, "object", access_methods=methods))

    assert_violates(error, f"ck_drs_objects_{constraint}")


INSERT_MEMBER = (
    "INSERT INTO bundle_members (bundle_id, name, child_id) VALUES (:bundle_id, :name, :child_id)"
)


def test_bundle_containing_itself_is_refused(db: Session, dataset: Dataset) -> None:
    insert_object(db, dataset, "bundle", is_bundle=True)
    insert_object(db, dataset, "member")
    execute(db, INSERT_MEMBER, bundle_id="bundle", name="member.cram", child_id="member")

    error = refused(db, INSERT_MEMBER, bundle_id="bundle", name="itself", child_id="bundle")

    assert_violates(error, "ck_bundle_members_not_self")


# --- datasets -----------------------------------------------------------------------------------


def test_duplicate_accession_is_refused(
    db: Session, dataset: Dataset, steward: Organization
) -> None:
    error = refused(db, INSERT_DATASET, **dataset_row(steward, accession=dataset.accession))

    assert_violates(error, "uq_datasets_accession", UNIQUE_VIOLATION)


@pytest.mark.parametrize(
    "accession",
    ["ATR-DS-12345", "atr-ds-123456", "ATR-DS-12345X", "DS-123456", "ATR-DS-123456 ", "ATR-DS-"],
    ids=repr,
)
def test_accession_not_matching_the_pattern_is_refused(
    db: Session, steward: Organization, accession: str
) -> None:
    assert execute(db, INSERT_DATASET, **dataset_row(steward, accession="ATR-DS-1234567")).one()

    error = refused(db, INSERT_DATASET, **dataset_row(steward, accession=accession))

    assert_violates(error, "ck_datasets_accession_format")


@pytest.mark.parametrize(
    ("status", "retired_at"),
    [("retired", None), ("published", "2026-01-01T00:00:00Z")],
    ids=["retired-without-retired-at", "published-with-retired-at"],
)
def test_retired_at_is_set_exactly_when_retired(
    db: Session, steward: Organization, status: str, retired_at: str | None
) -> None:
    valid = dataset_row(steward, status="retired", version=1, retired_at="2026-01-01T00:00:00Z")
    assert execute(db, INSERT_DATASET, **valid).one()

    row = dataset_row(steward, status=status, version=1, retired_at=retired_at)
    error = refused(db, INSERT_DATASET, **row)

    assert_violates(error, "ck_datasets_retired_has_timestamp")


def test_datasets_created_without_an_accession_get_the_next_minted_one(
    db: Session, factory: Factory, steward: Organization
) -> None:
    minted = factory.dataset(steward).accession
    assert re.fullmatch(r"ATR-DS-[0-9]{6}", minted), minted

    insert = (
        "INSERT INTO datasets (id, title, access_level, steward_id)"
        " VALUES (gen_random_uuid(), 'Raw', 'open', :steward_id) RETURNING accession"
    )
    first = execute(db, insert, steward_id=steward.id).scalar_one()
    second = execute(db, insert, steward_id=steward.id).scalar_one()

    for accession in (first, second):
        assert re.fullmatch(r"ATR-DS-[0-9]{6}", accession), accession
    assert int(minted[7:]) < int(first[7:]) < int(second[7:]) == int(first[7:]) + 1


# --- roles and publications ---------------------------------------------------------------------


INSERT_ROLE = (
    "INSERT INTO role_assignments (id, user_id, role, organization_id, committee_id)"
    " VALUES (gen_random_uuid(), :user_id, :role, :organization_id, :committee_id)"
)


@pytest.mark.parametrize(
    ("role", "scoped_to"),
    [
        ("steward", None),
        ("funder_auditor", None),
        ("admin", "organization"),
        ("committee_member", "organization"),
        ("steward", "committee"),
    ],
    ids=[
        "steward-without-organization",
        "auditor-without-organization",
        "admin-with-organization",
        "committee-member-with-organization",
        "steward-with-committee",
    ],
)
def test_role_assignment_scope_must_match_the_role(
    db: Session, factory: Factory, steward: Organization, role: str, scoped_to: str | None
) -> None:
    user = service.ensure_user(db, issuer="https://idp.example", subject=f"u-{uuid.uuid4()}")
    committee = factory.committee(steward)
    execute(
        db,
        INSERT_ROLE,
        user_id=user.id,
        role="steward",
        organization_id=steward.id,
        committee_id=None,
    )

    error = refused(
        db,
        INSERT_ROLE,
        user_id=user.id,
        role=role,
        organization_id=steward.id if scoped_to == "organization" else None,
        committee_id=committee.id if scoped_to == "committee" else None,
    )

    assert_violates(error, "ck_role_assignments_scope_matches_role")


INSERT_PUBLICATION = (
    "INSERT INTO publications (dataset_id, scheme, identifier)"
    " VALUES (:dataset_id, :scheme, :identifier)"
)


@pytest.mark.parametrize(
    "doi",
    [
        "doi:10.1000/xyz",
        "https://doi.org/10.1000/xyz",
        "10.12/xyz",
        "10.1000/",
        "10.1000/with space",
        "11.1000/xyz",
    ],
    ids=repr,
)
def test_publication_with_a_malformed_doi_is_refused(
    db: Session, dataset: Dataset, doi: str
) -> None:
    execute(db, INSERT_PUBLICATION, dataset_id=dataset.id, scheme="doi", identifier="10.1000/xyz")

    error = refused(db, INSERT_PUBLICATION, dataset_id=dataset.id, scheme="doi", identifier=doi)

    assert_violates(error, "ck_publications_identifier_format")


# --- the audit log ------------------------------------------------------------------------------


@pytest.fixture
def audit_event_id(db: Session) -> int:
    inserted: int = execute(
        db,
        "INSERT INTO audit_events (actor, action, object_type, object_id, summary)"
        " VALUES ('alice@https://idp.example', 'dataset.created', 'dataset', 'ATR-DS-000001',"
        ' \'{"title": "A"}\') RETURNING id',
    ).scalar_one()
    return inserted


def audit_event(db: Session, event_id: int) -> Any:
    return db.execute(
        text("SELECT actor, action, object_id FROM audit_events WHERE id = :id"), {"id": event_id}
    ).one()


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE audit_events SET actor = 'mallory' WHERE id = :id", "UPDATE"),
        ("DELETE FROM audit_events WHERE id = :id", "DELETE"),
        ("TRUNCATE audit_events", "TRUNCATE"),
    ],
    ids=["update", "delete", "truncate"],
)
def test_audit_events_are_append_only(
    db: Session, audit_event_id: int, statement: str, operation: str
) -> None:
    before = audit_event(db, audit_event_id)
    assert tuple(before) == ("alice@https://idp.example", "dataset.created", "ATR-DS-000001")

    error = refused(db, statement, id=audit_event_id)

    assert error.orig is not None
    assert error.orig.pgcode == INSUFFICIENT_PRIVILEGE
    assert f"audit_events is append-only: {operation} refused" in str(error.orig)
    assert audit_event(db, audit_event_id) == before


def test_audit_events_accept_inserts(db: Session, factory: Factory, audit_event_id: int) -> None:
    dataset = factory.dataset()

    assert tuple(audit_event(db, audit_event_id)) == (
        "alice@https://idp.example",
        "dataset.created",
        "ATR-DS-000001",
    )
    recorded = db.execute(
        text("SELECT action FROM audit_events WHERE object_id = :accession"),
        {"accession": dataset.accession},
    ).scalars()
    assert list(recorded) == ["dataset.created"]


def test_the_models_object_checks_are_the_migrated_ones(db: Session) -> None:
    """Both spell the checks of ``drs_objects`` (autogenerate does not compare check
    constraints): Postgres normalises the models' text and the migrated constraints alike."""
    checks = {
        str(c.name): str(c.sqltext)
        for c in DrsObject.__table__.constraints
        if isinstance(c, CheckConstraint)
    }
    execute(
        db,
        "CREATE TEMP TABLE object_model (LIKE drs_objects)",
    )
    for name, condition in checks.items():
        execute(db, f"ALTER TABLE object_model ADD CONSTRAINT model_{name} CHECK ({condition})")

    definitions = dict(
        db.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid IN ('drs_objects'::regclass, 'object_model'::regclass)"
                " AND contype = 'c'"
            )
        ).all()
    )
    assert {n for n in definitions if not n.startswith("model_")} == set(checks)
    for name in checks:
        assert definitions[f"model_{name}"] == definitions[name], name
