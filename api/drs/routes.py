"""The GA4GH DRS 1.5 routes under /ga4gh/drs/v1.

Each request resolves its objects with one prepared SQL statement per ``CHUNK`` keys (ids or
aliases, the object row with its checksums and access methods, aliases and bundle members as
arrays, the caller's active grant as an EXISTS, the caller's id and roles), shared with the
same caller's other requests in flight at the same moment (``api.drs.lookup_batches``),
decides access with ``governance.access.read_bytes``, and answers with DRS documents or GA4GH
``Error`` bodies.
Lookups run on ``ReadConnections`` (autocommit, nothing written); issuing an access URL runs
in a session's transaction with the audit event it appends. Plain ``GET /objects/{id}`` comes
through ``api.drs.fast_path`` to the same ``object_response``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth.principals import principal_from_claims
from api.database import ReadConnections
from api.drs.documents import (
    authorizations_document,
    drs_object_document,
    self_uri,
    service_info_document,
)
from api.drs.lookup_batches import LookupBatches
from api.drs.uris import object_key
from api.json_response import JSONResponse
from catalog import audit, repository, service
from catalog.errors import AtriumError, Forbidden, Invalid, NotFound, Unauthenticated
from catalog.models import AccessLevel, DatasetStatus
from catalog.prepared import PreparedQuery
from catalog.principals import ANONYMOUS, Principal
from catalog.storage import Storage, StorageError
from governance import repository as grants
from governance.access import DatasetAccessFacts, Decision, dataset_url, decision_key, read_bytes
from governance.passports import PassportVerifier

log = logging.getLogger(__name__)

NO_STORE = {"cache-control": "no-cache, no-store", "pragma": "no-cache"}
BODY_BYTES_BASE = 1 << 20
BODY_BYTES_PER_ID = 4096
LOOKUP = PreparedQuery("atrium_drs_objects", repository.drs_statement(grants.has_active_grant))


class ObjectIdConvertor(PathConvertor):
    """Like ``path``, but also across line breaks: ``.*`` stops at a newline, so an id holding
    ``%0A`` would match no route and get Starlette's plain-text 404 instead of a DRS answer."""

    regex = r"[\s\S]*"


register_url_convertor("drs_object_id", ObjectIdConvertor())


class PayloadTooLarge(AtriumError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


@dataclass(frozen=True)
class DrsConfig:
    sessions: sessionmaker[Session]
    lookups: LookupBatches
    base_url: str
    hostname: str
    storage: Storage
    passports: PassportVerifier | None
    bearer_issuers: list[str]
    passport_issuers: list[str]
    max_bulk: int
    compact_prefix: str | None
    organization_name: str
    organization_url: str
    version: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def max_body_bytes(self) -> int:
        """Bodies carry ids and passports; anything larger is refused before it is read."""
        return BODY_BYTES_BASE + self.max_bulk * BODY_BYTES_PER_ID


@dataclass(frozen=True)
class Resolved:
    """The outcome for one requested key."""

    key: str
    record: repository.DrsRecord | None
    decision: Decision | None
    children: dict[str, Any] | None = None


def ga4gh_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"msg": message, "status_code": status}, status_code=status)


def http_status(error: AtriumError) -> int:
    """DRS has no 422: payload validation errors are its 400."""
    return 400 if error.status_code == 422 else error.status_code


