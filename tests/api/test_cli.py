"""The `atrium` command line against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import build_verifier, load_issuer
from api.cli import main
from api.database import prepare
from api.settings import Settings
from catalog import service
from catalog.db import make_engine
from catalog.models import RoleAssignment, RoleName, User
from catalog.principals import SYSTEM
from catalog.schemas import OrganizationCreate


@pytest.fixture
def cli_env(
    committed_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", committed_database_url)
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ATRIUM_PUBLIC_BASE_URL", "http://atrium.test")
    engine = make_engine(committed_database_url, pool_size=1)
    prepare(engine)
    with Session(engine) as session, session.begin():
        service.create_organization(
            session,
            SYSTEM,
            data=OrganizationCreate(slug="acme-genomics", name="Acme", kind="steward"),
        )
    engine.dispose()
    return Settings()


def test_token_stores_roles_and_prints_a_verifiable_token(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["token", "--sub", "alice", "--role", "steward:acme-genomics", "--role", "admin"]) == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2
    assert cli_env.database_url is not None
    engine = make_engine(cli_env.database_url.get_secret_value(), pool_size=1)
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.subject == "alice")).one()
        assert user.issuer == "http://atrium.test"
        roles = {
            r.role
            for r in session.scalars(
                select(RoleAssignment).where(RoleAssignment.user_id == user.id)
            )
        }
    engine.dispose()
    assert roles == {RoleName.STEWARD, RoleName.ADMIN}
    verifier = build_verifier(cli_env, load_issuer(cli_env))
    claims = asyncio.run(verifier.verify(token))
    assert claims["sub"] == "alice"
    assert claims["iss"] == "http://atrium.test"


def test_token_with_bad_role_fails_cleanly(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--sub", "bob", "--role", "wizard"]) == 2
    assert "unknown role 'wizard'" in capsys.readouterr().err
    assert main(["token", "--sub", "bob", "--role", "steward:no-such-org"]) == 2
    assert "no organization 'no-such-org'" in capsys.readouterr().err


def test_keys_rotate_and_retire_change_the_published_key_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATRIUM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ATRIUM_PUBLIC_BASE_URL", "http://atrium.test")
    settings = Settings()
    issuer = load_issuer(settings)
    assert issuer is not None
    first = issuer.kid

    assert main(["keys", "rotate"]) == 0
    second = capsys.readouterr().out.strip()
    assert main(["keys", "list"]) == 0
    listed = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]
    assert listed == [[first, "published"], [second, "active"]]

    assert main(["keys", "retire", second]) == 1
    assert "rotate first" in capsys.readouterr().err
    assert main(["keys", "retire", first]) == 0
    assert [k["kid"] for k in issuer.public_jwks()["keys"]] == [second]
    assert main(["keys", "retire", "nope"]) == 1
    assert "no key 'nope'" in capsys.readouterr().err
