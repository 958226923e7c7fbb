"""Catalog queries through /graphql: lookups, visibility, pagination, filters, derived fields."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog import service
from catalog.models import RoleName
from catalog.principals import SYSTEM
from catalog.schemas import DatasetUpdate
from tests.api.graphql import gql, gql_errors
from tests.factories import Factory

DATASET_FIELDS = """
  accession title status version accessLevel fileCount totalBytes canReadFiles
  retiredReason retiredAt
  steward { slug kind }
  committee { slug organization { slug } }
  diseases { curie label }
  phenotypes { curie }
  dataUse { permission { code curie } diseases { curie label } modifiers { code } }
  funders { funder { slug } awardNumber }
  publications { scheme identifier url }
  versions { version publishedBy snapshot }
"""


def test_dataset_by_accession_and_by_id_return_the_same_dataset(
    client: TestClient, factory: Factory
) -> None:
    dataset = factory.dataset(publish=True, files=2)
    by_accession = gql(
        client,
        "query($a: String) { dataset(accession: $a) { id accession } }",
        {"a": dataset.accession},
    )["dataset"]
    by_id = gql(
        client, "query($i: UUID) { dataset(id: $i) { id accession } }", {"i": str(dataset.id)}
    )["dataset"]
    assert by_accession == by_id == {"id": str(dataset.id), "accession": dataset.accession}


def test_dataset_lookup_needs_exactly_one_key(client: TestClient) -> None:
    errors = gql_errors(client, "{ dataset { accession } }")
    assert errors[0]["extensions"]["code"] == "INVALID"
    assert "exactly one" in errors[0]["message"]


def test_unknown_dataset_is_null(client: TestClient) -> None:
    assert gql(client, '{ dataset(accession: "ATR-DS-999999") { title } }')["dataset"] is None


def test_full_dataset_metadata_round_trips(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    funder = factory.organization("funder")
    dataset = factory.dataset(
        steward,
        publish=True,
        access_level="controlled",
        diseases=["MONDO:0007254"],
        phenotypes=["HP:0000118"],
        data_use={"permission": "DS", "diseases": ["MONDO:0007254"], "modifiers": ["NPU", "IRB"]},
        funders=[{"funder": funder.slug, "award_number": "R01-HG-1"}],
        publications=[{"scheme": "doi", "identifier": "10.5555/atrium.1"}],
        files=3,
    )
    node = gql(
        client,
        f"query($a: String) {{ dataset(accession: $a) {{ {DATASET_FIELDS} }} }}",
        {"a": dataset.accession},
    )["dataset"]
    assert node["status"] == "PUBLISHED"
    assert node["version"] == 1
    assert node["accessLevel"] == "CONTROLLED"
    assert node["steward"] == {"slug": steward.slug, "kind": "STEWARD"}
    assert node["committee"]["organization"]["slug"] == steward.slug
    assert node["diseases"] == [{"curie": "MONDO:0007254", "label": "breast cancer"}]
    assert node["phenotypes"] == [{"curie": "HP:0000118"}]
    assert node["dataUse"]["permission"] == {"code": "DS", "curie": "DUO:0000007"}
    assert node["dataUse"]["diseases"] == [{"curie": "MONDO:0007254", "label": "breast cancer"}]
    assert sorted(m["code"] for m in node["dataUse"]["modifiers"]) == ["IRB", "NPU"]
    assert node["funders"] == [{"funder": {"slug": funder.slug}, "awardNumber": "R01-HG-1"}]
    assert node["publications"] == [
        {
            "scheme": "doi",
            "identifier": "10.5555/atrium.1",
            "url": "https://doi.org/10.5555/atrium.1",
        }
    ]
    assert node["fileCount"] == 3
    assert node["totalBytes"] == 1000 + 1001 + 1002
    assert node["canReadFiles"] is False  # controlled, anonymous caller
    assert node["versions"][0]["version"] == 1
    assert node["versions"][0]["snapshot"]  # a JSON document of the published metadata


def test_drafts_are_visible_only_to_their_stewards(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    draft = factory.dataset(steward)
    query = "query($a: String) { dataset(accession: $a) { status } }"
    assert gql(client, query, {"a": draft.accession})["dataset"] is None
    outsider = factory.headers("eve", (RoleName.STEWARD, factory.organization().slug))
    assert gql(client, query, {"a": draft.accession}, outsider)["dataset"] is None
    own = factory.headers("sam", (RoleName.STEWARD, steward.slug))
    assert gql(client, query, {"a": draft.accession}, own)["dataset"] == {"status": "DRAFT"}
    admin = factory.headers("ada", (RoleName.ADMIN, None))
    assert gql(client, query, {"a": draft.accession}, admin)["dataset"] == {"status": "DRAFT"}


def test_retired_dataset_answers_as_a_tombstone(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, files=2)
    service.retire_dataset(
        factory.session, SYSTEM, accession=dataset.accession, reason="consent withdrawn"
    )
    node = gql(
        client,
        "query($a: String) { dataset(accession: $a) { status retiredReason retiredAt title"
        " canReadFiles files { totalCount edges { node { id } } } } }",
        {"a": dataset.accession},
    )["dataset"]
    assert node["status"] == "RETIRED"
    assert node["retiredReason"] == "consent withdrawn"
    assert node["retiredAt"] is not None
    assert node["title"] == dataset.title
    assert node["canReadFiles"] is False
    assert node["files"] == {"totalCount": 0, "edges": []}
    listed = gql(client, "{ datasets { totalCount } }")["datasets"]["totalCount"]
    assert listed == 0  # retired datasets leave the default (published) list


def test_file_visibility_follows_access_level(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    open_ds = factory.dataset(steward, publish=True, files=1, access_level="open")
    registered = factory.dataset(steward, publish=True, files=1, access_level="registered")
    controlled = factory.dataset(steward, publish=True, files=1, access_level="controlled")
    query = "query($a: String) { dataset(accession: $a) { canReadFiles files { totalCount } } }"

    def visible(accession: str, headers: dict[str, str] | None = None) -> int:
        node = gql(client, query, {"a": accession}, headers)["dataset"]
        assert node["canReadFiles"] == (node["files"]["totalCount"] > 0)
        count: int = node["files"]["totalCount"]
        return count

    researcher = factory.headers("rita")
    assert visible(open_ds.accession) == 1
    assert visible(registered.accession) == 0
    assert visible(registered.accession, researcher) == 1
    assert visible(controlled.accession, researcher) == 0
    committee_slug = gql(
        client,
        "query($a: String) { dataset(accession: $a) { committee { slug } } }",
        {"a": controlled.accession},
    )["dataset"]["committee"]["slug"]
    member = factory.headers("mo", (RoleName.COMMITTEE_MEMBER, committee_slug))
    assert visible(controlled.accession, member) == 1
    assert (
        visible(controlled.accession, factory.headers("sam", (RoleName.STEWARD, steward.slug))) == 1
    )


def test_storage_urls_are_shown_to_stewards_only(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    dataset = factory.dataset(steward, publish=True, files=1)
    query = (
        "query($a: String) { dataset(accession: $a) { files { edges { node {"
        " accessMethods { type accessId url } } } } } }"
    )

    def methods(headers: dict[str, str] | None = None) -> list[dict[str, str | None]]:
        node = gql(client, query, {"a": dataset.accession}, headers)["dataset"]
        found: list[dict[str, str | None]] = node["files"]["edges"][0]["node"]["accessMethods"]
        return found

    assert methods() == [{"type": "s3", "accessId": "s3", "url": None}]
    own = factory.headers("sam", (RoleName.STEWARD, steward.slug))
    assert methods(own)[0]["url"].startswith("s3://bucket/")  # type: ignore[union-attr]


def test_datasets_pages_are_stable_and_complete(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    made = [factory.dataset(steward, publish=True, participant_count=n * 10) for n in range(7)]
    query = """query($after: String, $steward: String) {
      datasets(first: 3, after: $after, orderBy: {field: PARTICIPANTS, direction: DESC},
               filter: {steward: $steward}) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { accession participantCount } }
      } }"""
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = gql(client, query, {"after": after, "steward": steward.slug})["datasets"]
        assert page["totalCount"] == 7
        seen += [e["node"]["participantCount"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == sorted((d.participant_count or 0 for d in made), reverse=True)


@pytest.mark.parametrize("field", ["PARTICIPANTS", "TITLE", "UPDATED_AT", "ACCESSION"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_pages_walk_every_order_through_ties(
    client: TestClient, factory: Factory, field: str, direction: str
) -> None:
    """The cursor compares (sort value, accession) as a row: ties continue by accession."""
    steward = factory.organization()
    for n in range(7):
        factory.dataset(
            steward, publish=True, title=f"Same title {n % 2}", participant_count=(n % 3) * 10
        )
    query = """query($after: String, $steward: String, $field: DatasetSortField!,
                     $direction: SortDirection!) {
      datasets(first: 2, after: $after, orderBy: {field: $field, direction: $direction},
               filter: {steward: $steward}) {
        pageInfo { hasNextPage endCursor }
        edges { node { accession title participantCount updatedAt } }
      } }"""
    variables: dict[str, Any] = {"steward": steward.slug, "field": field, "direction": direction}
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(client, query, {**variables, "after": after})["datasets"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    value = {
        "PARTICIPANTS": lambda n: n["participantCount"],
        "TITLE": lambda n: n["title"],
        "UPDATED_AT": lambda n: n["updatedAt"],
        "ACCESSION": lambda n: n["accession"],
    }[field]
    expected = sorted(nodes, key=lambda n: (value(n), n["accession"]), reverse=direction == "DESC")
    assert len(nodes) == 7
    assert [n["accession"] for n in nodes] == [n["accession"] for n in expected]


def test_cursor_of_another_ordering_is_refused(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    for _ in range(2):
        factory.dataset(steward, publish=True)
    cursor = gql(client, "{ datasets(first: 1) { pageInfo { endCursor } } }")["datasets"][
        "pageInfo"
    ]["endCursor"]
    errors = gql_errors(
        client,
        "query($c: String) { datasets(first: 1, after: $c, orderBy: {field: TITLE}) {"
        " totalCount } }",
        {"c": cursor},
    )
    assert errors[0]["extensions"] == {"code": "INVALID", "field": "after"}
    garbage = gql_errors(client, '{ datasets(after: "not-a-cursor") { totalCount } }')
    assert garbage[0]["extensions"]["field"] == "after"


def test_page_size_bounds(client: TestClient) -> None:
    for first in (0, -1, 101):
        errors = gql_errors(client, f"{{ datasets(first: {first}) {{ totalCount }} }}")
        assert errors[0]["extensions"] == {"code": "INVALID", "field": "first"}


def test_dataset_filters(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    funder = factory.organization("funder")
    breast = factory.dataset(
        steward,
        publish=True,
        diseases=["MONDO:0007254"],
        data_types=["WGS"],
        file_formats=["CRAM"],
        funders=[{"funder": funder.slug}],
        title="Breast tumour genomes",
    )
    diabetes = factory.dataset(
        steward,
        publish=True,
        diseases=["MONDO:0005015"],
        data_types=["EHR"],
        access_level="registered",
    )

    def accessions(flt: str) -> set[str]:
        data = gql(
            client, f"{{ datasets(filter: {{{flt}}}) {{ edges {{ node {{ accession }} }} }} }}"
        )
        return {e["node"]["accession"] for e in data["datasets"]["edges"]}

    assert accessions(f'steward: "{steward.slug}"') == {breast.accession, diabetes.accession}
    assert accessions('disease: "MONDO:0004992"') == {breast.accession}  # cancer ⊃ breast cancer
    assert accessions('disease: "MONDO:0005015"') == {diabetes.accession}
    assert accessions('dataType: "EHR"') == {diabetes.accession}
    assert accessions('fileFormat: "CRAM"') == {breast.accession}
    assert accessions(f'funder: "{funder.slug}"') == {breast.accession}
    assert accessions("accessLevel: [REGISTERED]") == {diabetes.accession}
    assert accessions('text: "tumour"') == {breast.accession}
    assert accessions(f'text: "{diabetes.accession}"') == {diabetes.accession}
    assert accessions('text: "100%_"') == set()


def test_version_history_records_each_publication(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, title="First title")
    service.update_dataset(
        factory.session,
        SYSTEM,
        accession=dataset.accession,
        data=DatasetUpdate(title="Second title"),
    )
    service.publish_dataset(factory.session, SYSTEM, accession=dataset.accession)
    node = gql(
        client,
        "query($a: String) { dataset(accession: $a) { version versions { version snapshot } } }",
        {"a": dataset.accession},
    )["dataset"]
    assert node["version"] == 2
    import json

    titles = [(v["version"], json.loads(v["snapshot"])["title"]) for v in node["versions"]]
    assert titles == [(2, "Second title"), (1, "First title")]


def test_drs_object_by_id_and_alias(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True)
    from catalog.schemas import FileCreate

    service.register_files(
        factory.session,
        SYSTEM,
        accession=dataset.accession,
        files=[
            FileCreate.model_validate(
                {
                    "id": "obj-alias-1",
                    "name": "a.vcf.gz",
                    "size": 5,
                    "aliases": ["dg.4503/abc"],
                    "checksums": [{"type": "md5", "checksum": "0" * 32}],
                    "access_methods": [{"type": "https", "url": "https://example.org/a.vcf.gz"}],
                }
            )
        ],
    )
    query = "query($i: ID!) { drsObject(id: $i) { id name aliases dataset { accession } } }"
    by_id = gql(client, query, {"i": "obj-alias-1"})["drsObject"]
    by_alias = gql(client, query, {"i": "dg.4503/abc"})["drsObject"]
    assert by_id == by_alias
    assert by_id["aliases"] == ["dg.4503/abc"]
    assert by_id["dataset"]["accession"] == dataset.accession
    assert gql(client, query, {"i": "OBJ-ALIAS-1"})["drsObject"] is None  # ids are case-sensitive


def test_drs_object_of_controlled_dataset_is_hidden(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, access_level="controlled")
    ids = factory.files(dataset, 1)
    query = "query($i: ID!) { drsObject(id: $i) { id } }"
    assert gql(client, query, {"i": ids[0]})["drsObject"] is None
    assert gql(client, query, {"i": ids[0]}, factory.headers("rita"))["drsObject"] is None


def test_me_for_anonymous(client: TestClient) -> None:
    assert gql(client, "{ me { authenticated subject roles { role } } }")["me"] == {
        "authenticated": False,
        "subject": None,
        "roles": [],
    }


def test_organizations_and_committees_lists(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    funder = factory.organization("funder")
    factory.committee(steward)
    data = gql(
        client,
        "{ organizations(kind: FUNDER) { slug } all: organizations { slug }"
        " committees { organization { slug } } }",
    )
    assert [o["slug"] for o in data["organizations"]] == [funder.slug]
    assert {steward.slug, funder.slug} <= {o["slug"] for o in data["all"]}
    assert data["committees"] == [{"organization": {"slug": steward.slug}}]
    one = gql(client, f'{{ organization(slug: "{steward.slug}") {{ name }} }}')["organization"]
    assert one == {"name": steward.name}


@pytest.mark.parametrize("first", ["0", "101", "null"])
def test_page_sizes_out_of_bounds_are_invalid(
    client: TestClient, factory: Factory, first: str
) -> None:
    factory.dataset(publish=True, files=1)
    files = f"edges {{ node {{ files(first: {first}) {{ totalCount }} }} }}"
    for query, path in (
        (f"{{ datasets(first: {first}) {{ totalCount }} }}", ["datasets"]),
        (f"{{ datasets(first: 1) {{ {files} }} }}", ["datasets", "edges", 0, "node", "files"]),
    ):
        (error,) = gql_errors(client, query)
        assert error["extensions"]["code"] == "INVALID"
        assert error["message"] == "first must be between 1 and 100"
        assert error["path"] == path


FORGED_DATASET_CURSORS = [
    ("ACCESSION", ["ACCESSION", False, [1], "ATR-DS-000001"]),
    ("ACCESSION", ["ACCESSION", False, {"a": 1}, "ATR-DS-000001"]),
    ("ACCESSION", ["ACCESSION", False, None, "ATR-DS-000001"]),
    ("ACCESSION", ["ACCESSION", False, 5, "ATR-DS-000001"]),
    ("ACCESSION", ["ACCESSION", False, "ATR-DS-000001", 7]),
    ("ACCESSION", ["ACCESSION", False, "ATR\u0000", "ATR-DS-000001"]),
    ("UPDATED_AT", ["UPDATED_AT", False, "garbage", "ATR-DS-000001"]),
    ("PARTICIPANTS", ["PARTICIPANTS", False, "abc", "ATR-DS-000001"]),
    ("PARTICIPANTS", ["PARTICIPANTS", False, True, "ATR-DS-000001"]),
    ("PARTICIPANTS", ["PARTICIPANTS", False, 2**40, "ATR-DS-000001"]),
]


def _forged(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(("sort", "payload"), FORGED_DATASET_CURSORS)
def test_a_forged_dataset_cursor_is_invalid(
    client: TestClient, factory: Factory, sort: str, payload: Any
) -> None:
    """Values of the wrong kind for the ordering would fail in Postgres: refused first."""
    factory.dataset(publish=True)
    query = """query($a: String, $s: DatasetSortField!) {
      datasets(after: $a, orderBy: {field: $s}) { totalCount } }"""
    (error,) = gql_errors(client, query, {"a": _forged(payload), "s": sort})
    assert error["extensions"]["code"] == "INVALID"
    assert error["message"] == "after is not a cursor of this ordering"


@pytest.mark.parametrize(
    "payload", ["[" * 5000, ["files", None], ["files", "a\u0000b"], ["files", 3], "not json"]
)
def test_a_forged_files_cursor_is_invalid(
    client: TestClient, factory: Factory, payload: Any
) -> None:
    factory.dataset(publish=True, files=2)
    query = """query($a: String) { datasets(first: 1) { edges { node {
      files(after: $a) { totalCount } } } } }"""
    (error,) = gql_errors(client, query, {"a": _forged(payload)})
    assert error["extensions"]["code"] == "INVALID"
    assert error["message"] == "after is not a cursor of this list"


def test_a_genuine_cursor_pages_on_by_update_time(client: TestClient, factory: Factory) -> None:
    for _ in range(3):
        factory.dataset(publish=True)
    query = """query($a: String) { datasets(first: 2, after: $a,
      orderBy: {field: UPDATED_AT, direction: DESC}) {
        pageInfo { endCursor hasNextPage } edges { node { accession } } } }"""
    first = gql(client, query)["datasets"]
    rest = gql(client, query, {"a": first["pageInfo"]["endCursor"]})["datasets"]
    seen = [e["node"]["accession"] for e in first["edges"] + rest["edges"]]
    assert len(seen) == len(set(seen)) == 3
    assert rest["pageInfo"]["hasNextPage"] is False
