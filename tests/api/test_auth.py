"""Strict bearer-token verification, seen from outside: through the ASGI app for the built-in
issuer, and against a real OIDC provider (a tiny uvicorn server on 127.0.0.1) for trusted
external issuers. The provider counts the requests it receives, so discovery and JWKS caching and
key rotation are observed as network traffic rather than by reading the verifier's cache.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from api.app import create_app
from api.auth.issuer import BuiltinIssuer
from api.auth.tokens import MAX_TOKEN_BYTES, REMEMBER_SECONDS, IssuerPolicy, TokenVerifier
from api.settings import Settings
from catalog.errors import Unauthenticated
from catalog.models import RoleName
from tests.factories import Factory

ME = "{ me { authenticated subject issuer roles { role organization { slug } } } }"
AUDIENCE = "atrium-test"
DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/.well-known/jwks.json"
BEARER_ONLY = "Authorization header must be 'Bearer <token>'"
KEYS_UNAVAILABLE = "the token issuer's keys could not be fetched"
NOT_A_JWS = "token is not a signed JWT (expected header.payload.signature)"

Key = ECKey | RSAKey


# --- helpers ------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def claims_for(issuer: str, audience: str, **changes: Any) -> dict[str, Any]:
    """Valid claims; a change whose value is None removes that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": "alice",
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign(key: Key, claims: dict[str, Any], *, alg: str, kid: str | None = None) -> str:
    header = {"alg": alg, "typ": "JWT", "kid": kid or str(key.kid)}
    return jwt.encode(header, claims, key, algorithms=[alg])


