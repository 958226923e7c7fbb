"""Test fixtures: one real Postgres database per xdist worker, migrated once; each test runs
inside a transaction that is rolled back at the end, so tests never see each other's rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app, load_issuer
from api.auth.issuer import BuiltinIssuer
from api.database import embedded_postgres, migrated_engine
from api.settings import Settings
from catalog.db import make_engine
from deploy.elasticsearch_node import shared_node
from tests.factories import Factory

REPO = Path(__file__).resolve().parent.parent
# Taken out of the environment once: tests that run the CLI build Settings from it and must not
# point their server or worker at the shared node; tests that want Elasticsearch ask for the
# ``elasticsearch_url`` fixture.
CONFIGURED_ELASTICSEARCH = os.environ.pop("ATRIUM_ELASTICSEARCH_URL", None)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """ATRIUM_DATABASE_URL if set, else the embedded Postgres kept under .atrium/test."""
    configured = os.environ.get("ATRIUM_DATABASE_URL")
    if configured:
        yield configured
        return
    with embedded_postgres(REPO / ".atrium" / "test") as url:
        yield url


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    """ATRIUM_ELASTICSEARCH_URL if set (``deploy/atrium-dev test`` sets it), else a node under
    .atrium/test/elasticsearch that this run's xdist workers share and the last one stops."""
    configured = CONFIGURED_ELASTICSEARCH
    if configured:
        yield configured.rstrip("/")
        return
    with shared_node(
        REPO / ".atrium" / "test" / "elasticsearch", cache=REPO / ".atrium" / "elasticsearch"
    ) as url:
        yield url


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the test server; its URL."""
    admin = make_engine(server_url, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(server_url: str, worker_id: str) -> str:
    """This worker's database, migrated once; tests roll their changes back."""
    return fresh_database(server_url, f"atrium_test_{worker_id}")


@pytest.fixture
def committed_database_url(server_url: str, worker_id: str) -> str:
    """An empty database for tests whose code commits (CLI, concurrency), fresh each test."""
    return fresh_database(server_url, f"atrium_scratch_{worker_id}")


@pytest.fixture
def committed_engine(committed_database_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh database, for code under test that commits (concurrency,
    the catalog generation, caches of committed state)."""
    with migrated_engine(committed_database_url, pool_size=6) as engine:
        yield engine


@pytest.fixture
def committed_sessions(committed_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(committed_engine, expire_on_commit=False)


@pytest.fixture
def committed_factory(committed_engine: Engine, issuer: BuiltinIssuer) -> Iterator[Factory]:
    """A factory on the committed database; a test commits its session when the code under
    test must see the rows."""
    with Session(committed_engine, expire_on_commit=False) as session:
        yield Factory(session, issuer=issuer)
        session.commit()


@pytest.fixture
def committed_client(
    committed_sessions: sessionmaker[Session], settings: Settings, issuer: BuiltinIssuer
) -> Callable[..., TestClient]:
    """``committed_client(**settings)``: a client of an app on the committed database, with
    those settings changed (the caches the shared settings leave off, say)."""

    def client(**changed: Any) -> TestClient:
        app = create_app(settings.model_copy(update=changed), committed_sessions, issuer=issuer)
        return TestClient(app)

    return client


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url, pool_size=4) as engine:
        yield engine


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's rolled-back transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No GraphQL response cache or memo: these apps read inside each test's rolled-back
    # transaction, where the catalog generation cannot move (it moves at commit). Both have
    # tests of their own on a committed database (tests/api/test_graphql_response_cache.py,
    # tests/api/test_graphql_catalog_memo.py).
    return Settings(
        data_dir=tmp_path_factory.mktemp("atrium-data"),
        public_base_url="http://testserver",
        database_url=None,
        elasticsearch_url=None,
        graphql_cache_mb=0,
        graphql_memo_mb=0,
    )


@pytest.fixture(scope="session")
def issuer(settings: Settings) -> BuiltinIssuer:
    """Loaded once: parsing the RSA key costs tens of milliseconds."""
    loaded = load_issuer(settings)
    assert loaded is not None
    return loaded


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session], issuer: BuiltinIssuer):  # type: ignore[no-untyped-def]
    return create_app(settings, sessions, issuer=issuer)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def factory(db: Session, app, settings: Settings) -> Factory:  # type: ignore[no-untyped-def]
    return Factory(db, issuer=app.state.issuer)
