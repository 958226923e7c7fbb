"""Every catalog mutation against every role: who may, and the code everyone else gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.models import Dataset, Organization, RoleName
from governance import repository as governance_repository
from governance import requests, reviews
from tests.api.graphql import gql
from tests.factories import Factory, request_input

ROLES = (
    "anonymous",
    "researcher",
    "steward",
    "other_steward",
    "committee_member",
    "committee_chair",
    "funder_auditor",
    "admin",
)


@dataclass
class World:
    steward: Organization
    draft: Dataset
    published: Dataset
    file_id: str
    grant_id: str
    headers: dict[str, dict[str, str]]
    committee: str
    draft_request: str
    changes_requested: str
    approved_request: str
    submitted_review: str
    review_under_way: str


@pytest.fixture
def world(factory: Factory) -> World:
    steward = factory.organization()
    funder = factory.organization("funder")
    committee = factory.committee(steward)
    draft = factory.dataset(steward, committee=committee.slug)
    published = factory.dataset(
        steward, publish=True, access_level="controlled", committee=committee.slug
    )
    file_id = factory.files(published, 1)[0]
    grant = factory.grant("gina", published)
    headers = {
        "anonymous": {},
        "researcher": factory.headers("rita"),
        "steward": factory.headers("sam", (RoleName.STEWARD, steward.slug)),
        "other_steward": factory.headers("otto", (RoleName.STEWARD, factory.organization().slug)),
        "committee_member": factory.headers("mo", (RoleName.COMMITTEE_MEMBER, committee.slug)),
        "committee_chair": factory.headers("carla", (RoleName.COMMITTEE_CHAIR, committee.slug)),
        "funder_auditor": factory.headers("fiona", (RoleName.FUNDER_AUDITOR, funder.slug)),
        "admin": factory.headers("ada", (RoleName.ADMIN, None)),
    }
    rita = factory.principal("rita")
    chair = factory.principal("carla")

    def request(*steps: str) -> tuple[str, str | None]:
        """A request of rita's for the published dataset, taken through ``steps``."""
        session = factory.session
        made = requests.create(session, rita, data=request_input(published))
        if steps:
            requests.submit(session, rita, request_id=made.id)
        found = governance_repository.reviews_of_requests(session, [made.id])[made.id]
        review_id = found[0].id if found else None
        for step in steps[1:]:
            assert review_id is not None
            if step == "start":
                reviews.start(session, chair, review_id=review_id)
            elif step == "changes":
                reviews.request_changes(session, chair, review_id=review_id, comment="c")
            else:
                reviews.decide(session, chair, review_id=review_id, approve=True)
        return str(made.id), str(review_id)

    return World(
        steward,
        draft,
        published,
        file_id,
        str(grant.id),
        headers,
        committee=committee.slug,
        draft_request=request()[0],
        changes_requested=request("submit", "start", "changes")[0],
        approved_request=request("submit", "start", "approve")[0],
        submitted_review=request("submit")[1],
        review_under_way=request("submit", "start")[1],
    )


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    variables: Callable[[World], dict[str, Any]]
    allowed: frozenset[str]
    refused_code: Callable[[str], str] = lambda _role: "FORBIDDEN"


def _hidden_draft(role: str) -> str:
    """Callers who may not see a draft are told it does not exist, not that it is forbidden."""
    return "FORBIDDEN" if role in ("steward", "admin") else "NOT_FOUND"


STEWARDS = frozenset({"steward", "admin"})
REQUESTER = frozenset({"researcher"})
COMMITTEE = frozenset({"committee_member", "committee_chair"})
SIGNED_IN_NOT_AUDITOR = frozenset(
    {"researcher", "steward", "other_steward", "committee_member", "committee_chair", "admin"}
)
REQUEST = (
    '{projectTitle: "P", laySummary: "L", researchUse: "R", purposes: [GRU], durationDays: 30,'
    ' institution: "I", datasets: [{accession: $a}]}'
)


def request_case(name: str, world_field: str) -> Case:
    return Case(
        name,
        f"mutation($r: UUID!) {{ {name}(id: $r) {{ errors {{ code }} }} }}",
        lambda w: {"r": getattr(w, world_field)},
        REQUESTER,
    )


