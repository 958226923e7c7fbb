"""The fast path for plain ``GET /objects/{object_id}`` answers exactly as the routes do, and
only the plain form takes it."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from api.drs import fast_path
from catalog.models import RoleName
from tests.api.test_drs_contract import ALIAS_WITH_SLASH, Catalog, build_catalog
from tests.factories import Factory

OBJECTS = "/ga4gh/drs/v1/objects"


@pytest.fixture
def catalog(factory: Factory) -> Catalog:
    return build_catalog(factory)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the fast path answered."""
    ids: list[str] = []
    answer = fast_path.object_response

    async def counting(config: Any, object_id: str, claims: Any) -> Any:
        ids.append(object_id)
        return await answer(config, object_id, claims)

    monkeypatch.setattr(fast_path, "object_response", counting)
    return ids


@pytest.mark.parametrize(
    ("object_id", "who"),
    [
        ("open-a", None),
        ("reg-1", None),
        ("reg-1", "researcher"),
        ("ctl-1", None),
        ("ctl-1", "researcher"),
        ("ctl-1", "steward"),
        ("Legacy.ID", None),
        ("OPEN-A", None),
        ("no-such-object", None),
        ("atrium:open-a", None),
        ("bad%00id", None),
        ("bundle-outer", None),
        ("", None),
    ],
)
def test_a_plain_get_is_answered_by_the_fast_path_as_post_is_by_the_routes(
    client: TestClient,
    factory: Factory,
    catalog: Catalog,
    taken: list[str],
    object_id: str,
    who: str | None,
) -> None:
    headers = {}
    if who == "researcher":
        headers = factory.headers("rita")
    elif who == "steward":
        headers = factory.headers("stu", (RoleName.STEWARD, catalog.steward.slug))
    fast = client.get(f"{OBJECTS}/{object_id}", headers=headers)
    routed = client.post(f"{OBJECTS}/{object_id}", headers=headers)
    assert taken == [unquote(object_id)]
    assert fast.status_code == routed.status_code
    assert fast.json() == routed.json()
    assert fast.headers["content-type"] == routed.headers["content-type"]


@pytest.mark.parametrize(
    ("path", "expected_id"),
    [
        (f"{OBJECTS}/open-a?expand=true", "open-a"),
        (f"{OBJECTS}/{ALIAS_WITH_SLASH}", "open-a"),
        (f"{OBJECTS}/bundle-outer?expand=false", "bundle-outer"),
    ],
)
def test_every_other_object_request_goes_on_to_the_routes(
    client: TestClient, catalog: Catalog, taken: list[str], path: str, expected_id: str
) -> None:
    response = client.get(path)
    assert taken == []
    assert response.status_code == 200
    assert response.json()["id"] == expected_id


def test_access_urls_go_on_to_the_routes(
    client: TestClient, catalog: Catalog, taken: list[str]
) -> None:
    methods = client.get(f"{OBJECTS}/open-a").json()["access_methods"]
    assert taken == ["open-a"]
    inline = next(m for m in methods if "access_url" in m)
    response = client.get(f"{OBJECTS}/open-a/access/{inline['access_id']}")
    assert taken == ["open-a"]
    assert response.status_code == 200
    assert response.json()["url"] == inline["access_url"]["url"]


def test_an_unexpected_failure_is_a_bare_500(
    client: TestClient, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(fast_path, "object_response", broken)
    response = client.get(f"{OBJECTS}/open-a")
    assert response.status_code == 500
    assert response.json() == {"msg": "Internal server error", "status_code": 500}
