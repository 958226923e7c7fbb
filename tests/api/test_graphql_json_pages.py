"""Dataset pages built as JSON by Postgres (``api.graphql.catalog.json_pages``) answer exactly
what graphql-core's field-by-field execution answers, for every role, and fall back to it for
whatever they do not know."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app
from api.auth.issuer import BuiltinIssuer
from api.graphql.catalog.types import encode_cursor
from api.settings import Settings
from catalog import service
from catalog.models import Organization, RoleName
from catalog.principals import SYSTEM
from catalog.schemas import BundleCreate, FileCreate
from tests.api.graphql import counting, gql
from tests.factories import Factory

DATASET_FIELDS = """
  __typename id accession title description keywords dataTypes fileFormats species
  participantCount sampleCount accessLevel status version createdAt updatedAt publishedAt
  retiredAt retiredReason license fileCount totalBytes canReadFiles canDownload
  steward { __typename id slug name kind rorId }
  committee { __typename id slug name organization { slug name } }
  funders { __typename awardNumber funder { id slug name kind } }
  diseases { __typename curie label code synonyms }
  phenotypes { curie label }
  dataUse { __typename permission { curie label code } diseases { curie label }
            modifiers { code label synonyms } }
  files(first: 5) {
    __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges { __typename cursor node {
      __typename id drsUri name size isBundle mimeType version description createdTime
      updatedTime checksums { __typename type checksum } aliases
      accessMethods { __typename type accessId region url }
    } }
  }
"""

PAGE = (
    """query($first: Int!, $after: String, $status: [DatasetStatus!], $withFiles: Boolean!) {
  datasets(first: $first, after: $after, filter: {status: $status}) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor __typename node { ...Everything } }
    again: edges { n: node { accession more: files(first: 1) @include(if: $withFiles) {
      edges { node { id } } } } }
  } }
