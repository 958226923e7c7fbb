"""``page_access`` decides a page's datasets once per combination of facts: it must answer what
``file_access`` and ``policies.stewards`` answer for each dataset on its own, for every
combination of the facts they read and every kind of caller."""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest

from api.graphql.access import file_access, page_access
from catalog import policies
from catalog.models import AccessLevel, DatasetStatus, RoleName
from catalog.principals import ANONYMOUS, SYSTEM, Principal, Role

STEWARD_ORG = uuid.uuid4()
OTHER_ORG = uuid.uuid4()
COMMITTEE = uuid.uuid4()
OTHER_COMMITTEE = uuid.uuid4()


def _signed_in(subject: str, *roles: Role) -> Principal:
    return Principal(
        issuer="https://idp", subject=subject, user_id=uuid.uuid4(), roles=frozenset(roles)
    )


PRINCIPALS = {
    "anonymous": ANONYMOUS,
    "researcher": _signed_in("rita"),
    "steward": _signed_in("sam", Role(RoleName.STEWARD, organization_id=STEWARD_ORG)),
    "committee member": _signed_in("cora", Role(RoleName.COMMITTEE_MEMBER, committee_id=COMMITTEE)),
    "committee chair": _signed_in("carl", Role(RoleName.COMMITTEE_CHAIR, committee_id=COMMITTEE)),
    "funder auditor": _signed_in("fay", Role(RoleName.FUNDER_AUDITOR, organization_id=OTHER_ORG)),
    "admin": SYSTEM,
}


class Facts(NamedTuple):
    id: uuid.UUID
    accession: str
    steward_id: uuid.UUID
    status: DatasetStatus
    access_level: AccessLevel
    committee_id: uuid.UUID | None


class Grants:
    def __init__(self, held: set[uuid.UUID]) -> None:
        self.held = held

    def get(self, dataset_id: uuid.UUID) -> bool:
        return dataset_id in self.held


def _page() -> tuple[list[Facts], set[uuid.UUID]]:
    """Two datasets of every combination, one granted to the caller and one not."""
    datasets, granted = [], set()
    combinations = itertools.product(
        (STEWARD_ORG, OTHER_ORG),
        DatasetStatus,
        AccessLevel,
        (COMMITTEE, OTHER_COMMITTEE, None),
        (True, False),
    )
    for number, (steward, status, level, committee, grant) in enumerate(combinations):
        dataset = Facts(uuid.uuid4(), f"ATR-DS-{number:06d}", steward, status, level, committee)
        datasets.append(dataset)
        if grant:
            granted.add(dataset.id)
    return datasets, granted


@pytest.mark.parametrize("caller", PRINCIPALS)
def test_a_page_is_decided_as_each_dataset_alone(caller: str) -> None:
    datasets, granted = _page()
    context: Any = SimpleNamespace(
        principal=PRINCIPALS[caller],
        base_url="https://atrium.example.org",
        loaders=SimpleNamespace(
            catalog=SimpleNamespace(active_grant_by_dataset_id=Grants(granted))
        ),
    )
    alone = [
        (*file_access(context, d), policies.stewards(context.principal, d.steward_id))
        for d in datasets
    ]
    assert page_access(context, datasets) == alone
    assert len(set(alone)) > 1
