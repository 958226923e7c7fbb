"""Catalog mutations: happy paths, typed errors with field paths, atomicity, audit."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from catalog.models import AuditEvent, Dataset, DrsObject, Organization, RoleName
from tests.api.graphql import gql
from tests.factories import Factory

CREATE = """mutation($input: DatasetCreateInput!) {
  datasetCreate(input: $input) {
    dataset { accession status version title dataUse { permission { code } } }
    errors { field message code }
  } }"""
UPDATE = """mutation($a: String!, $input: DatasetUpdateInput!) {
  datasetUpdate(accession: $a, input: $input) {
    dataset { title description keywords diseases { curie } }
    errors { field message code } } }"""
PUBLISH = """mutation($a: String!) { datasetPublish(accession: $a) {
  dataset { status version } errors { field message code } } }"""
RETIRE = """mutation($a: String!, $r: String!) { datasetRetire(accession: $a, reason: $r) {
  dataset { status retiredReason } errors { field message code } } }"""
REGISTER = """mutation($a: String!, $files: [FileInput!]!) {
  filesRegister(accession: $a, files: $files) { objectIds errors { field message code } } }"""
BUNDLE = """mutation($a: String!, $input: BundleInput!) {
  bundleCreate(accession: $a, input: $input) {
  bundle { id size isBundle checksums { type checksum } contents { name object { id } } }
  errors { field message code } } }"""


def a_file(n: int, **overrides: Any) -> dict[str, Any]:
    body = f"file-{n}".encode()
    return {
        "id": f"f-{n}",
        "name": f"reads-{n}.cram",
        "size": len(body),
        "checksums": [{"type": "sha-256", "checksum": hashlib.sha256(body).hexdigest()}],
        "accessMethods": [
            {"type": "s3", "url": f"s3://bucket/reads-{n}.cram", "region": "eu-west-1"}
        ],
        **overrides,
    }


def steward_headers(factory: Factory) -> tuple[Organization, dict[str, str]]:
    org = factory.organization()
    return org, factory.headers("sam", (RoleName.STEWARD, org.slug))


def test_create_dataset_as_steward_makes_an_audited_draft(
    client: TestClient, factory: Factory
) -> None:
    org, headers = steward_headers(factory)
    slug = org.slug
    payload = gql(
        client,
        CREATE,
        {
            "input": {
                "title": "Lung adenocarcinoma WGS",
                "accessLevel": "OPEN",
                "steward": slug,
                "dataUse": {"permission": "GRU"},
                "diseases": ["MONDO:0005061"],
            }
        },
        headers,
    )["datasetCreate"]
    assert payload["errors"] == []
    created = payload["dataset"]
    assert created["status"] == "DRAFT"
    assert created["version"] == 0
    assert created["accession"].startswith("ATR-DS-")
    assert created["dataUse"] == {"permission": {"code": "GRU"}}
    event = factory.session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == created["accession"])
    ).one()
    assert event.action == "dataset.created"
    assert event.actor.startswith("sam@")


def test_create_dataset_reports_every_invalid_field(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    slug = org.slug
    payload = gql(
        client,
        CREATE,
        {
            "input": {
                "title": " ",
                "accessLevel": "OPEN",
                "steward": slug,
                "participantCount": -1,
                "publications": [{"scheme": "doi", "identifier": "not-a-doi"}],
                "dataUse": {"permission": "DS"},
            }
        },
        headers,
    )["datasetCreate"]
    assert payload["dataset"] is None
    fields = {e["field"]: e for e in payload["errors"]}
    assert set(fields) == {"title", "participantCount", "publications[0]", "dataUse"}
    assert all(e["code"] == "INVALID" for e in payload["errors"])
    assert "MONDO" in fields["dataUse"]["message"]
    assert "not a valid DOI" in fields["publications[0]"]["message"]


def test_create_dataset_checks_references(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    slug = org.slug
    base = {"title": "T", "accessLevel": "OPEN", "steward": slug}
    cases = [
        ({"diseases": ["MONDO:0007254", "MONDO:9999999"]}, "diseases[1]", "INVALID"),
        ({"phenotypes": ["MONDO:0007254"]}, "phenotypes[0]", "INVALID"),
        ({"committee": "no-such-dac"}, "committee", "NOT_FOUND"),
        ({"funders": [{"funder": slug}]}, "funders[0].funder", "INVALID"),
        (
            {"dataUse": {"permission": "GRU", "modifiers": ["HMB"]}},
            "dataUse.modifiers[0]",
            "INVALID",
        ),
        (
            {"dataUse": {"permission": "GRU", "modifiers": ["ZZZ"]}},
            "dataUse.modifiers[0]",
            "INVALID",
        ),
    ]
    for extra, field, code in cases:
        payload = gql(client, CREATE, {"input": {**base, **extra}}, headers)["datasetCreate"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], extra
    assert factory.session.scalar(select(func.count()).select_from(Dataset)) == 0


def test_create_dataset_for_unknown_or_foreign_steward(
    client: TestClient, factory: Factory
) -> None:
    _, headers = steward_headers(factory)
    other = factory.organization()
    base = {"title": "T", "accessLevel": "OPEN"}
    unknown = gql(client, CREATE, {"input": {**base, "steward": "nobody"}}, headers)
    assert unknown["datasetCreate"]["errors"][0]["code"] == "NOT_FOUND"
    assert unknown["datasetCreate"]["errors"][0]["field"] == "steward"
    foreign = gql(client, CREATE, {"input": {**base, "steward": other.slug}}, headers)
    assert foreign["datasetCreate"]["errors"][0]["code"] == "FORBIDDEN"


def test_partial_update_keeps_other_fields(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org, description="kept", keywords=["a"], diseases=["MONDO:0007254"])
    payload = gql(
        client, UPDATE, {"a": dataset.accession, "input": {"title": "New title"}}, headers
    )["datasetUpdate"]
    assert payload["errors"] == []
    assert payload["dataset"] == {
        "title": "New title",
        "description": "kept",
        "keywords": ["a"],
        "diseases": [{"curie": "MONDO:0007254"}],
    }
    cleared = gql(
        client,
        UPDATE,
        {"a": dataset.accession, "input": {"keywords": [], "diseases": []}},
        headers,
    )["datasetUpdate"]["dataset"]
    assert cleared["keywords"] == []
    assert cleared["diseases"] == []


def test_publish_versions_and_retire_lifecycle(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    a = dataset.accession
    assert gql(client, PUBLISH, {"a": a}, headers)["datasetPublish"]["dataset"] == {
        "status": "PUBLISHED",
        "version": 1,
    }
    again = gql(client, PUBLISH, {"a": a}, headers)["datasetPublish"]
    assert again["errors"][0]["code"] == "INVALID_TRANSITION"
    assert "no changes since version 1" in again["errors"][0]["message"]
    gql(client, UPDATE, {"a": a, "input": {"title": "Better"}}, headers)
    assert gql(client, PUBLISH, {"a": a}, headers)["datasetPublish"]["dataset"]["version"] == 2
    empty_reason = gql(client, RETIRE, {"a": a, "r": "  "}, headers)["datasetRetire"]
    assert empty_reason["errors"][0]["field"] == "reason"
    retired = gql(client, RETIRE, {"a": a, "r": "superseded"}, headers)["datasetRetire"]
    assert retired["dataset"] == {"status": "RETIRED", "retiredReason": "superseded"}
    for mutation, variables in (
        (RETIRE, {"a": a, "r": "twice"}),
        (PUBLISH, {"a": a}),
        (UPDATE, {"a": a, "input": {"title": "x"}}),
        (REGISTER, {"a": a, "files": [a_file(1)]}),
    ):
        data = gql(client, mutation, variables, headers)
        payload = next(iter(data.values()))
        assert payload["errors"][0]["code"] == "INVALID_TRANSITION", mutation
    actions = factory.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == a).order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "dataset.created",
        "dataset.published",
        "dataset.updated",
        "dataset.published",
        "dataset.retired",
    ]


def test_controlled_dataset_needs_committee_to_publish(
    client: TestClient, factory: Factory
) -> None:
    org, headers = steward_headers(factory)
    slug = org.slug
    created = gql(
        client,
        CREATE,
        {"input": {"title": "T", "accessLevel": "CONTROLLED", "steward": slug}},
        headers,
    )["datasetCreate"]["dataset"]
    refused = gql(client, PUBLISH, {"a": created["accession"]}, headers)["datasetPublish"]
    assert refused["errors"] == [
        {
            "field": "committee",
            "message": "controlled datasets need a governing committee",
            "code": "INVALID",
        }
    ]


def test_register_thousands_of_files_in_one_call(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    files = [a_file(n) for n in range(2000)]
    payload = gql(client, REGISTER, {"a": dataset.accession, "files": files}, headers)
    assert payload["filesRegister"]["errors"] == []
    assert len(payload["filesRegister"]["objectIds"]) == 2000
    count = factory.session.scalar(
        select(func.count()).select_from(DrsObject).where(DrsObject.dataset_id == dataset.id)
    )
    assert count == 2000
    minted = gql(
        client, REGISTER, {"a": dataset.accession, "files": [a_file(9999, id=None)]}, headers
    )["filesRegister"]["objectIds"][0]
    assert len(minted) == 36  # a UUID


def test_register_files_is_all_or_nothing(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    factory.files(dataset, 1, prefix="taken")
    cases = [
        (
            [a_file(1), a_file(2, checksums=[{"type": "sha-256", "checksum": "abc"}])],
            "files[1].checksums[0]",
            "INVALID",
        ),
        ([a_file(1), a_file(2, size=-5)], "files[1].size", "INVALID"),
        ([a_file(1), a_file(2, id="bad/id")], "files[1].id", "INVALID"),
        ([a_file(1), a_file(2, checksums=[])], "files[1].checksums", "INVALID"),
        (
            [a_file(1), a_file(2, accessMethods=[{"type": "s3", "url": "https://x/y"}])],
            "files[1].accessMethods[0]",
            "INVALID",
        ),
        ([a_file(1), a_file(2, id="f-1")], "files[1].id", "INVALID"),
        ([a_file(1), a_file(2, aliases=["f-1"])], "files[1].aliases", "INVALID"),
        ([a_file(1), a_file(2, id="taken-00000")], "files[1].id", "CONFLICT"),
    ]
    for files, field, code in cases:
        payload = gql(client, REGISTER, {"a": dataset.accession, "files": files}, headers)
        errors = payload["filesRegister"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (field, errors)
        assert payload["filesRegister"]["objectIds"] == []
    count = factory.session.scalar(
        select(func.count()).select_from(DrsObject).where(DrsObject.dataset_id == dataset.id)
    )
    assert count == 1  # only the factory's file


def test_register_files_limits(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    empty = gql(client, REGISTER, {"a": dataset.accession, "files": []}, headers)
    assert empty["filesRegister"]["errors"][0]["field"] == "files"
    unknown = gql(client, REGISTER, {"a": "ATR-DS-999999", "files": [a_file(1)]}, headers)
    assert unknown["filesRegister"]["errors"][0]["code"] == "NOT_FOUND"


def test_checksum_types_are_normalised(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org, publish=True)
    file = a_file(
        1,
        checksums=[
            {"type": "SHA256", "checksum": "AB" * 32},
            {"type": "md5", "checksum": "CD" * 16},
        ],
    )
    gql(client, REGISTER, {"a": dataset.accession, "files": [file]}, headers)
    found = gql(client, '{ drsObject(id: "f-1") { checksums { type checksum } } }', headers=headers)
    assert found["drsObject"]["checksums"] == [
        {"type": "md5", "checksum": "cd" * 16},
        {"type": "sha-256", "checksum": "ab" * 32},
    ]


def test_nested_bundles(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    gql(client, REGISTER, {"a": dataset.accession, "files": [a_file(n) for n in range(3)]}, headers)
    inner = gql(
        client,
        BUNDLE,
        {
            "a": dataset.accession,
            "input": {
                "id": "inner",
                "name": "pair",
                "members": [{"name": "r1", "objectId": "f-0"}, {"name": "r2", "objectId": "f-1"}],
            },
        },
        headers,
    )["bundleCreate"]["bundle"]
    sums = sorted(hashlib.sha256(f"file-{n}".encode()).hexdigest() for n in (0, 1))
    assert inner["size"] == 12
    assert inner["checksums"] == [
        {"type": "sha-256", "checksum": hashlib.sha256("".join(sums).encode()).hexdigest()}
    ]
    outer = gql(
        client,
        BUNDLE,
        {
            "a": dataset.accession,
            "input": {
                "id": "outer",
                "name": "all",
                "members": [
                    {"name": "pair", "objectId": "inner"},
                    {"name": "extra", "objectId": "f-2"},
                ],
            },
        },
        headers,
    )["bundleCreate"]["bundle"]
    assert outer["isBundle"] is True
    assert outer["size"] == 18
    assert [(c["name"], c["object"]["id"]) for c in outer["contents"]] == [
        ("extra", "f-2"),
        ("pair", "inner"),
    ]
    totals = gql(
        client,
        "query($a: String) { dataset(accession: $a) {"
        " fileCount totalBytes files { totalCount } } }",
        {"a": dataset.accession},
        headers,
    )["dataset"]
    assert totals == {"fileCount": 3, "totalBytes": 18, "files": {"totalCount": 5}}


def test_bundle_members_must_belong_to_the_dataset(client: TestClient, factory: Factory) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org)
    other = factory.dataset(org)
    foreign = factory.files(other, 1)[0]
    payload = gql(
        client,
        BUNDLE,
        {
            "a": dataset.accession,
            "input": {"name": "b", "members": [{"name": "x", "objectId": foreign}]},
        },
        headers,
    )["bundleCreate"]
    assert payload["errors"][0]["field"] == "members[0].objectId"
    assert payload["errors"][0]["code"] == "NOT_FOUND"
    duplicate = gql(
        client,
        BUNDLE,
        {
            "a": dataset.accession,
            "input": {
                "name": "b",
                "members": [{"name": "x", "objectId": foreign}, {"name": "x", "objectId": foreign}],
            },
        },
        headers,
    )["bundleCreate"]
    assert duplicate["errors"][0]["code"] == "INVALID"


def test_admin_creates_organizations_and_assigns_roles(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.headers("ada", (RoleName.ADMIN, None))
    created = gql(
        client,
        """mutation { organizationCreate(input: {
        slug: "new-funder", name: "New Funder", kind: FUNDER, rorId: "01cwqze88"}) {
        organization { slug kind rorId } errors { field code } } }""",
        headers=admin,
    )
    assert created["organizationCreate"]["organization"] == {
        "slug": "new-funder",
        "kind": "FUNDER",
        "rorId": "01cwqze88",
    }
    duplicate = gql(
        client,
        """mutation { organizationCreate(input: {
        slug: "new-funder", name: "Again", kind: FUNDER}) { errors { field code } } }""",
        headers=admin,
    )
    assert duplicate["organizationCreate"]["errors"] == [{"field": "slug", "code": "CONFLICT"}]
    assigned = gql(
        client,
        """mutation { roleAssign(subject: "fiona", role: FUNDER_AUDITOR,
        scope: "new-funder") { assignment { role organization { slug } } errors { code } } }""",
        headers=admin,
    )
    assert assigned["roleAssign"]["assignment"] == {
        "role": "FUNDER_AUDITOR",
        "organization": {"slug": "new-funder"},
    }
    fiona = {"Authorization": f"Bearer {factory.issuer.mint('fiona')}"}
    me = gql(client, "{ me { subject roles { role organization { slug } } } }", headers=fiona)
    assert me["me"]["roles"] == [{"role": "FUNDER_AUDITOR", "organization": {"slug": "new-funder"}}]
    wrong_scope = gql(
        client,
        """mutation { roleAssign(subject: "x", role: ADMIN, scope: "new-funder")
        { errors { field code } } }""",
        headers=admin,
    )
    assert wrong_scope["roleAssign"]["errors"] == [{"field": "scope", "code": "INVALID"}]


def test_update_refuses_null_for_required_fields_but_clears_optional_ones(
    client: TestClient, factory: Factory
) -> None:
    org, headers = steward_headers(factory)
    dataset = factory.dataset(org, license="CC0-1.0")
    refused = gql(client, UPDATE, {"a": dataset.accession, "input": {"title": None}}, headers)[
        "datasetUpdate"
    ]
    assert refused["errors"][0]["code"] == "INVALID"
    assert "title cannot be null" in refused["errors"][0]["message"]
    cleared = gql(
        client,
        """mutation($a: String!) { datasetUpdate(accession: $a, input: {license: null}) {
           dataset { license title } errors { code } } }""",
        {"a": dataset.accession},
        headers,
    )["datasetUpdate"]
    assert cleared == {"dataset": {"license": None, "title": dataset.title}, "errors": []}
