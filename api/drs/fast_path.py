"""``GET /ga4gh/drs/v1/objects/{object_id}``, the request a DRS server answers most, answered
before Starlette's exception middleware, routing and request objects (measured: ~85 µs of the
~500 µs of server CPU a lookup cost).

Only the plain form takes this path: an id without ``/``, no query string, no ``root_path``.
Everything else (``expand``, ids holding ``/``, ``/access/...``, other methods, an app mounted
under a prefix) goes on to the routes, which answer the same requests the same way: both call
``routes.object_response``. docs/adr/0007-drs-read-path.md has the measurements.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.drs.routes import answered, object_response

OBJECTS = "/ga4gh/drs/v1/objects/"


class DrsObjectFastPath:
    """Pure ASGI middleware, placed after authentication (it reads the verified claims)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["query_string"]
            or scope.get("root_path")
            or not path.startswith(OBJECTS)
            or "/" in path[len(OBJECTS) :]
        ):
            await self.app(scope, receive, send)
            return
        config = scope["app"].state.drs
        claims = scope["state"].get("claims")
        work = object_response(config, path[len(OBJECTS) :], claims)
        response = await answered(work, "GET", path)
        await response(scope, receive, send)
