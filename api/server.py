"""Running the API under uvicorn, with the embedded or configured Postgres."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import uvicorn
from rich.console import Console
from sqlalchemy.engine import Engine

from api.app import create_app
from api.database import open_engine, session_factory
from api.settings import Settings
from search.indexing import start_indexer


def serve(
    settings: Settings,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    engine: Engine | None = None,
) -> int:
    if (certfile is None) != (keyfile is None):
        raise SystemExit("--certfile and --keyfile go together")
    with ExitStack() as stack:
        if engine is None:
            engine = stack.enter_context(open_engine(settings))
        sessions = session_factory(engine)
        app = create_app(settings, sessions)
        if settings.index_in_process:
            stack.callback(start_indexer(sessions, app.state.search))
        scheme = "https" if certfile else "http"
        Console(stderr=True).print(
            f"Atrium serving at {scheme}://{settings.host}:{settings.port}"
            f" (GraphiQL: {scheme}://{settings.host}:{settings.port}/graphql)"
        )
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
            proxy_headers=True,
        )
        uvicorn.Server(config).run()
    return 0