def post_me(client: TestClient, token: str | None = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/graphql", json={"query": ME}, headers=headers)


def me(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["me"]
    return result


def assert_refused(
    response: httpx.Response,
    message: str,
    *,
    secret: str | None = None,
    error: str = "invalid_token",
) -> None:
    """A 401 from the middleware naming the failed check and never echoing the credential."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == f'Bearer error="{error}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "msg": message,
        "status_code": 401,
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    if secret:
        assert secret not in response.text
        for segment in secret.split("."):
            if len(segment) >= 8:
                assert segment not in response.text


# --- built-in issuer, through the app -----------------------------------------------------------


@pytest.fixture(scope="module")
def stranger_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


def test_no_authorization_header_is_anonymous(client: TestClient) -> None:
    response = post_me(client)

    assert me(response) == {"authenticated": False, "subject": None, "issuer": None, "roles": []}


def test_valid_builtin_token_shows_subject_issuer_and_roles(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    steward = factory.organization()
    headers = factory.headers("alice", (RoleName.ADMIN, None), (RoleName.STEWARD, steward.slug))

    response = client.post("/graphql", json={"query": ME}, headers=headers)

    assert me(response) == {
        "authenticated": True,
        "subject": "alice",
        "issuer": settings.issuer_url,
        "roles": [
            {"role": "ADMIN", "organization": None},
            {"role": "STEWARD", "organization": {"slug": steward.slug}},
        ],
    }


def test_valid_token_of_unknown_user_has_no_roles(
    client: TestClient, issuer: BuiltinIssuer
) -> None:
    response = post_me(client, issuer.mint("newcomer"))

    assert me(response) == {
        "authenticated": True,
        "subject": "newcomer",
        "issuer": issuer.issuer,
        "roles": [],
    }


def test_bearer_scheme_is_case_insensitive(client: TestClient, issuer: BuiltinIssuer) -> None:
    response = post_me(client, Authorization=f"bearer {issuer.mint('alice')}")

    assert me(response)["subject"] == "alice"


def test_expired_token_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    token = issuer.mint("alice", ttl_seconds=3600, now=int(time.time()) - 3600 - 120)

    assert_refused(post_me(client, token), "token has expired", secret=token)


def test_token_expired_within_clock_skew_leeway_is_accepted(
    client: TestClient, issuer: BuiltinIssuer, settings: Settings
) -> None:
    assert settings.clock_skew_seconds == 30
    token = issuer.mint("alice", ttl_seconds=3600, now=int(time.time()) - 3600 - 10)

    assert me(post_me(client, token))["authenticated"] is True


def test_token_not_yet_valid_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    now = int(time.time())
    token = sign(issuer.key, claims_for(issuer.issuer, issuer.audience, nbf=now + 120), alg="RS256")

    assert_refused(post_me(client, token), "token is not yet valid", secret=token)


def test_token_not_before_within_leeway_is_accepted(
    client: TestClient, issuer: BuiltinIssuer
) -> None:
    now = int(time.time())
    token = sign(issuer.key, claims_for(issuer.issuer, issuer.audience, nbf=now + 10), alg="RS256")

    assert me(post_me(client, token))["authenticated"] is True


def test_token_for_another_audience_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    token = sign(issuer.key, claims_for(issuer.issuer, "another-service"), alg="RS256")

    assert_refused(post_me(client, token), "token claim 'aud' is invalid or missing", secret=token)


def test_token_without_subject_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    token = sign(issuer.key, claims_for(issuer.issuer, issuer.audience, sub=None), alg="RS256")

    assert_refused(post_me(client, token), "token claim 'sub' is invalid or missing", secret=token)


def test_token_without_expiry_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    token = sign(issuer.key, claims_for(issuer.issuer, issuer.audience, exp=None), alg="RS256")

    assert_refused(post_me(client, token), "token claim 'exp' is invalid or missing", secret=token)


@pytest.mark.parametrize("iss", ["https://evil.example", None], ids=["untrusted", "missing"])
def test_token_from_unknown_issuer_is_refused(
    client: TestClient, issuer: BuiltinIssuer, iss: str | None
) -> None:
    """Signed with the built-in key, so only the issuer allow-list can refuse it."""
    token = sign(issuer.key, claims_for(issuer.issuer, issuer.audience, iss=iss), alg="RS256")

    assert_refused(post_me(client, token), "token issuer is not trusted", secret=token)


def test_token_signed_by_another_key_with_the_same_kid_is_refused(
    client: TestClient, issuer: BuiltinIssuer, stranger_rsa_key: RSAKey
) -> None:
    claims = claims_for(issuer.issuer, issuer.audience)
    token = sign(stranger_rsa_key, claims, alg="RS256", kid=issuer.kid)

    assert_refused(post_me(client, token), "token signature is invalid", secret=token)


def test_token_signed_by_a_key_with_an_unknown_kid_is_refused(
    client: TestClient, issuer: BuiltinIssuer, stranger_rsa_key: RSAKey
) -> None:
    claims = claims_for(issuer.issuer, issuer.audience)
    token = sign(stranger_rsa_key, claims, alg="RS256", kid="stranger")

    assert_refused(post_me(client, token), "token cannot be verified: invalid_key_id", secret=token)


def test_tampered_payload_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    header, _payload, signature = issuer.mint("mallory").split(".")
    forged = b64json(claims_for(issuer.issuer, issuer.audience, sub="admin"))
    token = f"{header}.{forged}.{signature}"

    assert_refused(post_me(client, token), "token signature is invalid", secret=token)


def test_unsigned_alg_none_token_is_refused(client: TestClient, issuer: BuiltinIssuer) -> None:
    claims = claims_for(issuer.issuer, issuer.audience)
    token = f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(claims)}."

    assert_refused(post_me(client, token), "token is unsigned", secret=token)


def test_alg_none_token_with_a_signature_segment_is_refused(
    client: TestClient, issuer: BuiltinIssuer
) -> None:
    claims = claims_for(issuer.issuer, issuer.audience)
    token = f"{b64json({'alg': 'none', 'kid': issuer.kid})}.{b64json(claims)}.{b64url(b'x' * 32)}"

    assert_refused(
        post_me(client, token),
        "token algorithm 'none' is not allowed for this issuer",
        secret=token,
    )


def test_hs256_token_keyed_with_the_issuer_public_key_is_refused(
    client: TestClient, issuer: BuiltinIssuer
) -> None:
    """The classic algorithm-confusion attack: a verifier that lets the token pick HMAC would
    use the published RSA key as the shared secret and accept this forgery."""
    public_pem = issuer.key.as_pem(private=False)
    signing_input = (
        f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}."
        f"{b64json(claims_for(issuer.issuer, issuer.audience, sub='admin'))}"
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"

    assert_refused(
        post_me(client, token),
        "token algorithm 'HS256' is not allowed for this issuer",
        secret=token,
    )


def _oversized(issuer: BuiltinIssuer) -> str:
    header, payload, signature = issuer.mint("alice").split(".")
    padded = b64json({**json.loads(base64.urlsafe_b64decode(payload + "==")), "pad": "x" * 20_000})
    return f"{header}.{padded}.{signature}"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda _i: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9", NOT_A_JWS),
        (lambda _i: "a.b.c.d.e", NOT_A_JWS),
        (lambda _i: "%%%%.^^^^.****", "token is malformed"),
        (lambda i: f"{b64url(b'not json')}.{i.mint('a').split('.')[1]}.c2ln", "token is malformed"),
        (lambda i: f"{b64json(['RS256'])}.{i.mint('a').split('.')[1]}.c2ln", "token is malformed"),
        (lambda i: f"{i.mint('a').split('.')[0]}.{b64json('alice')}.c2ln", "token is malformed"),
        (lambda i: "x" * (MAX_TOKEN_BYTES + 1), "token is too large"),
        (_oversized, "token is too large"),
    ],
    ids=[
        "two-segments",
        "five-segments",
        "garbage-base64",
        "non-json-header",
        "header-not-an-object",
        "claims-not-an-object",
        "oversized-garbage",
        "oversized-signed-token",
    ],
)
def test_malformed_token_is_refused(
    client: TestClient,
    issuer: BuiltinIssuer,
    build: Callable[[BuiltinIssuer], str],
    message: str,
) -> None:
    token = build(issuer)

    assert_refused(post_me(client, token), message, secret=token)


@pytest.mark.parametrize(
    "authorization",
    ["Basic YWxpY2U6czNjcjN0LXBhc3N3b3Jk", "Bearer", "Bearer ", "Bearer    ", "Token abc.def.ghi"],
    ids=["basic", "bearer-alone", "bearer-empty", "bearer-blank", "other-scheme"],
)
def test_authorization_header_that_is_not_a_bearer_token_is_refused(
    client: TestClient, authorization: str
) -> None:
    response = post_me(client, Authorization=authorization)

    assert_refused(
        response,
        BEARER_ONLY,
        secret=authorization.partition(" ")[2].strip(),
        error="invalid_request",
    )


def test_bad_token_is_refused_before_any_route_runs(
    client: TestClient, issuer: BuiltinIssuer
) -> None:
    token = issuer.mint("alice", now=int(time.time()) - 7200)

    assert client.get("/healthz").status_code == 200
    assert_refused(
        client.get("/healthz", headers={"Authorization": f"Bearer {token}"}),
        "token has expired",
        secret=token,
    )


# --- an external OIDC issuer over real HTTP -----------------------------------------------------


@dataclass
class FakeProvider:
    """A minimal OIDC provider; tests change what it publishes and read what it was asked."""

    base: str
    keys: list[Key]
    advertised_issuer: str | None = None
    failure_status: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    def reset(self, keys: list[Key]) -> None:
        self.keys = list(keys)
        self.advertised_issuer = None
        self.failure_status = None
        self.overrides.clear()
        self.hits.clear()

    async def discovery(self, request: Request) -> Response:
        self.hits[request.url.path] += 1
        if self.failure_status:
            return JSONResponse({"error": "unavailable"}, self.failure_status)
        if DISCOVERY in self.overrides:
            return JSONResponse(self.overrides[DISCOVERY])
        return JSONResponse(
            {
                "issuer": self.advertised_issuer or self.base,
                "jwks_uri": f"{self.base}{JWKS}",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        self.hits[request.url.path] += 1
        if self.failure_status:
            return JSONResponse({"error": "unavailable"}, self.failure_status)
        if JWKS in self.overrides:
            return JSONResponse(self.overrides[JWKS])
        published = [
            {
                **key.as_dict(private=False),
                "use": "sig",
                "alg": "ES256" if isinstance(key, ECKey) else "RS256",
                "kid": key.kid,
            }
            for key in self.keys
        ]
        return JSONResponse({"keys": published})


def _ec_key() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def provider_key() -> ECKey:
    return _ec_key()


@pytest.fixture(scope="module")
def provider_rsa_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@pytest.fixture(scope="module")
def provider_server(provider_key: ECKey) -> Iterator[FakeProvider]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    provider = FakeProvider(base=f"http://{host}:{port}", keys=[provider_key])
    app = Starlette(
        routes=[Route(DISCOVERY, provider.discovery), Route(JWKS, provider.jwks)],
    )
    config = uvicorn.Config(
        app, lifespan="off", http="h11", ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert thread.is_alive(), "the issuer's server thread died while starting"
        assert time.monotonic() < deadline, "the issuer's server did not start within 5 s"
        time.sleep(0.01)
    yield provider
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()
    assert not thread.is_alive()


@pytest.fixture
def provider(provider_server: FakeProvider, provider_key: ECKey) -> FakeProvider:
    provider_server.reset([provider_key])
    return provider_server


@pytest.fixture
def external_client(
    settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[Callable[..., TestClient]]:
    """Apps trusting the given issuers, each with its own verifier (and so its own key cache)."""
    with ExitStack() as stack:

        def make(*trusted: dict[str, Any], raise_server_exceptions: bool = True) -> TestClient:
            configured = Settings(
                data_dir=settings.data_dir,
                public_base_url=settings.public_base_url,
                database_url=None,
                trusted_issuers=list(trusted),
                jwks_min_refetch_seconds=0,
            )
            app = create_app(configured, sessions)
            client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
            return stack.enter_context(client)

        yield make


def test_external_es256_token_is_accepted(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    token = sign(provider_key, claims_for(provider.base, AUDIENCE, sub="erin"), alg="ES256")

    assert me(post_me(client, token)) == {
        "authenticated": True,
        "subject": "erin",
        "issuer": provider.base,
        "roles": [],
    }


def test_discovery_and_jwks_are_fetched_once_then_cached(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})

    for subject in ("erin", "frank", "erin"):
        token = sign(provider_key, claims_for(provider.base, AUDIENCE, sub=subject), alg="ES256")
        assert me(post_me(client, token))["subject"] == subject

    assert provider.hits == Counter({DISCOVERY: 1, JWKS: 1})


def test_cached_keys_outlive_an_issuer_outage(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    token = sign(provider_key, claims_for(provider.base, AUDIENCE), alg="ES256")
    assert me(post_me(client, token))["authenticated"] is True

    provider.failure_status = 503

    assert me(post_me(client, token))["authenticated"] is True
    assert provider.hits == Counter({DISCOVERY: 1, JWKS: 1})


def test_unknown_kid_triggers_exactly_one_refetch(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    old = sign(provider_key, claims_for(provider.base, AUDIENCE, sub="erin"), alg="ES256")
    assert me(post_me(client, old))["subject"] == "erin"
    assert provider.hits == Counter({DISCOVERY: 1, JWKS: 1})

    rotated = _ec_key()
    provider.keys.append(rotated)
    new = sign(rotated, claims_for(provider.base, AUDIENCE, sub="frank"), alg="ES256")

    assert me(post_me(client, new))["subject"] == "frank"
    assert provider.hits == Counter({DISCOVERY: 2, JWKS: 2})
    assert me(post_me(client, new))["subject"] == "frank"
    assert me(post_me(client, old))["subject"] == "erin"
    assert provider.hits == Counter({DISCOVERY: 2, JWKS: 2})


def test_external_token_for_another_audience_is_refused(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    token = sign(provider_key, claims_for(provider.base, "someone-else"), alg="ES256")

    assert_refused(post_me(client, token), "token claim 'aud' is invalid or missing", secret=token)


def test_external_token_signed_by_an_unpublished_key_is_refused(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    claims = claims_for(provider.base, AUDIENCE)
    token = sign(_ec_key(), claims, alg="ES256", kid=str(provider_key.kid))

    assert_refused(post_me(client, token), "token signature is invalid", secret=token)


def test_rs256_token_is_refused_when_the_issuer_may_only_use_es256(
    provider: FakeProvider, provider_rsa_key: RSAKey, external_client: Callable[..., TestClient]
) -> None:
    provider.keys.append(provider_rsa_key)
    token = sign(provider_rsa_key, claims_for(provider.base, AUDIENCE), alg="RS256")
    strict = external_client(
        {"issuer": provider.base, "audience": AUDIENCE, "algorithms": ["ES256"]}
    )

    assert_refused(
        post_me(strict, token),
        "token algorithm 'RS256' is not allowed for this issuer",
        secret=token,
    )
    assert provider.hits == Counter(), "the algorithm is refused before any key is fetched"

    default = external_client({"issuer": provider.base, "audience": AUDIENCE})
    assert me(post_me(default, token))["authenticated"] is True


def test_discovery_document_naming_another_issuer_is_refused(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    provider.advertised_issuer = f"{provider.base}/someone-else"
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    token = sign(provider_key, claims_for(provider.base, AUDIENCE), alg="ES256")

    assert_refused(post_me(client, token), KEYS_UNAVAILABLE, secret=token)
    assert provider.hits == Counter({DISCOVERY: 1}), "keys are not fetched from a liar"


def test_issuer_answering_with_an_error_status_is_refused(
    provider: FakeProvider, provider_key: ECKey, external_client: Callable[..., TestClient]
) -> None:
    provider.failure_status = 503
    client = external_client({"issuer": provider.base, "audience": AUDIENCE})
    token = sign(provider_key, claims_for(provider.base, AUDIENCE), alg="ES256")

    assert_refused(post_me(client, token), KEYS_UNAVAILABLE, secret=token)


def test_issuer_that_is_down_is_refused_not_a_server_error(
    external_client: Callable[..., TestClient],
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    client = external_client({"issuer": down, "audience": AUDIENCE})
    token = sign(_ec_key(), claims_for(down, AUDIENCE), alg="ES256")

    assert_refused(post_me(client, token), KEYS_UNAVAILABLE, secret=token)


@pytest.mark.parametrize(
    ("path", "document"),
    [
        (JWKS, {}),
        (JWKS, []),
        (DISCOVERY, [1, 2]),
        (DISCOVERY, {"issuer": 42, "jwks_uri": "http://127.0.0.1/jwks"}),
    ],
    ids=["jwks-without-keys", "jwks-array", "discovery-array", "discovery-issuer-number"],
)
def test_issuer_publishing_a_document_of_the_wrong_shape_is_refused(
    provider: FakeProvider,
    provider_key: ECKey,
    external_client: Callable[..., TestClient],
    path: str,
    document: Any,
) -> None:
    provider.overrides[path] = document
    client = external_client(
        {"issuer": provider.base, "audience": AUDIENCE}, raise_server_exceptions=False
    )
    token = sign(provider_key, claims_for(provider.base, AUDIENCE), alg="ES256")

    assert_refused(post_me(client, token), KEYS_UNAVAILABLE, secret=token)


# --- TokenVerifier directly ---------------------------------------------------------------------


def _verify(verifier: TokenVerifier, token: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        try:
            return await verifier.verify(token)
        finally:
            await verifier.aclose()

    return asyncio.run(run())


def test_verifier_returns_the_verified_claims(provider_key: ECKey) -> None:
    issuer = "https://idp.example"
    policy = IssuerPolicy(issuer, AUDIENCE, ("ES256",), local_keys=KeySet([provider_key]))
    claims = claims_for(issuer, AUDIENCE, name="Erin")

    assert _verify(TokenVerifier({issuer: policy}), sign(provider_key, claims, alg="ES256")) == (
        claims
    )


def test_verifier_checks_a_token_only_against_its_own_issuer_keys(provider_key: ECKey) -> None:
    """A token claiming issuer A but signed with trusted issuer B's key is not verified."""
    other_key = _ec_key()
    policies = {
        "https://a.example": IssuerPolicy(
            "https://a.example", AUDIENCE, ("ES256",), local_keys=KeySet([provider_key])
        ),
        "https://b.example": IssuerPolicy(
            "https://b.example", AUDIENCE, ("ES256",), local_keys=KeySet([other_key])
        ),
    }
    claims = claims_for("https://a.example", AUDIENCE)

    with pytest.raises(Unauthenticated, match=r"^token cannot be verified: invalid_key_id$"):
        _verify(TokenVerifier(policies), sign(other_key, claims, alg="ES256"))
    with pytest.raises(Unauthenticated, match=r"^token signature is invalid$"):
        _verify(
            TokenVerifier(policies),
            sign(other_key, claims, alg="ES256", kid=str(provider_key.kid)),
        )


def test_a_verified_token_is_trusted_without_its_key_for_a_minute_at_most(
    provider_key: ECKey,
) -> None:
    issuer = "https://idp.example"
    now = [time.time()]
    ring = [provider_key]
    policy = IssuerPolicy(issuer, AUDIENCE, ("ES256",), local_keys=lambda: KeySet(list(ring)))
    verifier = TokenVerifier({issuer: policy}, clock=lambda: now[0], leeway=0)
    token = sign(provider_key, claims_for(issuer, AUDIENCE, exp=int(now[0]) + 3600), alg="ES256")

    async def run() -> list[str]:
        outcomes = []
        for advance in (0, REMEMBER_SECONDS - 1, 2):
            now[0] += advance
            try:
                outcomes.append((await verifier.verify(token))["sub"])
            except Unauthenticated as exc:
                outcomes.append(exc.message)
            ring.clear()  # the key is retired once the token has been verified
        return outcomes

    assert asyncio.run(run()) == ["alice", "alice", "token cannot be verified: invalid_key_id"]


def test_a_remembered_token_still_expires(provider_key: ECKey) -> None:
    issuer = "https://idp.example"
    now = [time.time()]
    policy = IssuerPolicy(issuer, AUDIENCE, ("ES256",), local_keys=KeySet([provider_key]))
    verifier = TokenVerifier({issuer: policy}, clock=lambda: now[0], leeway=5)
    token = sign(provider_key, claims_for(issuer, AUDIENCE, exp=int(now[0]) + 10), alg="ES256")

    async def run() -> None:
        assert (await verifier.verify(token))["sub"] == "alice"
        now[0] += 14
        assert (await verifier.verify(token))["sub"] == "alice"  # within the leeway
        now[0] += 2
        with pytest.raises(Unauthenticated, match=r"^token has expired$"):
            await verifier.verify(token)

    asyncio.run(run())


def test_verifier_uses_a_configured_jwks_uri_without_discovery(
    provider: FakeProvider, provider_key: ECKey
) -> None:
    policy = IssuerPolicy(provider.base, AUDIENCE, ("ES256",), jwks_uri=f"{provider.base}{JWKS}")
    token = sign(provider_key, claims_for(provider.base, AUDIENCE), alg="ES256")

    assert _verify(TokenVerifier({provider.base: policy}), token)["sub"] == "alice"
    assert provider.hits == Counter({JWKS: 1})


def test_verifier_refetches_keys_once_the_cache_expires(
    provider: FakeProvider, provider_key: ECKey
) -> None:
    now = [time.time()]
    policy = IssuerPolicy(provider.base, AUDIENCE, ("ES256",))
    verifier = TokenVerifier(
        {provider.base: policy}, cache_seconds=300, clock=lambda: now[0], leeway=0
    )
    fetches: list[int] = []

    async def run() -> None:
        try:
            for advance in (0, 299, 2, 1):
                now[0] += advance
                # A new token (jti) each time: a verified token is remembered without its keys.
                claims = claims_for(provider.base, AUDIENCE, exp=int(now[0]) + 3600)
                await verifier.verify(sign(provider_key, claims, alg="ES256"))
                fetches.append(provider.hits[JWKS])
        finally:
            await verifier.aclose()

    asyncio.run(run())

    assert fetches == [1, 1, 2, 2]
    assert provider.hits == Counter({DISCOVERY: 2, JWKS: 2})


def test_unknown_kids_cannot_make_the_verifier_hammer_the_issuer(
    provider: FakeProvider, provider_key: ECKey
) -> None:
    """Forged tokens with random kids refetch at most once per min_refetch_seconds."""
    now = [time.time()]
    policy = IssuerPolicy(provider.base, AUDIENCE, ("ES256",))
    verifier = TokenVerifier(
        {provider.base: policy}, min_refetch_seconds=30, clock=lambda: now[0], leeway=0
    )
    good = sign(
        provider_key, claims_for(provider.base, AUDIENCE, exp=int(now[0]) + 3600), alg="ES256"
    )

    async def run() -> list[bool]:
        outcomes = []
        try:
            await verifier.verify(good)
            for _ in range(20):
                forged = sign(_ec_key(), claims_for(provider.base, AUDIENCE), alg="ES256")
                try:
                    await verifier.verify(forged)
                    outcomes.append(True)
                except Unauthenticated:
                    outcomes.append(False)
            now[0] += 31
            forged = sign(_ec_key(), claims_for(provider.base, AUDIENCE), alg="ES256")
            with pytest.raises(Unauthenticated):
                await verifier.verify(forged)
        finally:
            await verifier.aclose()
        return outcomes

    assert not any(asyncio.run(run()))
    assert provider.hits == Counter({DISCOVERY: 2, JWKS: 2})
