"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.auth.issuer import BuiltinIssuer
from api.auth.middleware import BearerAuthMiddleware
from api.auth.tokens import IssuerPolicy, TokenVerifier
from api.database import ReadConnections
from api.drs.documents import drs_hostname
from api.drs.fast_path import DrsObjectFastPath
from api.drs.routes import DrsConfig, drs_routes, lookups_over
from api.drs.uris import DrsNaming
from api.graphql.catalog_memo import CatalogMemo
from api.graphql.documents import ValidatedDocuments
from api.graphql.endpoint import GraphQLConfig, graphql_endpoint
from api.graphql.response_cache import ResponseCache
from api.graphql.schema import schema
from api.passport_routes import PassportConfig, passport_routes
from api.search_backend import build_search_backend
from api.settings import SIGNING_ALGORITHMS, Settings
from api.storage_route import local_route
from catalog.storage import build_storage, load_or_create_signing_key
from governance.access import committee_url, organization_url
from governance.keys import KeyStore
from governance.passports import PassportVerifier, TrustedBroker, TrustedVisaIssuer
from governance.visas import VisaIssuer
from search.backend import SearchBackend

SIGNING_KEY_FILE = "storage-signing.key"
READ_POOL_SIZE = 10
"""Connections per server process for DRS resolution, beside the sessions' own pool."""


def build_verifier(settings: Settings, issuer: BuiltinIssuer | None) -> TokenVerifier:
    policies = {
        t.issuer: IssuerPolicy(
            issuer=t.issuer,
            audience=t.audience,
            algorithms=tuple(t.algorithms),
            jwks_uri=str(t.jwks_uri) if t.jwks_uri else None,
        )
        for t in settings.trusted_issuers
    }
    if issuer is not None:
        policies[issuer.issuer] = IssuerPolicy(
            issuer=issuer.issuer,
            audience=issuer.audience,
            algorithms=("RS256",),
            local_keys=issuer.key_set,
        )
    assert all(set(p.algorithms) <= set(SIGNING_ALGORITHMS) for p in policies.values())
    return TokenVerifier(
        policies,
        cache_seconds=settings.jwks_cache_seconds,
        min_refetch_seconds=settings.jwks_min_refetch_seconds,
        leeway=settings.clock_skew_seconds,
    )


def load_issuer(settings: Settings) -> BuiltinIssuer | None:
    if not settings.builtin_issuer:
        return None
    return BuiltinIssuer.from_data_dir(
        settings.data_dir, issuer=settings.issuer_url, audience=settings.token_audience
    )


def build_passport_verifier(
    settings: Settings, key_store: KeyStore, issuer: BuiltinIssuer | None = None
) -> PassportVerifier | None:
    brokers = [TrustedBroker(b.issuer, b.jwks_uri) for b in settings.trusted_brokers]
    visa_issuers = [
        TrustedVisaIssuer(v.issuer, frozenset(v.sources), v.jku, frozenset(v.source_prefixes))
        for v in settings.trusted_visa_issuers
    ]
    if settings.trust_own_passports and issuer is not None:
        brokers.append(TrustedBroker(issuer.issuer, issuer.jwks_uri))
        visa_issuers.append(own_visa_issuer(settings, issuer))
    if not brokers:
        return None
    return PassportVerifier(
        brokers=brokers,
        visa_issuers=visa_issuers,
        key_store=key_store,
        audiences=(settings.token_audience, settings.base_url),
        leeway_seconds=settings.clock_skew_seconds,
    )


