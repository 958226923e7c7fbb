"""GA4GH passport routes of Atrium's built-in issuer: the caller's passport, and their visas in
the OIDC UserInfo form (``ga4gh_passport_v1``) that AAI 1.2 keeps for 1.0 compatibility.

AAI 1.2 has Brokers issue passports by RFC 8693 token exchange at the Token Endpoint, with
client authentication. Atrium registers no OAuth clients, so the caller's bearer token is the
subject token and ``GET /ga4gh/passport/v1/passport`` answers in the RFC 8693 response shape
(``access_token`` is the passport, ``issued_token_type`` the GA4GH passport token type).
Token responses are never cached (AAI 1.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth.principals import principal_from_claims
from governance.visas import IssuedPassport, VisaIssuer

PASSPORT_TOKEN_TYPE = "urn:ga4gh:params:oauth:token-type:passport"  # noqa: S105 - a type name
NO_STORE = {"cache-control": "no-cache, no-store", "pragma": "no-cache"}


@dataclass(frozen=True)
class PassportConfig:
    sessions: sessionmaker[Session]
    visas: VisaIssuer | None


def _error(status: int, message: str, **headers: str) -> Response:
    return JSONResponse({"msg": message, "status_code": status}, status, headers=headers)


def _issue(config: PassportConfig, visas: VisaIssuer, claims: dict[str, Any]) -> IssuedPassport:
    with config.sessions() as session, session.begin():
        principal = principal_from_claims(session.connection(), claims)
        return visas.passport(session, principal, now=datetime.now(UTC))


async def _passport_for(request: Request) -> IssuedPassport | Response:
    config: PassportConfig = request.app.state.passport
    if config.visas is None:
        return _error(404, "this server issues no passports (the built-in issuer is off)")
    claims = request.scope["state"].get("claims")
    if not claims:
        challenge = 'Bearer error="invalid_request"'
        return _error(401, "a passport needs a bearer token", **{"www-authenticate": challenge})
    return await run_in_threadpool(_issue, config, config.visas, claims)


async def passport(request: Request) -> Response:
    issued = await _passport_for(request)
    if isinstance(issued, Response):
        return issued
    body = {
        "access_token": issued.token,
        "issued_token_type": PASSPORT_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": max(0, issued.expires_at - int(datetime.now(UTC).timestamp())),
    }
    return JSONResponse(body, headers=NO_STORE)


async def userinfo(request: Request) -> Response:
    issued = await _passport_for(request)
    if isinstance(issued, Response):
        return issued
    body = {"sub": issued.subject, "ga4gh_passport_v1": [v.token for v in issued.visas]}
    return JSONResponse(body, headers=NO_STORE)


def passport_routes() -> list[Route]:
    return [
        Route("/ga4gh/passport/v1/passport", passport, methods=["GET"]),
        Route("/userinfo", userinfo, methods=["GET"]),
    ]
