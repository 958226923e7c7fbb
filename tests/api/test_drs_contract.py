"""Contract tests of the DRS 1.5 routes against ``api/drs/openapi.yaml``, through the ASGI app.

Every request goes through ``Drs``, which checks each answer against the document: its status
code must be documented for the operation and its body must match the documented schema (error
bodies are GA4GH ``Error`` objects naming the same status). The tests then assert what schemas
cannot say: ids, checksums and sizes as registered, bundles, authorization per access level,
bulk grouping, audit rows, and downloads of locally stored files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import httpx2
import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.app import create_app
from api.auth.issuer import BuiltinIssuer
from api.drs import routes
from api.drs.routes import LOOKUP, drs_routes, openapi_document
from api.settings import Settings
from catalog import service
from catalog.models import AuditEvent, Dataset, Organization, RoleName
from catalog.principals import SYSTEM
from catalog.schemas import BundleCreate, FileCreate
from tests.api.graphql import counting
from tests.factories import Factory

BASE = "/ga4gh/drs/v1"
HOST = "testserver"
BROKER = "https://broker.example.org/"
DOCUMENT: dict[str, Any] = yaml.safe_load(openapi_document().yaml)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ALIAS_WITH_SLASH = "ega:EGAF00000000001/reads.cram"
CREATED = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
_ABSENT: Any = object()


# --- validating every answer against the document --------------------------------------------


@cache
def validator(ref: str) -> OAS30Validator:
    """A validator of one component schema; ``$ref``s inside resolve against the document."""
    return OAS30Validator(
        {"$ref": ref, "components": DOCUMENT["components"]}, format_checker=oas30_format_checker
    )


def documented_response(method: str, template: str, status: int) -> dict[str, Any]:
    operation = DOCUMENT["paths"][template][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {template} answered {status}, which is not documented"
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    assert isinstance(response, dict)
    return response


def assert_conforms(method: str, template: str, response: httpx2.Response) -> None:
    documented = documented_response(method, template, response.status_code)
    content = documented.get("content")
    if content is None:
        assert not response.content
        return
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    validator(content["application/json"]["schema"]["$ref"]).validate(body)
    if response.status_code >= 400:
        assert body["status_code"] == response.status_code, body
        assert isinstance(body["msg"], str), body
        assert body["msg"], body


class Drs:
    """The test client, addressed by the document's path templates; checks every answer."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(
        self,
        method: str,
        template: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        json: Any = _ABSENT,
        content: bytes | None = None,
        **path: str,
    ) -> httpx2.Response:
        url = BASE + template.format(**{k: quote(v, safe="") for k, v in path.items()})
        headers = dict(headers or {})
        extra: dict[str, Any] = {}
        if json is not _ABSENT:
            extra["json"] = json
        if content is not None:
            extra["content"] = content
            headers.setdefault("content-type", "application/json")
        response = self.client.request(method, url, headers=headers, params=params, **extra)
        assert_conforms(method, template, response)
        return response

    def object(self, object_id: str, method: str = "GET", **kwargs: Any) -> httpx2.Response:
        return self.call(method, "/objects/{object_id}", object_id=object_id, **kwargs)

    def access(
        self, object_id: str, access_id: str, method: str = "GET", **kwargs: Any
    ) -> httpx2.Response:
        return self.call(
            method,
            "/objects/{object_id}/access/{access_id}",
            object_id=object_id,
            access_id=access_id,
            **kwargs,
        )

    def bulk(self, body: Any = _ABSENT, method: str = "POST", **kwargs: Any) -> httpx2.Response:
        return self.call(method, "/objects", json=body, **kwargs)

    def bulk_access(self, body: Any = _ABSENT, **kwargs: Any) -> httpx2.Response:
        return self.call("POST", "/objects/access", json=body, **kwargs)


# --- a small catalog ---------------------------------------------------------------------------


def content_of(object_id: str) -> bytes:
    return f"the bytes of {object_id}\n".encode()


def file_create(
    object_id: str,
    methods: list[dict[str, str]],
    *,
    data: bytes | None = None,
    aliases: tuple[str, ...] = (),
    md5: bool = False,
    **fields: Any,
) -> FileCreate:
    data = content_of(object_id) if data is None else data
    checksums = [{"type": "sha-256", "checksum": hashlib.sha256(data).hexdigest()}]
    if md5:
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        checksums.append({"type": "md5", "checksum": digest})
    return FileCreate.model_validate(
        {
            "id": object_id,
            "name": f"{object_id}.bin",
            "size": len(data),
            "checksums": checksums,
            "access_methods": methods,
            "aliases": list(aliases),
            **fields,
        }
    )


def https(object_id: str) -> dict[str, str]:
    return {"type": "https", "url": f"https://data.example.org/{object_id}"}


def s3(object_id: str) -> dict[str, str]:
    return {"type": "s3", "url": f"s3://atrium-test/{object_id}", "region": "eu-west-1"}