def own_visa_issuer(settings: Settings, issuer: BuiltinIssuer) -> TrustedVisaIssuer:
    """Atrium's own visas: any of its committees (or stewards) as ``source``, its JWKS as
    ``jku``; the keys come from the ring in process, never over HTTP."""
    return TrustedVisaIssuer(
        issuer.issuer,
        frozenset(),
        issuer.jwks_uri,
        frozenset({committee_url(settings.base_url, ""), organization_url(settings.base_url, "")}),
    )


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    issuer: BuiltinIssuer | None = None,
    search: SearchBackend | None = None,
) -> Starlette:
    """``issuer`` and ``search`` default to what ``settings`` configure; tests pass their own."""
    issuer = issuer or load_issuer(settings)
    search = search or build_search_backend(settings)
    verifier = build_verifier(settings, issuer)
    visa_keys = KeyStore(
        cache_seconds=settings.jwks_cache_seconds,
        min_refetch_seconds=settings.jwks_min_refetch_seconds,
        local={issuer.jwks_uri: issuer.key_set} if issuer else {},
    )
    passports = build_passport_verifier(settings, visa_keys, issuer)

    async def jwks(_request: Request) -> Response:
        return JSONResponse(issuer.public_jwks() if issuer else {"keys": []})

    async def openid_configuration(_request: Request) -> Response:
        if issuer is None:
            return JSONResponse({"msg": "no built-in issuer", "status_code": 404}, 404)
        return JSONResponse(issuer.discovery_document())

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def home(_request: Request) -> Response:
        return RedirectResponse("/graphql")

    reads = ReadConnections(sessions, pool_size=READ_POOL_SIZE)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await verifier.aclose()
        await visa_keys.aclose()
        reads.close()

    storage = build_storage(
        local_root=settings.local_storage_root,
        base_url=settings.base_url,
        signing_key=load_or_create_signing_key(settings.data_dir / "keys" / SIGNING_KEY_FILE),
        ttl_seconds=settings.signed_url_ttl_seconds,
        s3_endpoint_url=settings.s3_endpoint_url,
        s3_region=settings.s3_region,
    )
    app = Starlette(
        routes=[
            *drs_routes(),
            *passport_routes(),
            local_route(storage.local),
            Route("/", home),
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/.well-known/jwks.json", jwks),
            Route("/.well-known/openid-configuration", openid_configuration),
            Route("/healthz", health),
        ],
        middleware=[
            Middleware(BearerAuthMiddleware, verifier=verifier),
            Middleware(DrsObjectFastPath),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.issuer = issuer
    app.state.sessions = sessions
    app.state.search = search
    app.state.drs = DrsConfig(
        sessions=sessions,
        lookups=lookups_over(reads),
        base_url=settings.base_url,
        hostname=drs_hostname(settings.base_url),
        storage=storage,
        passports=passports,
        bearer_issuers=sorted(verifier.policies),
        passport_issuers=sorted(v.issuer for v in settings.trusted_visa_issuers),
        max_bulk=settings.drs_max_bulk_request_length,
        compact_prefix=settings.drs_compact_prefix,
        organization_name=settings.organization_name,
        organization_url=settings.organization_url or settings.base_url,
        version=version("atrium-commons"),
    )
    app.state.passport = PassportConfig(
        sessions=sessions,
        visas=VisaIssuer(issuer.issuer, issuer.jwks_uri, issuer.ring, settings.visa_ttl_seconds)
        if issuer
        else None,
    )
    app.state.graphql = GraphQLConfig(
        schema=schema.graphql_schema,
        sessions=sessions,
        base_url=settings.base_url,
        search=search,
        reads=reads,
        cache=ResponseCache(settings.graphql_cache_mb << 20) if settings.graphql_cache_mb else None,
        drs=DrsNaming(drs_hostname(settings.base_url), settings.drs_compact_prefix),
        max_drs_uris=settings.drs_max_bulk_request_length,
        json_pages=settings.graphql_json_pages,
        memo=CatalogMemo(settings.graphql_memo_mb << 20) if settings.graphql_memo_mb else None,
        documents=ValidatedDocuments(
            schema.graphql_schema,
            max_depth=settings.graphql_max_depth,
            max_complexity=settings.graphql_max_complexity,
            max_list=settings.drs_max_bulk_request_length,
        ),
    )
    return app