def drs_endpoint(
    handler: Callable[[Request, DrsConfig], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Domain errors become GA4GH ``Error`` bodies; anything unexpected is logged and
    answered with a 500 that reveals nothing."""

    async def endpoint(request: Request) -> Response:
        config: DrsConfig = request.app.state.drs
        return await answered(handler(request, config), request.method, request.url.path)

    return endpoint


async def answered(work: Awaitable[Response], method: str, path: str) -> Response:
    """``work``'s response, or the GA4GH ``Error`` its failure calls for."""
    try:
        return await work
    except AtriumError as exc:
        return ga4gh_error(http_status(exc), exc.message)
    except Exception:
        log.exception("DRS request failed: %s %s", method, path)
        return ga4gh_error(500, "Internal server error")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read up to ``limit`` bytes: a larger one is refused with 413 without being
    buffered, whether or not it announced its length."""
    too_large = PayloadTooLarge(f"the request body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise too_large
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise too_large
    return bytes(received)


async def json_body(request: Request, config: DrsConfig, *, required: bool) -> dict[str, Any]:
    raw = await read_body(request, config.max_body_bytes)
    if not raw.strip():
        if required:
            raise Invalid("this request needs a JSON body")
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        # Not UTF-8/16/32, an integer longer than Python converts, or nesting too deep.
        raise Invalid("the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


def string_list(body: dict[str, Any], name: str, *, required: bool, limit: int) -> list[str]:
    value = body.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"'{name}' must be a list of strings")
    if required and not value:
        raise Invalid(f"'{name}' must not be empty")
    if len(value) > limit:
        raise PayloadTooLarge(f"'{name}' has {len(value)} items; at most {limit} per request")
    return value


def expand_flag(request: Request, body: dict[str, Any]) -> bool:
    if "expand" in body:
        raw = body["expand"]
    elif request.scope["query_string"]:
        raw = request.query_params.get("expand", "false")
    else:
        raw = "false"  # most requests have no query string, and parsing one is not free
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise Invalid("'expand' must be true or false")


async def visa_datasets(config: DrsConfig, passports: Sequence[str]) -> frozenset[str]:
    if not passports:
        return frozenset()
    if config.passports is None:
        raise Unauthenticated("this server trusts no passport brokers")
    grants_found = await config.passports.controlled_access(passports)
    return frozenset(grants_found.dataset_urls)


async def resolve(
    config: DrsConfig,
    keys: Sequence[str],
    claims: dict[str, Any] | None,
    visas: frozenset[str],
    *,
    expand: bool,
) -> tuple[Principal, list[Resolved]]:
    """On the read connections: one statement per ``CHUNK`` keys (and one per level of an
    expanded bundle), which also reads the caller's roles. The decision is made once per
    combination of the facts it depends on (``governance.access.decision_key``)."""
    caller = caller_of(claims)
    wanted = list(dict.fromkeys(keys))
    rows = await _read_rows(config.lookups, caller, wanted)
    principal = _with_roles(caller, rows)
    records = repository.drs_records(wanted, rows)
    decisions: dict[tuple[Any, ...], Decision] = {}
    results = []
    for key in keys:
        record = records.get(key)
        decision = None
        if record is not None:
            facts = decision_key(
                access_level=record.access_level,
                status=record.status,
                steward_id=record.steward_id,
                has_active_grant=record.has_active_grant,
                dataset=record.accession if visas else None,
            )
            decision = decisions.get(facts)
            if decision is None:
                decision = decide(config, principal, record, visas)
                decisions[facts] = decision
        children = None
        if record is not None and decision is Decision.ALLOWED and expand:
            children = await _expand(config, principal, record, depth=0)
        results.append(Resolved(key, record, decision, children))
    return principal, results


def caller_of(claims: dict[str, Any] | None) -> Principal:
    """Who is calling, before the lookup reads their roles."""
    if not claims:
        return ANONYMOUS
    return Principal(issuer=str(claims["iss"]), subject=str(claims["sub"]))


def _with_roles(caller: Principal, rows: Sequence[tuple[Any, ...]]) -> Principal:
    if caller.issuer is None or caller.subject is None:
        return caller
    roles = repository.caller_roles(rows)
    return service.principal_with_roles(caller.issuer, caller.subject, roles)


def lookups_over(reads: ReadConnections) -> LookupBatches:
    """The DRS lookups of one app, batched on ``reads``."""
    return LookupBatches(reads, LOOKUP, lookup_values, most_keys=CHUNK)


def lookup_values(caller: Principal, now: datetime, keys: list[str]) -> dict[str, Any]:
    """``LOOKUP``'s parameters: the keys, who asks (their grants and roles), and when."""
    return {"keys": keys, "issuer": caller.issuer, "subject": caller.subject, "now": now}


CHUNK = 250
"""Keys per statement of a large lookup: up to ``CHUNKS_AT_ONCE`` chunks run at once on
separate connections, so Postgres resolves a 1,000-id bulk request on every core instead of
one, and a larger one (the limit is configurable) cannot take every read connection. Each chunk
is its own snapshot: a grant revoked while a bulk request runs may count for some of its
objects and not others, as it would for requests a moment apart."""
CHUNKS_AT_ONCE = 4
BATCHED_KEYS = 16
"""Lookups of up to this many keys (single objects, bundles' levels, small bulk requests) join
the caller's batch; larger ones run alone."""


async def _read_rows(
    lookups: LookupBatches, caller: Principal, wanted: list[str]
) -> list[tuple[Any, ...]]:
    """Rows for at least ``wanted``: a small lookup may share its statement with the same
    caller's other lookups (``api.drs.lookup_batches``); a larger one is read in chunks."""
    if len(wanted) <= BATCHED_KEYS:
        return list(await lookups.rows(caller, wanted))
    chunks = [wanted[start : start + CHUNK] for start in range(0, len(wanted), CHUNK)]
    rows: list[tuple[Any, ...]] = []
    for first in range(0, len(chunks), CHUNKS_AT_ONCE):
        wave = chunks[first : first + CHUNKS_AT_ONCE]
        answers = await asyncio.gather(*(lookups.alone(caller, chunk) for chunk in wave))
        rows.extend(row for answer in answers for row in answer)
    return rows


def _records(
    connection: Connection, principal: Principal, now: datetime, keys: Sequence[str]
) -> dict[str, repository.DrsRecord]:
    wanted = list(dict.fromkeys(keys))
    return repository.drs_records(
        wanted, LOOKUP.rows(connection, lookup_values(principal, now, wanted))
    )


def decide(
    config: DrsConfig, principal: Principal, record: repository.DrsRecord, visas: frozenset[str]
) -> Decision:
    facts = DatasetAccessFacts(
        id=record.object.dataset_id,
        url=dataset_url(config.base_url, record.accession),
        access_level=AccessLevel(record.access_level),
        status=DatasetStatus(record.status),
        steward_id=record.steward_id,
    )
    return read_bytes(
        principal, facts, has_active_grant=record.has_active_grant, visa_dataset_urls=visas
    )


MAX_BUNDLE_DEPTH = 16


async def _expand(
    config: DrsConfig,
    principal: Principal,
    record: repository.DrsRecord,
    *,
    depth: int,
) -> dict[str, Any]:
    """Nested ``contents`` of a bundle, one statement per level."""
    if depth > MAX_BUNDLE_DEPTH:
        raise Invalid(f"bundles nest deeper than {MAX_BUNDLE_DEPTH} levels")
    wanted = list(dict.fromkeys(c for _, c in record.members))
    rows = await _read_rows(config.lookups, principal, wanted)
    children = repository.drs_records(wanted, rows)
    contents: dict[str, Any] = {}
    for name, child_id in record.members:
        child = children[child_id]
        entry: dict[str, Any] = {
            "name": name,
            "id": child_id,
            "drs_uri": [self_uri(config.hostname, child_id)],
        }
        if child.object.is_bundle:
            nested = await _expand(config, principal, child, depth=depth + 1)
            entry["contents"] = list(nested.values())
        contents[child_id] = entry
    return contents


def object_document(config: DrsConfig, item: Resolved) -> dict[str, Any]:
    assert item.record is not None
    record = item.record
    return drs_object_document(
        record,
        hostname=config.hostname,
        inline_types=config.storage.inline_types,
        authorizations=_authorizations(config, record),
        contents=list(item.children.values()) if item.children is not None else None,
    )


def _authorizations(config: DrsConfig, record: repository.DrsRecord) -> dict[str, Any]:
    return authorizations_document(
        record.object.id,
        record.access_level,
        bearer_issuers=config.bearer_issuers,
        passport_issuers=config.passport_issuers,
    )


def refusal(item: Resolved, principal: Principal) -> AtriumError | None:
    """The error for one requested object, or None when it may be returned."""
    if item.record is None:
        return NotFound(f"no DRS object {item.key!r}")
    if item.decision is Decision.NEEDS_AUTHENTICATION:
        return Unauthenticated(f"{item.key!r} needs a bearer token or a passport")
    if item.decision is Decision.DENIED:
        who = principal.actor if principal.is_authenticated else "this passport"
        return Forbidden(f"{who} may not read {item.key!r}")
    return None


async def _single(request: Request, config: DrsConfig, body: dict[str, Any]) -> Response:
    return await object_response(
        config,
        request.path_params["object_id"],
        request.scope["state"].get("claims"),
        expand=expand_flag(request, body),
        passports=string_list(body, "passports", required=False, limit=config.max_bulk),
    )


async def object_response(
    config: DrsConfig,
    object_id: str,
    claims: dict[str, Any] | None,
    *,
    expand: bool = False,
    passports: Sequence[str] = (),
) -> Response:
    """One DRS object as ``GET`` or ``POST /objects/{object_id}`` answer it."""
    key = object_key(object_id, config.compact_prefix)
    visas = await visa_datasets(config, passports)
    principal, results = await resolve(config, [key], claims, visas, expand=expand)
    error = refusal(results[0], principal)
    if error is not None:
        raise error
    return JSONResponse(object_document(config, results[0]))


@drs_endpoint
async def get_object(request: Request, config: DrsConfig) -> Response:
    return await _single(request, config, {})


@drs_endpoint
async def post_object(request: Request, config: DrsConfig) -> Response:
    return await _single(request, config, await json_body(request, config, required=False))


@drs_endpoint
async def options_object(request: Request, config: DrsConfig) -> Response:
    key = object_key(request.path_params["object_id"], config.compact_prefix)
    _, results = await resolve(config, [key], None, frozenset(), expand=False)
    record = results[0].record
    if record is None:
        raise NotFound(f"no DRS object {key!r}")
    return JSONResponse(_authorizations(config, record))


async def _access(request: Request, config: DrsConfig, body: dict[str, Any]) -> Response:
    key = object_key(request.path_params["object_id"], config.compact_prefix)
    access_id = request.path_params["access_id"]
    passports = string_list(body, "passports", required=False, limit=config.max_bulk)
    visas = await visa_datasets(config, passports)
    urls = await run_in_threadpool(
        issue_access_urls,
        config,
        [(key, access_id)],
        request.scope["state"].get("claims"),
        visas,
        "passport" if passports else "bearer",
    )
    outcome = urls[0]
    if isinstance(outcome, AtriumError):
        raise outcome
    return JSONResponse(outcome, headers=NO_STORE)


def issue_access_urls(
    config: DrsConfig,
    wanted: Sequence[tuple[str, str]],
    claims: dict[str, Any] | None,
    visas: frozenset[str],
    via: str,
) -> list[dict[str, Any] | AtriumError]:
    """Signed URLs for (object, access id) pairs; every URL issued is audited."""
    now = datetime.now(UTC)
    outcomes: list[dict[str, Any] | AtriumError] = []
    with config.sessions() as session:
        connection = session.connection()
        principal = principal_from_claims(connection, claims)
        records = _records(connection, principal, now, [k for k, _ in wanted])
        for key, access_id in wanted:
            record = records.get(key)
            decision = None if record is None else decide(config, principal, record, visas)
            error = refusal(Resolved(key, record, decision), principal)
            if error is not None:
                outcomes.append(error)
                continue
            assert record is not None
            method = next((m for m in record.access_methods if m[0] == access_id), None)
            if method is None:
                outcomes.append(NotFound(f"{key!r} has no access method {access_id!r}"))
                continue
            _, stored_type, url, region = method
            try:
                access_url = config.storage.access_url(type=stored_type, url=url, region=region)
            except StorageError as exc:
                log.error("cannot sign %s for %s: %s", stored_type, key, exc.message)
                outcomes.append(exc)
                continue
            audit.record(
                session,
                principal,
                "drs.access_url_issued",
                object_type="drs_object",
                object_id=record.object.id,
                summary={
                    "access_id": access_id,
                    "type": stored_type,
                    "dataset": record.accession,
                    "via": via,
                },
            )
            document: dict[str, Any] = {"url": access_url.url}
            if access_url.headers:
                document["headers"] = access_url.headers
            outcomes.append(document)
        session.commit()
        audit.seal_appended(session)
    return outcomes


@drs_endpoint
async def get_access(request: Request, config: DrsConfig) -> Response:
    return await _access(request, config, {})


@drs_endpoint
async def post_access(request: Request, config: DrsConfig) -> Response:
    body = await json_body(request, config, required=True)
    if not isinstance(body.get("passports"), list):
        raise Invalid("'passports' (a list) is required in the body of POST .../access/{access_id}")
    return await _access(request, config, body)


def _unresolved(errors: list[tuple[str, AtriumError]]) -> list[dict[str, Any]]:
    """Requested ids grouped by the status a single request would have had, each id once."""
    by_code: dict[int, dict[str, None]] = {}
    for key, error in errors:
        by_code.setdefault(http_status(error), {})[key] = None
    return [{"error_code": code, "object_ids": list(ids)} for code, ids in sorted(by_code.items())]


def _summary(requested: int, resolved: int) -> dict[str, int]:
    return {"requested": requested, "resolved": resolved, "unresolved": requested - resolved}


@drs_endpoint
async def bulk_objects(request: Request, config: DrsConfig) -> Response:
    body = await json_body(request, config, required=True)
    requested = string_list(body, "bulk_object_ids", required=True, limit=config.max_bulk)
    keys = [object_key(k, config.compact_prefix) for k in requested]
    expand = expand_flag(request, body)
    passports = string_list(body, "passports", required=False, limit=config.max_bulk)
    visas = await visa_datasets(config, passports)
    principal, results = await resolve(
        config,
        keys,
        request.scope["state"].get("claims"),
        visas,
        expand=expand,
    )
    resolved, errors = [], []
    for requested_id, item in zip(requested, results, strict=True):
        error = refusal(item, principal)
        if error is None:
            resolved.append(object_document(config, item))
        else:
            errors.append((requested_id, error))
    return JSONResponse(
        {
            "summary": _summary(len(keys), len(resolved)),
            "unresolved_drs_objects": _unresolved(errors),
            "resolved_drs_object": resolved,
        }
    )


@drs_endpoint
async def options_bulk(request: Request, config: DrsConfig) -> Response:
    body = await json_body(request, config, required=True)
    requested = string_list(body, "bulk_object_ids", required=True, limit=config.max_bulk)
    keys = [object_key(k, config.compact_prefix) for k in requested]
    _, results = await resolve(config, keys, None, frozenset(), expand=False)
    found = [_authorizations(config, r.record) for r in results if r.record is not None]
    missing: list[tuple[str, AtriumError]] = [
        (requested_id, NotFound(f"no DRS object {r.key!r}"))
        for requested_id, r in zip(requested, results, strict=True)
        if r.record is None
    ]
    return JSONResponse(
        {
            "summary": _summary(len(keys), len(found)),
            "unresolved_drs_objects": _unresolved(missing),
            "resolved_drs_object": found,
        }
    )


@drs_endpoint
async def bulk_access(request: Request, config: DrsConfig) -> Response:
    body = await json_body(request, config, required=True)
    entries = body.get("bulk_object_access_ids")
    if not isinstance(entries, list) or not entries:
        raise Invalid("'bulk_object_access_ids' must be a non-empty list")
    if len(entries) > config.max_bulk:
        raise PayloadTooLarge(
            f"{len(entries)} objects named; at most {config.max_bulk} per request"
        )
    wanted: list[tuple[str, str]] = []
    requested: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("bulk_object_id"), str):
            raise Invalid("each entry needs a 'bulk_object_id' string")
        key = object_key(entry["bulk_object_id"], config.compact_prefix)
        access_ids = string_list(entry, "bulk_access_ids", required=True, limit=config.max_bulk)
        wanted += [(key, a) for a in access_ids]
        requested += [entry["bulk_object_id"]] * len(access_ids)
    if len(wanted) > config.max_bulk:
        raise PayloadTooLarge(
            f"{len(wanted)} access URLs requested; at most {config.max_bulk} per request"
        )
    passports = string_list(body, "passports", required=False, limit=config.max_bulk)
    visas = await visa_datasets(config, passports)
    outcomes = await run_in_threadpool(
        issue_access_urls,
        config,
        wanted,
        request.scope["state"].get("claims"),
        visas,
        "passport" if passports else "bearer",
    )
    resolved, errors = [], []
    for requested_id, (_, access_id), outcome in zip(requested, wanted, outcomes, strict=True):
        if isinstance(outcome, AtriumError):
            errors.append((requested_id, outcome))
        else:
            resolved.append({"drs_object_id": requested_id, "drs_access_id": access_id, **outcome})
    return JSONResponse(
        {
            "summary": _summary(len(wanted), len(resolved)),
            "unresolved_drs_objects": _unresolved(errors),
            "resolved_drs_object_access_urls": resolved,
        },
        headers=NO_STORE,
    )


@drs_endpoint
async def service_info(_request: Request, config: DrsConfig) -> Response:
    def totals() -> tuple[int, int]:
        with config.sessions() as session:
            return repository.object_totals(session)

    count, size = await run_in_threadpool(totals)
    return JSONResponse(
        service_info_document(
            base_url=config.base_url,
            hostname=config.hostname,
            organization_name=config.organization_name,
            organization_url=config.organization_url,
            version=config.version,
            max_bulk=config.max_bulk,
            object_count=count,
            total_size=size,
            created_at=config.started_at,
        )
    )


@dataclass(frozen=True)
class OpenAPIDocument:
    """``api/drs/openapi.yaml`` as shipped, and the same document as JSON."""

    yaml: bytes
    json: bytes


@functools.cache
def openapi_document() -> OpenAPIDocument:
    """Read from the package data and converted once per process."""
    source = resources.files("api.drs").joinpath("openapi.yaml").read_bytes()
    document = yaml.safe_load(source)
    return OpenAPIDocument(yaml=source, json=json.dumps(document, ensure_ascii=False).encode())


async def openapi_yaml(_request: Request) -> Response:
    return Response(openapi_document().yaml, media_type="application/yaml")


async def openapi_json(_request: Request) -> Response:
    return Response(openapi_document().json, media_type="application/json")


def drs_routes() -> list[Route]:
    base = "/ga4gh/drs/v1"
    openapi_document()  # a broken document fails at start-up, not on the first request
    return [
        Route(f"{base}/openapi.yaml", openapi_yaml, methods=["GET"]),
        Route(f"{base}/openapi.json", openapi_json, methods=["GET"]),
        Route(f"{base}/service-info", service_info, methods=["GET"]),
        Route(f"{base}/objects", bulk_objects, methods=["POST"]),
        Route(f"{base}/objects", options_bulk, methods=["OPTIONS"]),
        Route(f"{base}/objects/access", bulk_access, methods=["POST"]),
        Route(
            f"{base}/objects/{{object_id:drs_object_id}}/access/{{access_id}}",
            get_access,
            methods=["GET"],
        ),
        Route(
            f"{base}/objects/{{object_id:drs_object_id}}/access/{{access_id}}",
            post_access,
            methods=["POST"],
        ),
        Route(f"{base}/objects/{{object_id:drs_object_id}}", get_object, methods=["GET"]),
        Route(f"{base}/objects/{{object_id:drs_object_id}}", post_object, methods=["POST"]),
        Route(f"{base}/objects/{{object_id:drs_object_id}}", options_object, methods=["OPTIONS"]),
    ]
