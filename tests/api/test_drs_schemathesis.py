"""Schemathesis over the DRS OpenAPI document that the app serves, in process (ASGI).

Each operation gets generated requests, valid and invalid: its examples phase uses the ids of
a small catalog (open, registered and controlled datasets, a nested bundle) and the fuzzing
phase anything the schemas allow or break. Every request is sent twice, anonymously and as the
holder of a grant of the controlled dataset; every answer must not be a 5xx, must have a
documented status code and content type, and must match its documented schema.

Bounded and repeatable: at most 30 generated examples per operation and phase, derandomized,
no example database, no network (S3 URLs are presigned with dummy credentials, locally).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from starlette.applications import Starlette

from api.drs.routes import openapi_document
from tests.api.test_drs_contract import ALIAS_WITH_SLASH, build_catalog
from tests.factories import Factory

MAX_EXAMPLES = 30
OBJECT_IDS = ["open-a", "reg-1", "ctl-1", "bundle-outer", ALIAS_WITH_SLASH, "no-such-object"]
ACCESS_IDS = ["https", "s3", "nope"]
CONFIG = {
    "seed": 20250324,
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        "with-security-parameters": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
}


def with_catalog_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The served document, plus examples naming the catalog's ids, so that the examples phase
    reaches real objects rather than only ids that do not exist."""
    document = copy.deepcopy(document)
    parameters = document["components"]["parameters"]
    for name, values in (("ObjectId", OBJECT_IDS), ("AccessId", ACCESS_IDS)):
        parameters[name]["examples"] = {v: {"value": v} for v in values}
    bodies = document["components"]["schemas"]
    bodies["BulkObjectsRequest"]["example"] = {"bulk_object_ids": OBJECT_IDS}
    bodies["BulkObjectIdsRequest"]["example"] = {"bulk_object_ids": OBJECT_IDS}
    bodies["BulkAccessRequest"]["example"] = {
        "bulk_object_access_ids": [
            {"bulk_object_id": i, "bulk_access_ids": ACCESS_IDS} for i in OBJECT_IDS[:3]
        ]
    }
    return document


# Loaded at import, from the same bytes the app serves (the contract tests check that the
# served document is the shipped one). The app is given per call.
schema = schemathesis.openapi.from_dict(
    with_catalog_examples(json.loads(openapi_document().json)),
    config=schemathesis.Config.from_dict(CONFIG),
)


@pytest.fixture
def drs_app(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[Starlette]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield app
    # Schemathesis keeps the lifespan of every app it has called running until exit.
    asgi.shutdown_lifespans()


@pytest.fixture
def holder_headers(factory: Factory) -> dict[str, str]:
    catalog = build_catalog(factory)
    factory.grant("holder", catalog.datasets["controlled"])
    return factory.headers("holder")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms(
    case: schemathesis.Case[Any], drs_app: Starlette, holder_headers: dict[str, str]
) -> None:
    case.call_and_validate(app=drs_app)
    case.call_and_validate(app=drs_app, headers=holder_headers)
