"""The automatic DUO review through GraphQL, end to end: a researcher submits, the committee
reads the matcher's verdict with its reasons and its notification, decides, and the requester
reads the decision's notification and whether the committee agreed with the matcher."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from catalog.models import RoleName
from tests.api.graphql import gql
from tests.factories import Factory

CREATE = """mutation($i: AccessRequestInput!) { accessRequestCreate(input: $i) {
  request { id } errors { field code } } }"""
SUBMIT = """mutation($id: UUID!) { accessRequestSubmit(id: $id) {
  request { reviews { id } } errors { field code } } }"""
START = "mutation($id: UUID!) { reviewStart(id: $id) { errors { code } } }"
DECIDE = """mutation($id: UUID!, $d: ReviewDecision!) { reviewDecide(id: $id, decision: $d) {
  review { state committeeAgreedWithAlgorithm } errors { code } } }"""
READ = """query($id: UUID!) { accessRequest(id: $id) { reviews {
  committeeAgreedWithAlgorithm
  algorithm { outcome datasets { accession outcome checks { code outcome reason } } } } } }"""
NOTIFICATIONS = "{ notifications { totalCount edges { node { kind payload } } } }"
DENIAL = (
    "DS-MONDO:0007254 requires disease-specific research on breast cancer or a subtype; "
    "request is for MONDO:0005015 (diabetes mellitus)"
)


def request_for(accessions: list[str]) -> dict[str, Any]:
    return {
        "projectTitle": "Insulin resistance",
        "laySummary": "Why some bodies stop answering insulin.",
        "researchUse": "GWAS of fasting glucose.",
        "purposes": ["DS"],
        "diseases": ["MONDO:0005015"],
        "durationDays": 30,
        "institution": "Northbridge",
        "datasets": [{"accession": a} for a in accessions],
    }


def test_the_committee_sees_the_matchers_verdict_and_records_its_agreement(
    client: TestClient, factory: Factory
) -> None:
    steward = factory.organization()
    committee = factory.committee(steward)

    def governed(data_use: dict[str, Any]) -> str:
        return factory.dataset(
            steward,
            publish=True,
            access_level="controlled",
            committee=committee.slug,
            data_use=data_use,
        ).accession

    breast = governed({"permission": "DS", "diseases": ["MONDO:0007254"]})
    gru = governed({"permission": "GRU"})
    irb = governed({"permission": "GRU", "modifiers": ["IRB"]})
    rita = factory.headers("rita")
    carla = factory.headers("carla", (RoleName.COMMITTEE_CHAIR, committee.slug))
    mo = factory.headers("mo", (RoleName.COMMITTEE_MEMBER, committee.slug))

    created = gql(client, CREATE, {"i": request_for([breast, gru, irb])}, rita)
    request_id = created["accessRequestCreate"]["request"]["id"]
    submitted = gql(client, SUBMIT, {"id": request_id}, rita)["accessRequestSubmit"]
    assert submitted["errors"] == []
    (review_id,) = [r["id"] for r in submitted["request"]["reviews"]]

    (review,) = gql(client, READ, {"id": request_id}, mo)["accessRequest"]["reviews"]
    assert review["committeeAgreedWithAlgorithm"] is None
    algorithm = review["algorithm"]
    assert algorithm["outcome"] == "DENY"
    by_accession = {d["accession"]: d for d in algorithm["datasets"]}
    assert list(by_accession) == sorted([breast, gru, irb])
    assert by_accession[breast]["outcome"] == "DENY"
    assert by_accession[breast]["checks"] == [
        {"code": "DS-MONDO:0007254", "outcome": "DENY", "reason": DENIAL}
    ]
    assert by_accession[gru]["outcome"] == "APPROVE"
    assert by_accession[irb]["outcome"] == "NEEDS_REVIEW"
    assert {c["code"]: c["outcome"] for c in by_accession[irb]["checks"]} == {
        "GRU": "APPROVE",
        "IRB": "NEEDS_REVIEW",
    }

    (told,) = gql(client, NOTIFICATIONS, headers=mo)["notifications"]["edges"]
    assert told["node"]["kind"] == "REQUEST_SUBMITTED"
    assert json.loads(told["node"]["payload"])["request_id"] == request_id
    assert json.loads(told["node"]["payload"])["algorithm_outcome"] == "deny"
    assert gql(client, NOTIFICATIONS, headers=rita)["notifications"]["totalCount"] == 0

    assert gql(client, START, {"id": review_id}, carla)["reviewStart"]["errors"] == []
    decided = gql(client, DECIDE, {"id": review_id, "d": "REJECT"}, carla)["reviewDecide"]
    assert decided == {
        "review": {"state": "REJECTED", "committeeAgreedWithAlgorithm": True},
        "errors": [],
    }

    (seen,) = gql(client, READ, {"id": request_id}, rita)["accessRequest"]["reviews"]
    assert seen["committeeAgreedWithAlgorithm"] is True
    assert seen["algorithm"] == algorithm, "the requester reads what the committee read"
    (news,) = gql(client, NOTIFICATIONS, headers=rita)["notifications"]["edges"]
    assert news["node"]["kind"] == "REQUEST_DECIDED"
    payload = json.loads(news["node"]["payload"])
    assert (payload["request_id"], payload["review_state"]) == (request_id, "rejected")
    assert payload["decisions"] == [{"committee": committee.slug, "state": "rejected"}]
    assert payload["datasets"] == sorted([breast, gru, irb])
