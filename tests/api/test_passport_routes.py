"""The passport routes of Atrium's issuer, and the round trip: a passport Atrium issues opens
the controlled files through DRS for a caller with no bearer token, when Atrium trusts its own
passports, and not once the visa's grant has ended or the key that signed it is retired."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app
from api.auth.issuer import BuiltinIssuer
from api.settings import Settings
from catalog import service
from catalog.models import Dataset, Organization
from catalog.principals import SYSTEM
from catalog.schemas import FileCreate
from governance.access import dataset_url
from governance.service import revoke_grant
from governance.signing_keys import KeyRing
from tests.factories import Factory

BASE = "https://atrium.test"
DRS = "/ga4gh/drs/v1/objects"


@dataclass
class Atrium:
    client: TestClient
    factory: Factory
    issuer: BuiltinIssuer


def atrium_at(
    tmp_path: Path, db: Session, sessions: sessionmaker[Session], **options: Any
) -> Iterator[Atrium]:
    settings = Settings(data_dir=tmp_path, public_base_url=BASE, **options)
    issuer = BuiltinIssuer(BASE, settings.token_audience, KeyRing.open(tmp_path / "ring"))
    app = create_app(settings, sessions, issuer=issuer)
    with TestClient(app, base_url=BASE) as client:
        yield Atrium(client, Factory(db, issuer=issuer), issuer)


@pytest.fixture
def atrium(tmp_path: Path, db: Session, sessions: sessionmaker[Session]) -> Iterator[Atrium]:
    yield from atrium_at(tmp_path, db, sessions, trust_own_passports=True)


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def passport_of(atrium: Atrium, subject: str) -> str:
    response = atrium.client.get(
        "/ga4gh/passport/v1/passport", headers=atrium.factory.headers(subject)
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def controlled(atrium: Atrium, steward: Organization | None = None) -> tuple[Dataset, str]:
    """A published controlled dataset with one file served over https."""
    dataset = atrium.factory.dataset(steward, access_level="controlled")
    file = FileCreate.model_validate(
        {
            "name": "reads.cram",
            "size": 10,
            "checksums": [{"type": "md5", "checksum": "0" * 32}],
            "access_methods": [{"type": "https", "url": "https://data.example.org/reads.cram"}],
        }
    )
    session = atrium.factory.session
    (object_id,) = service.register_files(
        session, SYSTEM, accession=dataset.accession, files=[file]
    )
    return service.publish_dataset(session, SYSTEM, accession=dataset.accession), object_id


def test_the_passport_route_answers_like_a_token_exchange(atrium: Atrium) -> None:
    dataset, _ = controlled(atrium)
    atrium.factory.grant("gina", dataset)

    response = atrium.client.get(
        "/ga4gh/passport/v1/passport", headers=atrium.factory.headers("gina")
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache, no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["issued_token_type"] == "urn:ga4gh:params:oauth:token-type:passport"
    assert body["token_type"] == "Bearer"
    assert 3590 <= body["expires_in"] <= 3600
    claims = claims_of(body["access_token"])
    assert claims["iss"] == BASE
    assert claims["sub"] == "gina"
    (visa,) = claims["ga4gh_passport_v1"]
    assert claims_of(visa)["ga4gh_visa_v1"]["value"] == dataset_url(BASE, dataset.accession)


def test_userinfo_lists_the_visas(atrium: Atrium) -> None:
    dataset, _ = controlled(atrium)
    atrium.factory.grant("gina", dataset)

    response = atrium.client.get("/userinfo", headers=atrium.factory.headers("gina"))

    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == "gina"
    assert [claims_of(v)["ga4gh_visa_v1"]["value"] for v in body["ga4gh_passport_v1"]] == [
        dataset_url(BASE, dataset.accession)
    ]
    discovery = atrium.client.get("/.well-known/openid-configuration").json()
    assert discovery["userinfo_endpoint"] == f"{BASE}/userinfo"


def test_a_caller_without_grants_gets_an_empty_passport(atrium: Atrium) -> None:
    assert claims_of(passport_of(atrium, "rita"))["ga4gh_passport_v1"] == []


def test_a_caller_atrium_never_stored_gets_an_empty_passport(atrium: Atrium) -> None:
    token = atrium.issuer.mint("never-seen")

    response = atrium.client.get(
        "/ga4gh/passport/v1/passport", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    claims = claims_of(response.json()["access_token"])
    assert (claims["sub"], claims["ga4gh_passport_v1"]) == ("never-seen", [])


@pytest.mark.parametrize("path", ["/ga4gh/passport/v1/passport", "/userinfo"])
def test_anonymous_callers_are_told_to_authenticate(atrium: Atrium, path: str) -> None:
    response = atrium.client.get(path)

    assert response.status_code == 401
    assert response.json() == {"msg": "a passport needs a bearer token", "status_code": 401}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_jwks_publishes_every_key_that_is_not_retired(atrium: Atrium) -> None:
    first = atrium.issuer.kid
    second = atrium.issuer.ring.rotate()

    published = atrium.client.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in published] == [first, second]
    atrium.issuer.ring.retire(first)
    published = atrium.client.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in published] == [second]


def test_a_passport_opens_controlled_files_through_drs(atrium: Atrium) -> None:
    dataset, object_id = controlled(atrium)
    atrium.factory.grant("gina", dataset)
    passport = passport_of(atrium, "gina")

    without = atrium.client.post(f"{DRS}/{object_id}", json={"passports": []})
    found = atrium.client.post(f"{DRS}/{object_id}", json={"passports": [passport]})
    access_id = found.json()["access_methods"][0]["access_id"]
    url = atrium.client.post(
        f"{DRS}/{object_id}/access/{access_id}", json={"passports": [passport]}
    )

    assert without.status_code == 401
    assert found.status_code == 200, found.text
    assert found.json()["id"] == object_id
    assert url.status_code == 200, url.text
    assert url.json()["url"] == "https://data.example.org/reads.cram"


def test_a_passport_for_another_dataset_opens_nothing_else(atrium: Atrium) -> None:
    granted, _ = controlled(atrium)
    _, other_object = controlled(atrium)
    atrium.factory.grant("gina", granted)

    response = atrium.client.post(
        f"{DRS}/{other_object}", json={"passports": [passport_of(atrium, "gina")]}
    )

    assert response.status_code == 403


def test_a_bulk_request_opens_only_the_datasets_its_passport_names(atrium: Atrium) -> None:
    steward = atrium.factory.organization()
    granted, granted_object = controlled(atrium, steward)
    _, other_object = controlled(atrium, steward)  # the same facts but for the dataset itself
    atrium.factory.grant("gina", granted)
    body = {
        "bulk_object_ids": [other_object, granted_object],
        "passports": [passport_of(atrium, "gina")],
    }

    answer = atrium.client.post(DRS, json=body).json()

    assert [o["id"] for o in answer["resolved_drs_object"]] == [granted_object]
    assert answer["unresolved_drs_objects"] == [{"error_code": 403, "object_ids": [other_object]}]


def test_a_revoked_grant_gives_no_visa_in_later_passports(atrium: Atrium) -> None:
    dataset, object_id = controlled(atrium)
    grant = atrium.factory.grant("gina", dataset)
    revoke_grant(atrium.factory.session, SYSTEM, grant_id=grant.id, reason="left the project")
    passport = passport_of(atrium, "gina")

    assert claims_of(passport)["ga4gh_passport_v1"] == []
    response = atrium.client.post(f"{DRS}/{object_id}", json={"passports": [passport]})
    assert response.status_code == 401, "a passport that grants nothing is no credential"


def test_a_passport_signed_by_a_retired_key_is_refused(atrium: Atrium) -> None:
    dataset, object_id = controlled(atrium)
    atrium.factory.grant("gina", dataset, expires_at=datetime.now(UTC) + timedelta(days=2))
    old_kid = atrium.issuer.kid
    passport = passport_of(atrium, "gina")
    atrium.issuer.ring.rotate()
    still = atrium.client.post(f"{DRS}/{object_id}", json={"passports": [passport]})

    atrium.issuer.ring.retire(old_kid)
    refused = atrium.client.post(f"{DRS}/{object_id}", json={"passports": [passport]})

    assert still.status_code == 200
    assert refused.status_code == 401
    assert refused.json()["msg"] == "passport is signed by an unknown key"


def test_atrium_refuses_its_own_passports_unless_told_to_trust_them(
    tmp_path: Path, db: Session, sessions: sessionmaker[Session]
) -> None:
    for atrium in atrium_at(tmp_path, db, sessions):
        dataset, object_id = controlled(atrium)
        atrium.factory.grant("gina", dataset)
        passport = passport_of(atrium, "gina")

        response = atrium.client.post(f"{DRS}/{object_id}", json={"passports": [passport]})

        assert response.status_code == 401
        assert response.json()["msg"] == "this server trusts no passport brokers"
