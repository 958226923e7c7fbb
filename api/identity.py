"""Local identities for the embedded issuer: role specs given on the command line, and
tokens minted for them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.auth.issuer import BuiltinIssuer
from api.settings import Settings
from catalog import audit, service
from catalog.errors import AtriumError
from catalog.models import RoleName
from catalog.principals import SYSTEM

ROLE_ALIASES = {
    "auditor": RoleName.FUNDER_AUDITOR,
    "chair": RoleName.COMMITTEE_CHAIR,
    "member": RoleName.COMMITTEE_MEMBER,
}


def parse_role(spec: str) -> tuple[RoleName, str | None]:
    """``admin``, ``steward:ORG``, ``funder_auditor:ORG``, ``committee_chair:DAC`` ..."""
    name, _, scope = spec.partition(":")
    try:
        role = ROLE_ALIASES.get(name) or RoleName(name)
    except ValueError:
        known = ", ".join([r.value for r in RoleName] + list(ROLE_ALIASES))
        raise ValueError(f"unknown role {name!r}; use one of {known}") from None
    return role, scope or None


def assign_cli_roles(
    engine: Engine, settings: Settings, *, subject: str, roles: Sequence[str]
) -> None:
    parsed = [parse_role(r) for r in roles]
    with Session(engine) as session:
        with session.begin():
            service.ensure_user(session, issuer=settings.issuer_url, subject=subject)
            for role, scope in parsed:
                try:
                    service.assign_role(
                        session,
                        SYSTEM,
                        issuer=settings.issuer_url,
                        subject=subject,
                        role=role,
                        scope=scope,
                    )
                except AtriumError as exc:
                    raise ValueError(f"{role.value}:{scope or ''}: {exc.message}") from exc
        audit.seal_appended(session, wait=True)


def mint_token(settings: Settings, *, subject: str, ttl_seconds: int = 3600) -> str:
    issuer = BuiltinIssuer.from_data_dir(
        settings.data_dir, issuer=settings.issuer_url, audience=settings.token_audience
    )
    return issuer.mint(subject, ttl_seconds=ttl_seconds)
