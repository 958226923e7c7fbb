"""Pure ASGI middleware that verifies a bearer token once per request.

A request without ``Authorization`` continues anonymously; a request with a token that fails
any check is answered 401 here, before any route runs, so no handler ever sees an unverified
identity. Verified claims are placed in ``scope["state"]["claims"]``.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth.tokens import TokenVerifier
from catalog.errors import Unauthenticated


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["claims"] = None
        header = _authorization(scope)
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                message = "Authorization header must be 'Bearer <token>'"
                await _refuse(send, message, error="invalid_request")
                return
            try:
                scope["state"]["claims"] = await self.verifier.verify(token.strip())
            except Unauthenticated as exc:
                await _refuse(send, exc.message, error="invalid_token")
                return
        await self.app(scope, receive, send)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


async def _refuse(send: Send, message: str, *, error: str) -> None:
    """401 in a shape both GraphQL clients and GA4GH clients understand; ``error`` is the
    RFC 6750 code for the WWW-Authenticate challenge."""
    body = json.dumps(
        {
            "msg": message,
            "status_code": 401,
            "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", f'Bearer error="{error}"'.encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
