"""Access requests through GraphQL: who reads what, and bad input as typed errors with paths."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from catalog.models import RoleName
from governance import repository as repo
from governance import requests, reviews
from tests.api.graphql import gql
from tests.factories import Factory, request_input

READ = "query($id: UUID!) { accessRequest(id: $id) { state requester datasets { dataset {"
READ += " accession } } reviews { state committee { slug rules { decisionRule } }"
READ += " algorithm { outcome datasets { accession checks { code outcome } } }"
READ += " committeeAgreedWithAlgorithm } } }"
GRANTS = "query($a: String!) { datasetGrants(accession: $a) { holder active requestId } }"
CREATE = """mutation($i: AccessRequestInput!) { accessRequestCreate(input: $i) {
  request { id state } errors { field message code } } }"""


@pytest.fixture
def setting(factory: Factory) -> dict[str, object]:
    steward = factory.organization()
    funder = factory.organization("funder")
    committee = factory.committee(steward)
    dataset = factory.dataset(
        steward,
        publish=True,
        access_level="controlled",
        committee=committee.slug,
        funders=[{"funder": funder.slug}],
        data_use={"permission": "GRU"},
    )
    rita = factory.principal("rita")
    chair = factory.principal("carla", (RoleName.COMMITTEE_CHAIR, committee.slug))
    draft = requests.create(factory.session, rita, data=request_input(dataset))
    sent = requests.create(factory.session, rita, data=request_input(dataset))
    requests.submit(factory.session, rita, request_id=sent.id)
    (review,) = repo.reviews_of_requests(factory.session, [sent.id])[sent.id]
    reviews.start(factory.session, chair, review_id=review.id)
    reviews.decide(factory.session, chair, review_id=review.id, approve=True)
    other = factory.committee(steward)
    headers = {
        "anonymous": {},
        "requester": factory.headers("rita"),
        "other_researcher": factory.headers("otis"),
        "steward": factory.headers("sam", (RoleName.STEWARD, steward.slug)),
        "other_steward": factory.headers("otto", (RoleName.STEWARD, factory.organization().slug)),
        "chair": factory.headers("carla"),
        "other_committee": factory.headers("olga", (RoleName.COMMITTEE_CHAIR, other.slug)),
        "funder_auditor": factory.headers("fiona", (RoleName.FUNDER_AUDITOR, funder.slug)),
        "admin": factory.headers("ada", (RoleName.ADMIN, None)),
    }
    return {"dataset": dataset, "draft": str(draft.id), "sent": str(sent.id), "headers": headers}


SEES_SUBMITTED = {"requester", "steward", "chair", "funder_auditor", "admin"}
SEES_GRANTS = {"steward", "chair", "admin"}


@pytest.mark.parametrize(
    "role",
    [
        "anonymous",
        "requester",
        "other_researcher",
        "steward",
        "other_steward",
        "chair",
        "other_committee",
        "funder_auditor",
        "admin",
    ],
)
def test_who_reads_requests_and_grants(
    client: TestClient, setting: dict[str, object], role: str
) -> None:
    headers = setting["headers"][role]  # type: ignore[index]
    sent = gql(client, READ, {"id": setting["sent"]}, headers)["accessRequest"]
    draft = gql(client, READ, {"id": setting["draft"]}, headers)["accessRequest"]
    accession = setting["dataset"].accession  # type: ignore[attr-defined]
    holders = gql(client, GRANTS, {"a": accession}, headers)["datasetGrants"]
    listed = gql(client, "{ accessRequests { totalCount } }", headers=headers)

    assert (sent is not None) == (role in SEES_SUBMITTED)
    assert (draft is not None) == (role in {"requester", "admin"}), "drafts are private"
    assert listed["accessRequests"]["totalCount"] == ((sent is not None) + (draft is not None))
    if sent is not None:
        assert sent["state"] == "APPROVED"
        assert sent["requester"] == "rita"
        assert sent["reviews"][0]["state"] == "APPROVED"
        assert sent["reviews"][0]["committee"]["rules"] == {"decisionRule": "CHAIR"}
        assert sent["reviews"][0]["algorithm"] == {
            "outcome": "APPROVE",
            "datasets": [
                {"accession": accession, "checks": [{"code": "GRU", "outcome": "APPROVE"}]}
            ],
        }, "whoever reads the request reads the matcher's verdict"
        assert sent["reviews"][0]["committeeAgreedWithAlgorithm"] is True
    if role in SEES_GRANTS:
        assert holders == [{"holder": "rita", "active": True, "requestId": setting["sent"]}]
    else:
        assert holders is None


def test_my_grants_show_expiry(client: TestClient, setting: dict[str, object]) -> None:
    mine = gql(
        client,
        "{ myGrants { dataset { accession } expiresAt active } }",
        headers=setting["headers"]["requester"],  # type: ignore[index]
    )["myGrants"]
    assert [(g["dataset"]["accession"], g["active"]) for g in mine] == [
        (setting["dataset"].accession, True)  # type: ignore[attr-defined]
    ]
    assert mine[0]["expiresAt"]


def base_input(accession: str, **fields: object) -> dict[str, object]:
    return {
        "projectTitle": "P",
        "laySummary": "L",
        "researchUse": "R",
        "purposes": ["HMB"],
        "durationDays": 30,
        "institution": "I",
        "datasets": [{"accession": accession}],
        **fields,
    }


def test_bad_requests_are_typed_errors_with_paths(
    client: TestClient, factory: Factory, setting: dict[str, object]
) -> None:
    rita = setting["headers"]["requester"]  # type: ignore[index]
    accession = setting["dataset"].accession  # type: ignore[attr-defined]
    open_one = factory.dataset(publish=True, access_level="open").accession
    cases = [
        (base_input(open_one), "input.datasets[0].accession", "INVALID"),
        (base_input("ATR-DS-999999"), "input.datasets[0].accession", "NOT_FOUND"),
        (base_input(accession, durationDays=400), "input.durationDays", "INVALID"),
        (base_input(accession, purposes=["DS"]), "input", "INVALID"),
        (base_input("nope"), "input.datasets[0].accession", "INVALID"),
    ]
    for data, field, code in cases:
        payload = gql(client, CREATE, {"i": data}, rita)["accessRequestCreate"]
        assert payload["request"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], data
