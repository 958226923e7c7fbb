"""The HTTP route that serves files of the local storage backend to holders of a signed URL.

The signature is the only credential: no bearer token is needed or consulted. Every request is
verified by ``LocalStorage.verify``; files are streamed in chunks by Starlette's ``FileResponse``,
which also answers HEAD and single or multiple byte ranges.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from catalog.errors import AtriumError
from catalog.storage import ROUTE_PREFIX, LocalStorage

ROUTE_PATH = f"{ROUTE_PREFIX}/{{key:path}}"
NO_STORE = {"Cache-Control": "private, no-store"}
_RANGE_ERRORS = {
    400: "the Range header is malformed",
    416: "the requested range is not satisfiable",
}


def error_response(
    message: str, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    """A GA4GH ``Error`` body."""
    return JSONResponse(
        {"msg": message, "status_code": status_code},
        status_code,
        headers={**NO_STORE, **(headers or {})},
    )


class _Download(FileResponse):
    """``FileResponse`` answers a bad Range header in plain text (400, or 416 with Content-Range);
    DRS clients expect GA4GH error bodies, so those two answers are replaced on the way out."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def send_ga4gh_errors(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in _RANGE_ERRORS:
                replaced = True
                status = message["status"]
                kept = {
                    name.decode("latin-1"): value.decode("latin-1")
                    for name, value in message["headers"]
                    if name.lower() == b"content-range"
                }
                await error_response(_RANGE_ERRORS[status], status, kept)(scope, receive, send)
            elif not replaced:
                await send(message)

        await super().__call__(scope, receive, send_ga4gh_errors)


def local_route(storage: LocalStorage) -> Route:
    """``GET``/``HEAD`` ``/storage/{key:path}``, mounted at the application's root."""

    def download(request: Request) -> Response:
        # A plain function: Starlette runs it in its thread pool, so path checks never block
        # the event loop.
        try:
            found = storage.verify(
                request.path_params["key"],
                expires=request.query_params.get("expires"),
                signature=request.query_params.get("signature"),
            )
        except AtriumError as exc:
            return error_response(exc.message, exc.status_code)
        return _Download(
            found.path,
            headers=NO_STORE,
            media_type="application/octet-stream",
            stat_result=found.stat,
        )

    return Route(ROUTE_PATH, download, methods=["GET", "HEAD"], name="storage")
