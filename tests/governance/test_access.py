"""The access rule, exhaustively: every access level and status against every kind of caller."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from catalog.models import AccessLevel, DatasetStatus, RoleName
from catalog.principals import ANONYMOUS, SYSTEM, Principal, Role
from governance.access import (
    DatasetAccessFacts,
    Decision,
    dataset_url,
    decision_key,
    read_bytes,
    readable_scope,
)
from governance.repository import has_grant
from governance.service import revoke_grant
from tests.factories import Factory

STEWARD_ORG = uuid.uuid4()
URL = dataset_url("https://atrium.example.org", "ATR-DS-000001")
RESEARCHER = Principal(issuer="https://idp", subject="rita", user_id=uuid.uuid4())
STEWARD = Principal(
    issuer="https://idp",
    subject="sam",
    user_id=uuid.uuid4(),
    roles=frozenset({Role(RoleName.STEWARD, organization_id=STEWARD_ORG)}),
)
ADMIN = Principal(
    issuer="https://idp",
    subject="ada",
    user_id=uuid.uuid4(),
    roles=frozenset({Role(RoleName.ADMIN)}),
)
A, N, D = Decision.ALLOWED, Decision.NEEDS_AUTHENTICATION, Decision.DENIED


def facts(
    level: AccessLevel, status: DatasetStatus = DatasetStatus.PUBLISHED
) -> DatasetAccessFacts:
    return DatasetAccessFacts(
        id=uuid.uuid4(), url=URL, access_level=level, status=status, steward_id=STEWARD_ORG
    )


@pytest.mark.parametrize(
    ("level", "principal", "grant", "visas", "expected"),
    [
        (AccessLevel.OPEN, ANONYMOUS, False, (), A),
        (AccessLevel.OPEN, RESEARCHER, False, (), A),
        (AccessLevel.REGISTERED, ANONYMOUS, False, (), N),
        (AccessLevel.REGISTERED, RESEARCHER, False, (), A),
        (AccessLevel.CONTROLLED, ANONYMOUS, False, (), N),
        (AccessLevel.CONTROLLED, RESEARCHER, False, (), D),
        (AccessLevel.CONTROLLED, RESEARCHER, True, (), A),
        (AccessLevel.CONTROLLED, ANONYMOUS, False, (URL,), A),
        (AccessLevel.CONTROLLED, RESEARCHER, False, (URL,), A),
        (AccessLevel.CONTROLLED, ANONYMOUS, False, (URL + "0",), D),
        (AccessLevel.CONTROLLED, STEWARD, False, (), A),
        (AccessLevel.CONTROLLED, ADMIN, False, (), D),
        (AccessLevel.CONTROLLED, ADMIN, True, (), A),
    ],
)
def test_published_dataset(
    level: AccessLevel,
    principal: Principal,
    grant: bool,
    visas: tuple[str, ...],
    expected: Decision,
) -> None:
    decision = read_bytes(principal, facts(level), has_active_grant=grant, visa_dataset_urls=visas)
    assert decision is expected


@pytest.mark.parametrize("status", [DatasetStatus.DRAFT, DatasetStatus.RETIRED])
@pytest.mark.parametrize("level", list(AccessLevel))
def test_only_stewards_read_drafts_and_retired_datasets(
    status: DatasetStatus, level: AccessLevel
) -> None:
    dataset = facts(level, status)
    assert read_bytes(STEWARD, dataset, has_active_grant=False) is A
    for someone in (ANONYMOUS, RESEARCHER, ADMIN):
        assert read_bytes(someone, dataset, has_active_grant=True, visa_dataset_urls=[URL]) is D


def test_equal_decision_keys_mean_equal_decisions() -> None:
    """Two datasets whose keys are equal get the same decision from ``read_bytes`` for every
    caller and set of visas: the key names every fact the rule reads. A new fact of
    ``DatasetAccessFacts`` must be added to the key (and here)."""
    assert [f.name for f in dataclasses.fields(DatasetAccessFacts)] == [
        "id",
        "url",
        "access_level",
        "status",
        "steward_id",
    ]
    other = dataset_url("https://atrium.example.org", "ATR-DS-000002")
    datasets = [
        (DatasetAccessFacts(uuid.uuid4(), url, level, status, steward), grant)
        for url, level, status, steward, grant in itertools.product(
            [URL, other], AccessLevel, DatasetStatus, [STEWARD_ORG, uuid.uuid4()], [False, True]
        )
    ]
    for principal, visas in itertools.product(
        [ANONYMOUS, RESEARCHER, STEWARD, ADMIN], [(), (URL,), (other,)]
    ):
        decided: dict[tuple[object, ...], Decision] = {}
        for dataset, grant in datasets:
            key = decision_key(
                access_level=dataset.access_level.value,
                status=dataset.status.value,
                steward_id=dataset.steward_id,
                has_active_grant=grant,
                dataset=dataset.url if visas else None,
            )
            decision = read_bytes(
                principal, dataset, has_active_grant=grant, visa_dataset_urls=visas
            )
            assert decided.setdefault(key, decision) is decision, (principal, visas, dataset)


def test_dataset_url_is_stable() -> None:
    assert URL == "https://atrium.example.org/datasets/ATR-DS-000001"


@pytest.mark.parametrize("status", list(DatasetStatus))
@pytest.mark.parametrize("level", list(AccessLevel))
@pytest.mark.parametrize("principal", [ANONYMOUS, RESEARCHER, STEWARD, ADMIN])
@pytest.mark.parametrize("grant", [False, True])
@pytest.mark.parametrize("visa", [False, True])
def test_the_set_form_agrees_with_the_rule(
    status: DatasetStatus, level: AccessLevel, principal: Principal, grant: bool, visa: bool
) -> None:
    """Search filters with the scope; DRS decides with read_bytes: they must never differ."""
    dataset = facts(level, status)
    scope = readable_scope(
        principal,
        granted_dataset_ids={dataset.id} if grant else set(),
        visa_dataset_ids={dataset.id} if visa else set(),
    )
    decision = read_bytes(
        principal, dataset, has_active_grant=grant, visa_dataset_urls=[URL] if visa else []
    )

    assert scope.admits(dataset) is decision.allowed


def test_has_grant_is_true_only_for_an_active_grant_of_that_dataset(
    db: Session, factory: Factory
) -> None:
    granted = factory.dataset(publish=True, access_level="controlled")
    other = factory.dataset(publish=True, access_level="controlled")
    grant = factory.grant("gina", granted)
    now = datetime.now(UTC)

    assert has_grant(db, grant.user_id, granted.id, now) is True
    assert has_grant(db, grant.user_id, other.id, now) is False
    assert has_grant(db, grant.user_id, granted.id, grant.expires_at) is False
    revoke_grant(db, SYSTEM, grant_id=grant.id, reason="done")
    assert has_grant(db, grant.user_id, granted.id, now) is False