@dataclass(frozen=True)
class Catalog:
    steward: Organization
    datasets: dict[str, Dataset]
    files: dict[str, FileCreate]

    @property
    def blob_sizes(self) -> list[int]:
        return [f.size for f in self.files.values()]


def build_catalog(factory: Factory) -> Catalog:
    """Open, registered and controlled datasets with one file each (the open one has three
    and two nested bundles: ``bundle-outer`` = {pair: ``bundle-inner``, extra: ``open-c``},
    ``bundle-inner`` = {r1: ``open-a``, r2: ``open-b``})."""
    steward = factory.organization()
    files = {
        "open": [
            file_create(
                "open-a",
                [https("open-a"), s3("open-a")],
                aliases=(ALIAS_WITH_SLASH, "Legacy.ID"),
                md5=True,
                mime_type="application/octet-stream",
                description="reads of sample A",
                created_time=CREATED,
            ),
            file_create("open-b", [https("open-b")]),
            file_create("open-c", [https("open-c")]),
        ],
        "registered": [file_create("reg-1", [https("reg-1"), s3("reg-1")])],
        "controlled": [file_create("ctl-1", [https("ctl-1"), s3("ctl-1")])],
    }
    datasets = {}
    for level, level_files in files.items():
        dataset = factory.dataset(steward, access_level=level)
        register(factory, dataset, level_files)
        datasets[level] = dataset
    bundle(factory, datasets["open"], "bundle-inner", {"r1": "open-a", "r2": "open-b"})
    bundle(factory, datasets["open"], "bundle-outer", {"pair": "bundle-inner", "extra": "open-c"})
    for dataset in datasets.values():
        service.publish_dataset(factory.session, SYSTEM, accession=dataset.accession)
    factory.session.flush()
    return Catalog(
        steward=steward,
        datasets=datasets,
        files={f.id: f for level_files in files.values() for f in level_files if f.id},
    )


def register(factory: Factory, dataset: Dataset, files: list[FileCreate]) -> None:
    service.register_files(factory.session, SYSTEM, accession=dataset.accession, files=files)
    factory.session.flush()


def bundle(factory: Factory, dataset: Dataset, bundle_id: str, members: dict[str, str]) -> None:
    data = BundleCreate.model_validate(
        {
            "id": bundle_id,
            "name": bundle_id,
            "members": [{"name": n, "object_id": o} for n, o in members.items()],
        }
    )
    service.create_bundle(factory.session, SYSTEM, accession=dataset.accession, data=data)
    factory.session.flush()


@pytest.fixture
def catalog(factory: Factory) -> Catalog:
    return build_catalog(factory)


@pytest.fixture
def drs(client: TestClient) -> Drs:
    return Drs(client)


@pytest.fixture
def who(factory: Factory, catalog: Catalog) -> dict[str, dict[str, str]]:
    """Request headers of each kind of caller: nobody, an authenticated researcher, the holder
    of an active grant of the controlled dataset, and a steward of all three datasets."""
    factory.grant("holder", catalog.datasets["controlled"])
    return {
        "anonymous": {},
        "researcher": factory.headers("researcher"),
        "holder": factory.headers("holder"),
        "steward": factory.headers("steward", (RoleName.STEWARD, catalog.steward.slug)),
    }


@pytest.fixture
def make_drs(
    settings: Settings, sessions: sessionmaker[Session], issuer: BuiltinIssuer
) -> Iterator[Callable[..., Drs]]:
    """Another app over the same database, with settings changed."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> Drs:
            configured = Settings(
                data_dir=settings.data_dir,
                public_base_url=settings.public_base_url,
                database_url=None,
                **overrides,
            )
            app = create_app(configured, sessions, issuer=issuer)
            return Drs(stack.enter_context(TestClient(app)))

        yield make


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """boto3 finds no credentials anywhere, and never asks the instance metadata service."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def audit_rows(db: Session) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.action == "drs.access_url_issued")
        .order_by(AuditEvent.id)
    )
    return list(db.scalars(stmt))


def actor(issuer: BuiltinIssuer, subject: str) -> str:
    return f"{subject}@{issuer.issuer}"


# --- the document itself -----------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_0() -> None:
    assert DOCUMENT["openapi"] == "3.0.3"
    assert DOCUMENT["servers"] == [{"url": BASE}]
    validate_openapi(DOCUMENT)