fragment Everything on Dataset {"""
    + DATASET_FIELDS
    + "}"
)

ONE = (
    "query($a: String, $after: String) { dataset(accession: $a) { "
    + DATASET_FIELDS
    + " later: files(first: 2, after: $after) { totalCount edges { cursor node { id } }"
    + " pageInfo { hasNextPage startCursor endCursor } } } }"
)

# Fields the JSON pages do not build: each sends the whole page down the general path.
FALLBACKS = [
    "committee { rules { slaDays } }",
    "publications { url }",
    "versions { version }",
    "termsOfUse { version }",
    "files { edges { node { contents { name } } } }",
    "files { edges { node { dataset { accession } } } }",
    "files(first: 0) { totalCount }",
    "files(first: null) { totalCount }",
    'files(after: "not a cursor") { totalCount }',
]

ROLES: dict[str, tuple[tuple[RoleName, str | None], ...]] = {
    "researcher": (),
    "steward": ((RoleName.STEWARD, "steward-a"),),
    "other steward": ((RoleName.STEWARD, "steward-b"),),
    "committee member": ((RoleName.COMMITTEE_MEMBER, "dac-a"),),
    "funder auditor": ((RoleName.FUNDER_AUDITOR, "funder-a"),),
    "admin": ((RoleName.ADMIN, None),),
    "grant holder": (),
}


@pytest.fixture
def general(
    settings: Settings, sessions: sessionmaker[Session], issuer: BuiltinIssuer
) -> Iterator[TestClient]:
    """The same API executing every field with graphql-core."""
    app = create_app(
        settings.model_copy(update={"graphql_json_pages": False}), sessions, issuer=issuer
    )
    with TestClient(app) as test_client:
        yield test_client


def _organizations(factory: Factory) -> tuple[Organization, Organization]:
    steward = factory.organization(slug="steward-a", name="Steward A", ror_id="012345678")
    other = factory.organization(slug="steward-b", name="Steward B")
    return steward, other


@pytest.fixture
def catalog(factory: Factory, db: Session, connection: Connection) -> dict[str, Any]:
    steward, other = _organizations(factory)
    funder_a = factory.organization("funder", slug="funder-a", name="Funder A")
    funder_b = factory.organization("funder", slug="funder-b", name="Aardvark Funds")
    dac = factory.committee(steward)
    db.execute(text("UPDATE committees SET slug = 'dac-a' WHERE id = :id"), {"id": dac.id})
    rich = factory.dataset(
        steward,
        access_level="controlled",
        committee="dac-a",
        description="Whole genomes — “quoted” \\ and\ttabbed",
        keywords=["cancer", "genome"],
        diseases=["MONDO:0007254", "MONDO:0005148"],
        phenotypes=["HP:0000118"],
        data_types=["WGS"],
        file_formats=["CRAM", "VCF"],
        species=["Homo sapiens"],
        participant_count=120,
        sample_count=240,
        license="CC-BY-4.0",
        data_use={
            "permission": "DS",
            "diseases": ["MONDO:0007254", "MONDO:0005148"],
            "modifiers": ["NPU", "IRB"],
        },
        funders=[
            {"funder": funder_a.slug, "award_number": "R01-1"},
            {"funder": funder_b.slug},
            {"funder": funder_a.slug, "award_number": "R01-2"},
        ],
    )
    service.register_files(
        db,
        SYSTEM,
        accession=rich.accession,
        files=[
            FileCreate.model_validate(
                {
                    "id": f"rich-{i}",
                    "name": f"genome{i}.cram",
                    "size": 2**40 + i,
                    "checksums": [
                        {"type": "sha-256", "checksum": f"{i:064x}"},
                        {"type": "md5", "checksum": f"{i:032x}"},
                        {"type": "etag", "checksum": f"{i:032x}-3"},
                        *([{"type": "crc32c", "checksum": "0a1b2c3d"}] if i == 2 else []),
                        *([{"type": "sha1", "checksum": "f" * 40}] if i == 2 else []),
                    ],
                    "mime_type": "application/cram",
                    "version": "v2",
                    "description": "a genome",
                    "aliases": [f"alias-{i}-b", f"alias-{i}-a"],
                    "access_methods": [
                        {"type": "s3", "url": f"s3://bucket/{i}", "region": "us-east-1"},
                        {"type": "https", "url": f"https://example.org/{i}", "access_id": "web"},
                        *(
                            [{"type": "gs", "url": "gs://b/2", "access_id": "gcp"}]
                            if i == 2
                            else []
                        ),
                    ],
                }
            )
            for i in range(3)
        ],
    )
    service.create_bundle(
        db,
        SYSTEM,
        accession=rich.accession,
        data=BundleCreate(
            id="rich-bundle",
            name="all",
            members=[{"name": "g0", "object_id": "rich-0"}],  # type: ignore[list-item]
        ),
    )
    rich = service.publish_dataset(db, SYSTEM, accession=rich.accession)
    open_ds = factory.dataset(
        other, publish=True, files=3, keywords=[], data_use={"permission": "GRU"}
    )
    registered = factory.dataset(steward, publish=True, files=1, access_level="registered")
    retired = factory.dataset(steward, publish=True, files=1)
    service.retire_dataset(db, SYSTEM, accession=retired.accession, reason="withdrawn consent")
    draft = factory.dataset(steward, files=1, access_level="controlled", committee="dac-a")
    empty = factory.dataset(other, publish=True)
    # A time on a whole second: isoformat() writes no fraction then.
    db.execute(
        text("UPDATE datasets SET updated_at = '2026-01-02T03:04:05Z' WHERE id = :id"),
        {"id": open_ds.id},
    )
    db.flush()
    factory.grant("gina", rich)
    return {
        "accessions": [d.accession for d in (rich, open_ds, registered, retired, draft, empty)],
        "headers": {
            role: factory.headers(role.replace(" ", "-") if role != "grant holder" else "gina", *r)
            for role, r in ROLES.items()
        },
    }


def _differences(built: Any, expected: Any, path: str = "") -> list[str]:
    """Where two answers differ, by JSON path: a readable failure for a large answer."""
    if isinstance(built, dict) and isinstance(expected, dict):
        if list(built) != list(expected):
            return [f"{path}: keys {list(built)} != {list(expected)}"]
        return [d for k in built for d in _differences(built[k], expected[k], f"{path}.{k}")]
    if isinstance(built, list) and isinstance(expected, list) and len(built) == len(expected):
        pairs = zip(built, expected, strict=True)
        return [d for i, (b, e) in enumerate(pairs) for d in _differences(b, e, f"{path}[{i}]")]
    return [] if built == expected else [f"{path}: {built!r} != {expected!r}"]


@pytest.fixture(params=["anonymous", *ROLES])
def headers(request: pytest.FixtureRequest, catalog: dict[str, Any]) -> dict[str, str]:
    """Each kind of caller's headers in turn."""
    callers: dict[str, dict[str, str]] = {"anonymous": {}, **catalog["headers"]}
    return callers[request.param]


def _built_as_json(client: TestClient, connection: Connection, *args: Any) -> tuple[Any, bool]:
    with counting(connection) as statements:
        data = gql(client, *args)
    return data, any("json_build_object" in s for s in statements)


def _compared(
    client: TestClient,
    general: TestClient,
    connection: Connection,
    query: str,
    variables: dict[str, Any],
    headers: dict[str, str],
) -> tuple[Any, bool]:
    """The JSON pages' answer, once it has been found equal to the general path's, and
    whether Postgres built it."""
    built, as_json = _built_as_json(client, connection, query, variables, headers)
    assert _differences(built, gql(general, query, variables, headers)) == []
    return built, as_json


def test_pages_equal_the_general_path(
    client: TestClient, general: TestClient, connection: Connection, headers: dict[str, str]
) -> None:
    variables: dict[str, Any] = {
        "first": 3,
        "status": ["PUBLISHED", "RETIRED", "DRAFT"],
        "withFiles": True,
    }
    pages = 0
    while True:
        built, as_json = _compared(client, general, connection, PAGE, variables, headers)
        assert as_json
        pages += 1
        info = built["datasets"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        variables["after"] = info["endCursor"]
    assert built["datasets"]["totalCount"] in (5, 6)  # the draft for its steward and admin
    assert pages == 2
    variables = {"first": 10, "withFiles": False}
    built, _ = _compared(client, general, connection, PAGE, variables, headers)
    assert all("more" not in edge["n"] for edge in built["datasets"]["again"])


def test_one_dataset_equals_the_general_path(
    client: TestClient,
    general: TestClient,
    connection: Connection,
    catalog: dict[str, Any],
    headers: dict[str, str],
) -> None:
    after = encode_cursor(["files", "rich-0"])
    for accession in catalog["accessions"]:
        for variables in ({"a": accession}, {"a": accession, "after": after}):
            built, as_json = _compared(client, general, connection, ONE, variables, headers)
            assert as_json == (built["dataset"] is not None)


def test_the_general_path_builds_no_json(
    general: TestClient, connection: Connection, catalog: dict[str, Any]
) -> None:
    variables = {"first": 3, "withFiles": True}
    assert not _built_as_json(general, connection, PAGE, variables)[1]


def test_rich_dataset_shows_what_it_holds(
    client: TestClient, connection: Connection, catalog: dict[str, Any]
) -> None:
    """The comparison above is only as good as the values it compares: here they are."""
    steward = catalog["headers"]["steward"]
    variables = {"a": catalog["accessions"][0], "after": encode_cursor(["files", "rich-0"])}
    node = gql(client, ONE, variables, steward)["dataset"]
    assert [f["awardNumber"] for f in node["funders"]] == [None, "R01-1", "R01-2"]
    assert [f["funder"]["name"] for f in node["funders"]] == [
        "Aardvark Funds",
        "Funder A",
        "Funder A",
    ]
    assert [d["curie"] for d in node["diseases"]] == ["MONDO:0005148", "MONDO:0007254"]
    assert node["committee"]["slug"] == "dac-a"
    assert node["committee"]["organization"]["slug"] == "steward-a"
    use = node["dataUse"]
    assert use["permission"]["code"] == "DS"
    assert [d["curie"] for d in use["diseases"]] == ["MONDO:0007254", "MONDO:0005148"]
    assert [m["code"] for m in use["modifiers"]] == ["NPU", "IRB"]
    assert node["steward"]["rorId"] == "012345678"
    assert node["steward"]["kind"] == "STEWARD"
    assert node["accessLevel"] == "CONTROLLED"
    assert node["status"] == "PUBLISHED"
    assert node["fileCount"] == 3
    assert node["totalBytes"] == 3 * 2**40 + 3
    files = node["files"]
    assert files["totalCount"] == 4
    assert [e["node"]["id"] for e in files["edges"]] == [
        "rich-0",
        "rich-1",
        "rich-2",
        "rich-bundle",
    ]
    assert files["pageInfo"]["hasNextPage"] is False
    later = node["later"]
    assert [e["node"]["id"] for e in later["edges"]] == ["rich-1", "rich-2"]
    assert later["pageInfo"]["hasNextPage"] is True
    assert later["pageInfo"]["endCursor"] == encode_cursor(["files", "rich-2"])
    first = files["edges"][0]["node"]
    assert first["id"] == "rich-0"
    assert first["drsUri"] == "drs://testserver/rich-0"
    assert [c["type"] for c in first["checksums"]] == ["etag", "md5", "sha-256"]
    last = files["edges"][2]["node"]
    assert [c["type"] for c in last["checksums"]] == ["crc32c", "etag", "md5", "sha-256", "sha1"]
    assert [m["accessId"] for m in last["accessMethods"]] == ["gcp", "s3", "web"]
    bundle = files["edges"][3]["node"]
    assert bundle["isBundle"] is True
    assert bundle["accessMethods"] == []
    assert first["aliases"] == ["alias-0-a", "alias-0-b"]
    assert [(m["type"], m["region"], m["url"]) for m in first["accessMethods"]] == [
        ("s3", "us-east-1", "s3://bucket/0"),
        ("https", None, "https://example.org/0"),
    ]
    anonymous = gql(client, ONE, {"a": catalog["accessions"][0]})["dataset"]
    assert anonymous["canReadFiles"] is False
    assert anonymous["files"]["totalCount"] == 0
    assert anonymous["files"]["edges"] == []
    assert anonymous["files"]["pageInfo"]["endCursor"] is None
    granted = gql(client, ONE, {"a": catalog["accessions"][0]}, catalog["headers"]["grant holder"])
    methods = granted["dataset"]["files"]["edges"][0]["node"]["accessMethods"]
    assert granted["dataset"]["canDownload"] is True
    assert methods[0]["url"] is None
    opened = gql(client, ONE, {"a": catalog["accessions"][1]})["dataset"]
    assert opened["updatedAt"] == "2026-01-02T03:04:05+00:00"
    assert opened["publishedAt"].endswith("+00:00")
    assert "." in opened["createdAt"]


@pytest.mark.parametrize("fallback", FALLBACKS)
def test_unknown_fields_take_the_general_path(
    client: TestClient,
    general: TestClient,
    connection: Connection,
    catalog: dict[str, Any],
    fallback: str,
) -> None:
    query = "{ datasets(first: 5) { edges { node { accession " + fallback + " } } } }"
    steward = catalog["headers"]["steward"]
    response = client.post("/graphql", json={"query": query}, headers=steward)
    expected = general.post("/graphql", json={"query": query}, headers=steward)
    assert _differences(response.json(), expected.json()) == []
    with counting(connection) as statements:
        client.post("/graphql", json={"query": query}, headers=steward)
    assert not any("json_build_object" in s for s in statements)


def test_errors_inside_a_page_are_those_of_the_general_path(
    client: TestClient, general: TestClient, catalog: dict[str, Any]
) -> None:
    query = "{ datasets(first: 2) { edges { node { files(first: 101) { totalCount } } } } }"
    body = client.post("/graphql", json={"query": query}).json()
    assert body == general.post("/graphql", json={"query": query}).json()
    assert body["data"]["datasets"]["edges"] == [{"node": None}, {"node": None}]
    assert "first must be between 1 and 100" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["datasets", "edges", 0, "node", "files"]
