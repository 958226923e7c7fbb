"""A real HTTP server on 127.0.0.1 that publishes JSON documents (key sets, OIDC discovery) at
chosen paths and counts every request it receives, including requests for paths it does not
publish. Tests read ``hits`` to observe fetches as network traffic: caching, refetching, and
above all URLs that must never be requested.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Key = ECKey | RSAKey
DISCOVERY = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Document:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


def public_jwk(key: Key, **extra: Any) -> dict[str, Any]:
    """The public half of ``key`` as published in a JWKS, with ``use``, ``alg`` and ``kid``."""
    return {
        **key.as_dict(private=False),
        "use": "sig",
        "alg": "ES256" if isinstance(key, ECKey) else "RS256",
        "kid": key.kid,
        **extra,
    }


@dataclass
class JwksServer:
    base: str
    documents: dict[str, Document] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def publish(self, path: str, document: Any, *, status: int = 200, delay: float = 0) -> str:
        """Serve ``document`` as JSON at ``path``; its URL."""
        body = json.dumps(document).encode()
        return self.publish_raw(path, body, status=status, delay=delay)

    def publish_raw(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0,
    ) -> str:
        self.documents[path] = Document(body, status, headers or {}, delay)
        return self.url(path)

    def publish_keys(self, path: str, keys: list[Key]) -> str:
        return self.publish(path, {"keys": [public_jwk(k) for k in keys]})

    def publish_issuer(self, name: str, keys: list[Key]) -> str:
        """An OIDC issuer at ``/<name>`` with discovery and a JWKS at ``/<name>/jwks.json``."""
        issuer = self.url(f"/{name}")
        self.publish_keys(f"/{name}/jwks.json", keys)
        self.publish(
            f"/{name}{DISCOVERY}",
            {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/jwks.json",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            },
        )
        return issuer

    def reset(self) -> None:
        self.documents.clear()
        self.hits.clear()

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        self.hits[path] += 1
        document = self.documents.get(path)
        if document is None:
            return Response(b'{"error": "not found"}', 404, media_type="application/json")
        if document.delay_seconds:
            await asyncio.sleep(document.delay_seconds)
        return Response(
            document.body,
            document.status,
            headers=document.headers,
            media_type="application/json",
        )


@contextmanager
def serve() -> Iterator[JwksServer]:
    """Run a ``JwksServer`` in a thread for the duration of the block."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every response on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server_state = JwksServer(base=f"http://{host}:{port}")
    app = Starlette(routes=[Route("/{path:path}", server_state.handle)])
    config = uvicorn.Config(
        app, lifespan="off", http="h11", ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    try:
        while not server.started:
            assert thread.is_alive(), "the JWKS server thread died while starting"
            assert time.monotonic() < deadline, "the JWKS server did not start within 5 s"
            time.sleep(0.01)
        yield server_state
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
    assert not thread.is_alive()


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