def test_the_document_describes_exactly_the_routes_served() -> None:
    served = {
        (route.path.removeprefix(BASE).replace(":drs_object_id}", "}"), method.lower())
        for route in drs_routes()
        for method in route.methods or ()
        if method != "HEAD" and not route.path.endswith(("/openapi.yaml", "/openapi.json"))
    }
    documented = {
        (path, method)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == served


def test_security_schemes_follow_drs() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert (schemes["BearerAuth"]["type"], schemes["BearerAuth"]["scheme"]) == ("http", "bearer")
    assert (schemes["PassportAuth"]["scheme"], schemes["PassportAuth"]["x-in"]) == (
        "bearer",
        "body",
    )
    for path, method in [("/objects/{object_id}", "options"), ("/objects", "options")]:
        assert DOCUMENT["paths"][path][method]["security"] == [{}]
    for path, method in [("/objects/{object_id}", "post"), ("/objects/access", "post")]:
        assert {"PassportAuth": []} in DOCUMENT["paths"][path][method]["security"]


def test_every_error_response_is_a_ga4gh_error() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"401", "500"} <= codes, (path, method)
            for code in codes - {"200"}:
                schema = documented_response(method, path, int(code))["content"]
                assert schema["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_the_document_is_served_as_yaml_and_as_json(client: TestClient) -> None:
    shipped = resources.files("api.drs").joinpath("openapi.yaml").read_bytes()
    as_yaml = client.get(f"{BASE}/openapi.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert as_yaml.content == shipped
    as_json = client.get(f"{BASE}/openapi.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == yaml.safe_load(shipped) == DOCUMENT


def test_the_document_is_package_data_loaded_once() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert openapi_document() is openapi_document()
    before = openapi_document.cache_info()
    drs_routes()
    assert openapi_document.cache_info().misses == before.misses


# --- service-info ------------------------------------------------------------------------------


def test_service_info(drs: Drs, catalog: Catalog, settings: Settings) -> None:
    info = drs.call("GET", "/service-info").json()
    assert info["id"] == f"{HOST}.atrium.drs"
    assert info["name"]
    assert info["type"] == {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"}
    assert info["organization"] == {"name": settings.organization_name, "url": settings.base_url}
    assert info["version"]
    assert RFC3339.match(info["createdAt"])
    max_bulk = settings.drs_max_bulk_request_length
    assert info["maxBulkRequestLength"] == max_bulk
    assert info["drs"]["maxBulkRequestLength"] == max_bulk
    assert info["drs"]["objectCount"] == len(catalog.blob_sizes) == 5
    assert info["drs"]["totalObjectSize"] == sum(catalog.blob_sizes)
    documentation = drs.client.get(info["documentationUrl"])
    assert documentation.status_code == 200
    assert documentation.content == openapi_document().yaml


# --- single objects ----------------------------------------------------------------------------


def test_an_open_file(drs: Drs, catalog: Catalog) -> None:
    registered = catalog.files["open-a"]
    found = drs.object("open-a").json()
    assert found["id"] == "open-a"
    assert found["self_uri"] == f"drs://{HOST}/open-a"
    assert found["size"] == registered.size == len(content_of("open-a"))
    assert sorted((c["type"], c["checksum"]) for c in found["checksums"]) == sorted(
        (c.type, c.checksum) for c in registered.checksums
    )
    assert found["name"] == "open-a.bin"
    assert found["mime_type"] == "application/octet-stream"
    assert found["description"] == "reads of sample A"
    assert sorted(found["aliases"]) == sorted([ALIAS_WITH_SLASH, "Legacy.ID"])
    assert found["created_time"] == "2020-01-02T03:04:05Z"  # as registered, to the second
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", found["updated_time"])
    assert "contents" not in found
    methods = {m["type"]: m for m in found["access_methods"]}
    assert methods["https"] == {
        "type": "https",
        "access_id": "https",
        "available": True,
        "access_url": {"url": "https://data.example.org/open-a"},
    }
    assert methods["s3"] == {
        "type": "s3",
        "available": True,
        "access_id": "s3",
        "region": "eu-west-1",
        "cloud": "aws",
        "authorizations": {"drs_object_id": "open-a", "supported_types": ["None"]},
    }


def test_https_methods_of_protected_datasets_go_through_access(
    drs: Drs, catalog: Catalog, who: dict[str, dict[str, str]]
) -> None:
    found = drs.object("reg-1", headers=who["researcher"]).json()
    method = next(m for m in found["access_methods"] if m["type"] == "https")
    assert "access_url" not in method
    assert method["access_id"] == "https"
    assert method["authorizations"]["supported_types"] == ["BearerAuth"]


def test_ids_are_case_sensitive_and_unknown_ids_are_404(drs: Drs, catalog: Catalog) -> None:
    for missing in ("OPEN-A", "Open-a", "no-such-object", "legacy.id", "open-a\n", "\nopen-a"):
        for response in (drs.object(missing), drs.object(missing, method="OPTIONS")):
            assert response.status_code == 404
            assert response.json() == {"msg": response.json()["msg"], "status_code": 404}
    assert drs.access("OPEN-A", "s3").status_code == 404
    assert drs.access("open-a", "S3").status_code == 404
    assert drs.access("open-a", "gs").status_code == 404


@pytest.mark.parametrize("alias", [ALIAS_WITH_SLASH, "Legacy.ID"])
def test_aliases_resolve(drs: Drs, catalog: Catalog, alias: str) -> None:
    response = drs.object(alias)
    assert response.status_code == 200
    assert response.json()["id"] == "open-a"
    assert response.json()["self_uri"] == f"drs://{HOST}/open-a"
    options = drs.object(alias, method="OPTIONS")
    assert options.json()["drs_object_id"] == "open-a"
    assert drs.access(alias, "https").json() == {"url": "https://data.example.org/open-a"}


def test_an_encoded_slash_reaches_the_object_route(drs: Drs, catalog: Catalog) -> None:
    encoded = quote(ALIAS_WITH_SLASH, safe="")
    assert "%2F" in encoded
    raw = drs.client.get(f"{BASE}/objects/{encoded}")
    assert raw.status_code == 200
    assert raw.json()["id"] == "open-a"


def test_compact_identifiers_resolve_with_a_configured_prefix(
    drs: Drs, catalog: Catalog, make_drs: Callable[..., Drs]
) -> None:
    compact = make_drs(drs_compact_prefix="atrium")
    found = compact.object("atrium:open-a").json()
    assert found["id"] == "open-a"
    assert found["self_uri"] == f"drs://{HOST}/open-a"
    assert compact.object("atrium:open-a", method="OPTIONS").json()["drs_object_id"] == "open-a"
    assert compact.access("atrium:open-a", "https").status_code == 200
    assert compact.object(f"atrium:{ALIAS_WITH_SLASH}").json()["id"] == "open-a"
    assert compact.object("other:open-a").status_code == 404
    assert compact.object("atrium:").status_code == 400
    bulk = compact.bulk({"bulk_object_ids": ["atrium:open-a", "atrium:nope"]}).json()
    assert [o["id"] for o in bulk["resolved_drs_object"]] == ["open-a"]
    assert bulk["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": ["atrium:nope"]}]
    # Without a configured prefix, a compact identifier is just an unknown id.
    assert drs.object("atrium:open-a").status_code == 404


def test_malformed_ids_and_parameters_are_400(drs: Drs, catalog: Catalog) -> None:
    assert drs.object("open-a", params={"expand": "maybe"}).status_code == 400
    assert drs.object("open-a", method="POST", json={"expand": "maybe"}).status_code == 400
    assert drs.bulk({"bulk_object_ids": ["open-a"]}, params={"expand": "1"}).status_code == 400
    assert drs.object("x" * 1025).status_code == 400
    assert drs.object("open-a\x00").status_code == 400
    assert drs.bulk({"bulk_object_ids": ["open-a\x00"]}).status_code == 400
    lone_surrogate = b'{"bulk_object_ids": ["\\ud800"]}'
    assert drs.bulk(_ABSENT, content=lone_surrogate).status_code == 400
    assert drs.object("open-a", params={"expand": "TRUE"}).status_code == 200


def test_a_rejected_bearer_token_is_401(drs: Drs, catalog: Catalog) -> None:
    assert drs.object("open-a", headers={"Authorization": "Bearer junk"}).status_code == 401
    assert (
        drs.call("GET", "/service-info", headers={"Authorization": "Basic eDp5"}).status_code == 401
    )


# --- bundles -----------------------------------------------------------------------------------


def test_a_nested_bundle_lists_direct_children_without_expand(drs: Drs, catalog: Catalog) -> None:
    outer = drs.object("bundle-outer").json()
    assert outer["self_uri"] == f"drs://{HOST}/bundle-outer"
    assert "access_methods" not in outer
    sizes = {i: catalog.files[i].size for i in ("open-a", "open-b", "open-c")}
    assert outer["size"] == sum(sizes.values())
    assert outer["contents"] == [
        {"name": "extra", "id": "open-c", "drs_uri": [f"drs://{HOST}/open-c"]},
        {"name": "pair", "id": "bundle-inner", "drs_uri": [f"drs://{HOST}/bundle-inner"]},
    ]
    inner = drs.object("bundle-inner").json()
    assert inner["size"] == sizes["open-a"] + sizes["open-b"]
    assert "access_methods" not in inner

    def sha256(object_id: str) -> str:
        found = drs.object(object_id).json()
        return str(next(c["checksum"] for c in found["checksums"] if c["type"] == "sha-256"))

    members = sorted([sha256("bundle-inner"), sha256("open-c")])
    assert outer["checksums"] == [
        {"type": "sha-256", "checksum": hashlib.sha256("".join(members).encode()).hexdigest()}
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_nested_bundle_expanded(drs: Drs, catalog: Catalog, method: str) -> None:
    if method == "GET":
        response = drs.object("bundle-outer", params={"expand": "true"})
    else:
        response = drs.object("bundle-outer", method="POST", json={"expand": True})
    outer = response.json()
    assert "access_methods" not in outer
    assert outer["contents"] == [
        {"name": "extra", "id": "open-c", "drs_uri": [f"drs://{HOST}/open-c"]},
        {
            "name": "pair",
            "id": "bundle-inner",
            "drs_uri": [f"drs://{HOST}/bundle-inner"],
            "contents": [
                {"name": "r1", "id": "open-a", "drs_uri": [f"drs://{HOST}/open-a"]},
                {"name": "r2", "id": "open-b", "drs_uri": [f"drs://{HOST}/open-b"]},
            ],
        },
    ]
    bulk = drs.bulk({"bulk_object_ids": ["bundle-outer"]}, params={"expand": "true"}).json()
    assert bulk["resolved_drs_object"] == [outer]


def test_a_bundle_has_no_access_urls(drs: Drs, catalog: Catalog) -> None:
    assert drs.access("bundle-outer", "https").status_code == 404


# --- authorization -----------------------------------------------------------------------------

# What governance.access.read_bytes decides for published datasets.
EXPECTED = {
    "open": {"anonymous": 200, "researcher": 200, "holder": 200, "steward": 200},
    "registered": {"anonymous": 401, "researcher": 200, "holder": 200, "steward": 200},
    "controlled": {"anonymous": 401, "researcher": 403, "holder": 200, "steward": 200},
}
FILE_OF = {"open": "open-a", "registered": "reg-1", "controlled": "ctl-1"}


@pytest.mark.parametrize("caller", ["anonymous", "researcher", "holder", "steward"])
@pytest.mark.parametrize("level", ["open", "registered", "controlled"])
def test_access_per_level_and_caller(
    drs: Drs,
    catalog: Catalog,
    who: dict[str, dict[str, str]],
    db: Session,
    issuer: BuiltinIssuer,
    level: str,
    caller: str,
) -> None:
    object_id, expected, headers = FILE_OF[level], EXPECTED[level][caller], who[caller]
    before = len(audit_rows(db))
    answers = [
        drs.object(object_id, headers=headers),
        drs.object(object_id, method="POST", headers=headers),
        drs.object(object_id, method="POST", headers=headers, json={"passports": []}),
        drs.access(object_id, "https", headers=headers),
        drs.access(object_id, "https", method="POST", headers=headers, json={"passports": []}),
    ]
    assert [a.status_code for a in answers] == [expected] * len(answers)
    rows = audit_rows(db)[before:]
    if expected != 200:
        assert rows == []
        return
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["id"] == object_id
    for issued in answers[3:]:
        assert issued.json() == {"url": f"https://data.example.org/{object_id}"}
        assert issued.headers["cache-control"] == "no-cache, no-store"
    who_ = "anonymous" if caller == "anonymous" else actor(issuer, caller)
    assert [(r.actor, r.object_type, r.object_id, r.summary["access_id"]) for r in rows] == [
        (who_, "drs_object", object_id, "https")
    ] * 2
    assert rows[0].summary["dataset"] == catalog.datasets[level].accession


def test_options_needs_no_credentials_and_names_the_auth_per_level(
    app: Starlette, drs: Drs, catalog: Catalog, issuer: BuiltinIssuer
) -> None:
    bearer = [issuer.issuer]
    assert drs.object("open-a", method="OPTIONS").json() == {
        "drs_object_id": "open-a",
        "supported_types": ["None"],
    }
    expected_protected = {"supported_types": ["BearerAuth"], "bearer_auth_issuers": bearer}
    for object_id in ("reg-1", "ctl-1"):
        found = drs.object(object_id, method="OPTIONS").json()
        assert found == {"drs_object_id": object_id, **expected_protected}
    app.state.drs = dataclasses.replace(app.state.drs, passport_issuers=[BROKER])
    assert drs.object("ctl-1", method="OPTIONS").json() == {
        "drs_object_id": "ctl-1",
        "supported_types": ["BearerAuth", "PassportAuth"],
        "bearer_auth_issuers": bearer,
        "passport_auth_issuers": [BROKER],
    }
    assert drs.object("reg-1", method="OPTIONS").json()["supported_types"] == ["BearerAuth"]
    bundle_auth = drs.object("bundle-outer", method="OPTIONS").json()
    assert bundle_auth["supported_types"] == ["None"]


def test_passports_are_refused_when_no_broker_is_trusted(drs: Drs, catalog: Catalog) -> None:
    body = {"passports": ["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]}
    assert drs.object("ctl-1", method="POST", json=body).status_code == 401
    assert drs.access("ctl-1", "https", method="POST", json=body).status_code == 401
    assert drs.bulk({**body, "bulk_object_ids": ["ctl-1"]}).status_code == 401


def test_post_access_needs_passports(
    drs: Drs, catalog: Catalog, who: dict[str, dict[str, str]]
) -> None:
    bodies: list[Any] = [{}, {"passports": None}, {"passports": "token"}, {"passports": [1]}, []]
    for body in bodies:
        response = drs.access("open-a", "https", method="POST", json=body)
        assert response.status_code == 400, body
    for raw in (b"", b"null", b"{", b'"passports"'):
        assert drs.access("open-a", "https", method="POST", content=raw).status_code == 400, raw
    granted = drs.access(
        "ctl-1", "https", method="POST", json={"passports": []}, headers=who["holder"]
    )
    assert granted.status_code == 200


def test_s3_without_credentials_is_a_clean_500(
    drs: Drs, catalog: Catalog, db: Session, no_aws_credentials: None
) -> None:
    before = len(audit_rows(db))
    response = drs.access("open-a", "s3")
    assert response.status_code == 500
    assert "credentials" in response.json()["msg"]
    assert "Traceback" not in response.text
    bulk = drs.bulk_access(
        {
            "bulk_object_access_ids": [
                {"bulk_object_id": "open-a", "bulk_access_ids": ["s3", "https"]}
            ]
        }
    ).json()
    assert bulk["unresolved_drs_objects"] == [{"error_code": 500, "object_ids": ["open-a"]}]
    assert [u["drs_access_id"] for u in bulk["resolved_drs_object_access_urls"]] == ["https"]
    assert len(audit_rows(db)) == before + 1


def test_s3_with_credentials_is_presigned(
    drs: Drs, catalog: Catalog, monkeypatch: pytest.MonkeyPatch, no_aws_credentials: None
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    url = drs.access("open-a", "s3").json()["url"]
    assert url.startswith("https://")
    assert "atrium-test" in url
    assert "X-Amz-Signature=" in url


# --- local files -------------------------------------------------------------------------------


def test_a_local_file_downloads_through_its_signed_url(
    drs: Drs,
    catalog: Catalog,
    factory: Factory,
    settings: Settings,
    who: dict[str, dict[str, str]],
    db: Session,
    issuer: BuiltinIssuer,
) -> None:
    data = bytes(range(256)) * 40 + uuid.uuid4().bytes
    key = f"contract/{uuid.uuid4().hex}/reads.cram"
    path = settings.local_storage_root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    local = file_create("local-1", [{"type": "file", "url": f"file:///{key}"}], data=data)
    register(factory, catalog.datasets["controlled"], [local])

    found = drs.object("local-1", headers=who["holder"]).json()
    assert found["size"] == len(data)
    assert found["access_methods"] == [
        {
            "type": "https",
            "available": True,
            "access_id": "file",
            "authorizations": drs.object("local-1", method="OPTIONS").json(),
        }
    ]
    assert drs.access("local-1", "file").status_code == 401
    assert drs.access("local-1", "file", headers=who["researcher"]).status_code == 403
    before = len(audit_rows(db))
    url = drs.access("local-1", "file", headers=who["holder"]).json()["url"]
    assert url.startswith(f"http://{HOST}/storage/{key}?")
    download = drs.client.get(url)
    assert download.status_code == 200
    assert download.content == data
    registered = next(c.checksum for c in local.checksums if c.type == "sha-256")
    assert hashlib.sha256(download.content).hexdigest() == registered
    rows = audit_rows(db)[before:]
    assert [(r.actor, r.object_id, r.summary["access_id"]) for r in rows] == [
        (actor(issuer, "holder"), "local-1", "file")
    ]
    tampered = url.replace("signature=", "signature=0")
    assert drs.client.get(tampered).status_code == 403


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_objects_resolve_and_group_the_rest_by_error(
    drs: Drs, catalog: Catalog, who: dict[str, dict[str, str]]
) -> None:
    ids = ["open-a", "reg-1", "ctl-1", "nope", ALIAS_WITH_SLASH]
    anonymous = drs.bulk({"bulk_object_ids": ids}).json()
    assert anonymous["summary"] == {"requested": 5, "resolved": 2, "unresolved": 3}
    assert [o["id"] for o in anonymous["resolved_drs_object"]] == ["open-a", "open-a"]
    assert anonymous["resolved_drs_object"][0] == drs.object("open-a").json()
    assert anonymous["unresolved_drs_objects"] == [
        {"error_code": 401, "object_ids": ["reg-1", "ctl-1"]},
        {"error_code": 404, "object_ids": ["nope"]},
    ]
    researcher = drs.bulk({"bulk_object_ids": ids}, headers=who["researcher"]).json()
    assert researcher["summary"] == {"requested": 5, "resolved": 3, "unresolved": 2}
    assert researcher["unresolved_drs_objects"] == [
        {"error_code": 403, "object_ids": ["ctl-1"]},
        {"error_code": 404, "object_ids": ["nope"]},
    ]
    holder = drs.bulk({"bulk_object_ids": ids, "passports": []}, headers=who["holder"]).json()
    assert [o["id"] for o in holder["resolved_drs_object"]] == [
        "open-a",
        "reg-1",
        "ctl-1",
        "open-a",
    ]


def test_a_grant_opens_its_own_dataset_in_a_bulk_request_and_no_other(
    drs: Drs, factory: Factory, catalog: Catalog, who: dict[str, dict[str, str]]
) -> None:
    ungranted = factory.dataset(catalog.steward, access_level="controlled")
    register(factory, ungranted, [file_create("ctl-2", [https("ctl-2")])])
    service.publish_dataset(factory.session, SYSTEM, accession=ungranted.accession)
    answer = drs.bulk({"bulk_object_ids": ["ctl-2", "ctl-1"]}, headers=who["holder"]).json()
    assert [o["id"] for o in answer["resolved_drs_object"]] == ["ctl-1"]
    assert answer["unresolved_drs_objects"] == [{"error_code": 403, "object_ids": ["ctl-2"]}]


def test_a_bulk_larger_than_a_chunk_answers_the_same_in_chunks(
    drs: Drs,
    catalog: Catalog,
    who: dict[str, dict[str, str]],
    connection: Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = ["open-a", "reg-1", "ctl-1", "nope", ALIAS_WITH_SLASH, "open-b", "open-a", "open-c"]
    whole = drs.bulk({"bulk_object_ids": ids}, headers=who["holder"]).json()
    monkeypatch.setattr(routes, "CHUNK", 2)
    monkeypatch.setattr(routes, "BATCHED_KEYS", 1)
    with counting(connection) as statements:
        chunked = drs.bulk({"bulk_object_ids": ids}, headers=who["holder"]).json()
    assert chunked == whole
    assert whole["summary"] == {"requested": 8, "resolved": 7, "unresolved": 1}
    lookups = [s for s in statements if LOOKUP.name in s]
    assert len(lookups) == 4  # 7 distinct keys, 2 per statement


@pytest.mark.parametrize("caller", ["anonymous", "steward"])
def test_a_lookup_reads_the_object_and_the_callers_roles_in_one_statement(
    drs: Drs, catalog: Catalog, who: dict[str, dict[str, str]], connection: Connection, caller: str
) -> None:
    headers = who.get(caller, {})
    drs.object("ctl-1", headers=headers)  # prepared, and the token verified, beforehand
    with counting(connection) as statements:
        response = drs.object("ctl-1", headers=headers)
    assert response.status_code == (200 if caller == "steward" else 401)
    assert len(statements) == 1
    assert LOOKUP.name in statements[0]


def test_options_bulk(drs: Drs, catalog: Catalog) -> None:
    found = drs.bulk({"bulk_object_ids": ["open-a", "ctl-1", "nope"]}, method="OPTIONS").json()
    assert found["summary"] == {"requested": 3, "resolved": 2, "unresolved": 1}
    assert [a["drs_object_id"] for a in found["resolved_drs_object"]] == ["open-a", "ctl-1"]
    assert found["resolved_drs_object"][1]["supported_types"] == ["BearerAuth"]
    assert found["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": ["nope"]}]


def test_bulk_access_urls(
    drs: Drs, catalog: Catalog, who: dict[str, dict[str, str]], db: Session, issuer: BuiltinIssuer
) -> None:
    body = {
        "bulk_object_access_ids": [
            {"bulk_object_id": "open-a", "bulk_access_ids": ["https", "nope"]},
            {"bulk_object_id": "reg-1", "bulk_access_ids": ["https"]},
            {"bulk_object_id": "ctl-1", "bulk_access_ids": ["https"]},
            {"bulk_object_id": "missing", "bulk_access_ids": ["https"]},
        ]
    }
    before = len(audit_rows(db))
    anonymous = drs.bulk_access(body)
    assert anonymous.headers["cache-control"] == "no-cache, no-store"
    result = anonymous.json()
    assert result["summary"] == {"requested": 5, "resolved": 1, "unresolved": 4}
    assert result["resolved_drs_object_access_urls"] == [
        {
            "drs_object_id": "open-a",
            "drs_access_id": "https",
            "url": "https://data.example.org/open-a",
        }
    ]
    assert result["unresolved_drs_objects"] == [
        {"error_code": 401, "object_ids": ["reg-1", "ctl-1"]},
        {"error_code": 404, "object_ids": ["open-a", "missing"]},
    ]
    holder = drs.bulk_access(body, headers=who["holder"]).json()
    assert [(u["drs_object_id"], u["url"]) for u in holder["resolved_drs_object_access_urls"]] == [
        ("open-a", "https://data.example.org/open-a"),
        ("reg-1", "https://data.example.org/reg-1"),
        ("ctl-1", "https://data.example.org/ctl-1"),
    ]
    assert holder["summary"] == {"requested": 5, "resolved": 3, "unresolved": 2}
    rows = audit_rows(db)[before:]
    assert [(r.actor, r.object_id) for r in rows] == [
        ("anonymous", "open-a"),
        (actor(issuer, "holder"), "open-a"),
        (actor(issuer, "holder"), "reg-1"),
        (actor(issuer, "holder"), "ctl-1"),
    ]
    by_alias = drs.bulk_access(
        {"bulk_object_access_ids": [{"bulk_object_id": "Legacy.ID", "bulk_access_ids": ["https"]}]}
    ).json()
    assert by_alias["resolved_drs_object_access_urls"][0]["drs_object_id"] == "Legacy.ID"


MALFORMED: list[tuple[bytes | None, Any]] = [
    (None, _ABSENT),
    (b"{", _ABSENT),
    (b"\xff\xfe\x00", _ABSENT),
    (b"[" * 100_000 + b"]" * 100_000, _ABSENT),
    (b'{"bulk_object_ids": [' + b"1" * 5000 + b"]}", _ABSENT),
    (None, ["open-a"]),
    (None, "open-a"),
    (None, {}),
    (None, {"bulk_object_ids": "open-a"}),
    (None, {"bulk_object_ids": [1]}),
    (None, {"bulk_object_ids": [None]}),
    (None, {"bulk_object_ids": []}),
    (None, {"bulk_object_ids": [""]}),
]


@pytest.mark.parametrize(("content", "body"), MALFORMED)
def test_malformed_bulk_bodies_are_400(
    drs: Drs, catalog: Catalog, content: bytes | None, body: Any
) -> None:
    assert drs.bulk(body, content=content).status_code == 400
    assert drs.bulk(body, method="OPTIONS", content=content).status_code == 400


def test_bulk_passports_must_be_a_list_of_strings(drs: Drs, catalog: Catalog) -> None:
    for passports in ("token", [1], {"p": "q"}):
        body = {"bulk_object_ids": ["open-a"], "passports": passports}
        assert drs.bulk(body).status_code == 400
        access = {
            "bulk_object_access_ids": [{"bulk_object_id": "open-a", "bulk_access_ids": ["https"]}]
        }
        assert drs.bulk_access({**access, "passports": passports}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"bulk_object_access_ids": []},
        {"bulk_object_access_ids": "open-a"},
        {"bulk_object_access_ids": ["open-a"]},
        {"bulk_object_access_ids": [{"bulk_access_ids": ["https"]}]},
        {"bulk_object_access_ids": [{"bulk_object_id": "open-a"}]},
        {"bulk_object_access_ids": [{"bulk_object_id": "open-a", "bulk_access_ids": []}]},
        {"bulk_object_access_ids": [{"bulk_object_id": "open-a", "bulk_access_ids": [3]}]},
    ],
)
def test_malformed_bulk_access_bodies_are_400(drs: Drs, catalog: Catalog, body: Any) -> None:
    assert drs.bulk_access(body).status_code == 400


def test_more_ids_than_the_bulk_limit_is_413(
    catalog: Catalog, make_drs: Callable[..., Drs]
) -> None:
    small = make_drs(drs_max_bulk_request_length=3)
    info = small.call("GET", "/service-info").json()
    assert info["drs"]["maxBulkRequestLength"] == info["maxBulkRequestLength"] == 3
    three = ["open-a", "open-b", "open-c"]
    assert small.bulk({"bulk_object_ids": three}).status_code == 200
    assert small.bulk({"bulk_object_ids": [*three, "reg-1"]}).status_code == 413
    assert small.bulk({"bulk_object_ids": [*three, "reg-1"]}, method="OPTIONS").status_code == 413
    assert small.bulk({"bulk_object_ids": three, "passports": ["p"] * 4}).status_code == 413

    def pairs(n: int) -> dict[str, Any]:
        return {
            "bulk_object_access_ids": [
                {"bulk_object_id": "open-a", "bulk_access_ids": ["https"] * n}
            ]
        }

    assert small.bulk_access(pairs(3)).status_code == 200
    assert small.bulk_access(pairs(4)).status_code == 413
    many = {
        "bulk_object_access_ids": [
            {"bulk_object_id": i, "bulk_access_ids": ["https"]} for i in [*three, "reg-1"]
        ]
    }
    assert small.bulk_access(many).status_code == 413
    too_many_passports = {"passports": ["p"] * 4}
    assert small.object("open-a", method="POST", json=too_many_passports).status_code == 413


def test_a_body_larger_than_the_server_reads_is_413(
    catalog: Catalog, make_drs: Callable[..., Drs]
) -> None:
    small = make_drs(drs_max_bulk_request_length=1)
    limit = cast(Starlette, small.client.app).state.drs.max_body_bytes
    padding = b" " * limit
    huge = b'{"bulk_object_ids": ["open-a"]}' + padding
    assert small.bulk(_ABSENT, content=huge).status_code == 413
    assert small.object("open-a", method="POST", content=huge).status_code == 413
    assert small.bulk(_ABSENT, content=huge[: limit - 1]).status_code == 200

    def chunks() -> Iterator[bytes]:
        # No content-length: the server has to stop reading by itself.
        yield b'{"bulk_object_ids": ["open-a"]}'
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    streamed = small.client.post(
        f"{BASE}/objects", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_conforms("POST", "/objects", streamed)
    assert streamed.status_code == 413