CASES = [
    Case(
        "datasetCreate",
        "mutation($i: DatasetCreateInput!) { datasetCreate(input: $i) { errors { code } } }",
        lambda w: {"i": {"title": "T", "accessLevel": "OPEN", "steward": w.steward.slug}},
        STEWARDS,
    ),
    Case(
        "datasetUpdate",
        'mutation($a: String!) { datasetUpdate(accession: $a, input: {title: "New"}) {'
        " errors { code } } }",
        lambda w: {"a": w.published.accession},
        STEWARDS,
    ),
    Case(
        "datasetPublish",
        "mutation($a: String!) { datasetPublish(accession: $a) { errors { code } } }",
        lambda w: {"a": w.draft.accession},
        STEWARDS,
        _hidden_draft,
    ),
    Case(
        "datasetRetire",
        'mutation($a: String!) { datasetRetire(accession: $a, reason: "r") { errors { code } } }',
        lambda w: {"a": w.published.accession},
        STEWARDS,
    ),
    Case(
        "filesRegister",
        "mutation($a: String!, $f: [FileInput!]!) { filesRegister(accession: $a, files: $f) {"
        " errors { code } } }",
        lambda w: {
            "a": w.published.accession,
            "f": [
                {
                    "name": "x.vcf",
                    "size": 1,
                    "checksums": [{"type": "md5", "checksum": "0" * 32}],
                    "accessMethods": [{"type": "https", "url": "https://example.org/x.vcf"}],
                }
            ],
        },
        STEWARDS,
    ),
    Case(
        "bundleCreate",
        'mutation($a: String!, $id: ID!) { bundleCreate(accession: $a, input: {name: "b",'
        ' members: [{name: "m", objectId: $id}]}) { errors { code } } }',
        lambda w: {"a": w.published.accession, "id": w.file_id},
        STEWARDS,
    ),
    Case(
        "organizationCreate",
        'mutation { organizationCreate(input: {slug: "fresh-org", name: "F", kind: STEWARD})'
        " { errors { code } } }",
        lambda w: {},
        frozenset({"admin"}),
    ),
    Case(
        "committeeCreate",
        'mutation($o: String!) { committeeCreate(input: {organization: $o, slug: "fresh-dac",'
        ' name: "D"}) { errors { code } } }',
        lambda w: {"o": w.steward.slug},
        STEWARDS,
    ),
    Case(
        "roleAssign",
        'mutation { roleAssign(subject: "newbie", role: ADMIN) { errors { code } } }',
        lambda w: {},
        frozenset({"admin"}),
    ),
    Case(
        "accessGrantCreate",
        'mutation($a: String!) { accessGrantCreate(subject: "gina", accession: $a,'
        ' expiresAt: "2099-01-01T00:00:00Z") { errors { code } } }',
        lambda w: {"a": w.published.accession},
        frozenset({"admin"}),
    ),
    Case(
        "accessGrantRevoke",
        'mutation($g: UUID!) { accessGrantRevoke(id: $g, reason: "audit finding") {'
        " errors { code } } }",
        lambda w: {"g": w.grant_id},
        frozenset({"admin"}) | COMMITTEE,
    ),
    Case(
        "datasetTermsPublish",
        'mutation($a: String!) { datasetTermsPublish(accession: $a, text: "Cite us.") {'
        " errors { code } } }",
        lambda w: {"a": w.published.accession},
        STEWARDS,
    ),
    Case(
        "committeeConfigure",
        "mutation($c: String!) { committeeConfigure(committee: $c, input: {decisionRule: CHAIR,"
        " slaDays: 10, maxGrantDays: 365}) { errors { code } } }",
        lambda w: {"c": w.committee},
        STEWARDS,
    ),
    Case(
        "committeeMemberAdd",
        'mutation($c: String!) { committeeMemberAdd(committee: $c, subject: "newbie",'
        " role: MEMBER) { errors { code } } }",
        lambda w: {"c": w.committee},
        STEWARDS,
    ),
    Case(
        "committeeMemberRemove",
        'mutation($c: String!) { committeeMemberRemove(committee: $c, subject: "mo") {'
        " errors { code } } }",
        lambda w: {"c": w.committee},
        STEWARDS,
    ),
    Case(
        "accessRequestCreate",
        f"mutation($a: String!) {{ accessRequestCreate(input: {REQUEST}) {{"
        " errors { code } } }",
        lambda w: {"a": w.published.accession},
        SIGNED_IN_NOT_AUDITOR,
    ),
    Case(
        "accessRequestUpdate",
        f"mutation($r: UUID!, $a: String!) {{ accessRequestUpdate(id: $r, input: {REQUEST}) {{"
        " errors { code } } }",
        lambda w: {"r": w.draft_request, "a": w.published.accession},
        REQUESTER,
    ),
    request_case("accessRequestSubmit", "draft_request"),
    request_case("accessRequestWithdraw", "draft_request"),
    request_case("accessRequestResubmit", "changes_requested"),
    request_case("accessRequestRenew", "approved_request"),
    Case(
        "reviewStart",
        "mutation($v: UUID!) { reviewStart(id: $v) { errors { code } } }",
        lambda w: {"v": w.submitted_review},
        COMMITTEE,
    ),
    Case(
        "reviewRequestChanges",
        'mutation($v: UUID!) { reviewRequestChanges(id: $v, comment: "More detail.") {'
        " errors { code } } }",
        lambda w: {"v": w.review_under_way},
        COMMITTEE,
    ),
    Case(
        "reviewVote",
        "mutation($v: UUID!) { reviewVote(id: $v, choice: APPROVE) { errors { code } } }",
        lambda w: {"v": w.review_under_way},
        COMMITTEE,
    ),
    Case(
        "reviewDecide",
        "mutation($v: UUID!) { reviewDecide(id: $v, decision: APPROVE) { errors { code } } }",
        lambda w: {"v": w.review_under_way},
        frozenset({"committee_chair"}),
    ),
    Case(
        "notificationMarkRead",
        "mutation($i: [UUID!]!) { notificationMarkRead(ids: $i) { errors { code } } }",
        lambda w: {"i": [w.grant_id]},
        frozenset(ROLES) - {"anonymous"},
        lambda _role: "UNAUTHENTICATED",
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_mutation_authorization(client: TestClient, world: World, case: Case, role: str) -> None:
    data = gql(client, case.query, case.variables(world), world.headers[role])
    errors = data[case.name]["errors"]
    if role in case.allowed:
        assert errors == [], f"{role} should be allowed to {case.name}"
    else:
        assert errors == [{"code": case.refused_code(role)}], f"{role} must not {case.name}"


def test_every_mutation_is_in_the_matrix(app: Any) -> None:
    """A new mutation without an authorization case fails here instead of shipping unguarded."""
    mutation_type = app.state.graphql.schema.mutation_type
    assert set(mutation_type.fields) == {c.name for c in CASES}
