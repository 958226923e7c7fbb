"""Builders of catalog rows for tests. They go through the real services, so a factory-built
row obeys the same rules as one created through the API."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.auth.issuer import BuiltinIssuer
from catalog import service
from catalog.models import Committee, Dataset, Organization, OrganizationKind, RoleName
from catalog.principals import SYSTEM, Principal
from catalog.schemas import CommitteeCreate, DatasetCreate, FileCreate, OrganizationCreate
from governance import service as governance_service
from governance.models import AccessGrant
from governance.schemas import AccessRequestInput

_counter = itertools.count(1)


class Factory:
    def __init__(self, session: Session, *, issuer: BuiltinIssuer) -> None:
        self.session = session
        self.issuer = issuer

    def organization(self, kind: str = "steward", **fields: Any) -> Organization:
        n = next(_counter)
        data = {"slug": f"{kind}-{n}", "name": f"{kind.title()} {n}", "kind": kind, **fields}
        org = service.create_organization(
            self.session, SYSTEM, data=OrganizationCreate.model_validate(data)
        )
        self.session.flush()
        return org

    def committee(self, organization: Organization) -> Committee:
        n = next(_counter)
        data = CommitteeCreate(organization=organization.slug, slug=f"dac-{n}", name=f"DAC {n}")
        return service.create_committee(self.session, SYSTEM, data=data)

    def dataset(
        self,
        steward: Organization | None = None,
        *,
        publish: bool = False,
        files: int = 0,
        **fields: Any,
    ) -> Dataset:
        steward = steward or self.organization()
        data = {
            "title": f"Dataset {next(_counter)}",
            "access_level": "open",
            "steward": steward.slug,
            **fields,
        }
        if data["access_level"] == "controlled" and "committee" not in data:
            data["committee"] = self.committee(steward).slug
        dataset = service.create_dataset(
            self.session, SYSTEM, data=DatasetCreate.model_validate(data)
        )
        if files:
            self.files(dataset, files)
        if publish:
            dataset = service.publish_dataset(self.session, SYSTEM, accession=dataset.accession)
        return dataset

    def files(self, dataset: Dataset, count: int, *, prefix: str | None = None) -> list[str]:
        prefix = prefix or f"obj{next(_counter)}"
        files = [
            FileCreate.model_validate(
                {
                    "id": f"{prefix}-{i:05d}",
                    "name": f"sample{i}.cram",
                    "size": 1000 + i,
                    "checksums": [
                        {
                            "type": "sha-256",
                            "checksum": hashlib.sha256(f"{prefix}{i}".encode()).hexdigest(),
                        },
                        {
                            "type": "md5",
                            "checksum": hashlib.md5(
                                f"{prefix}{i}".encode(), usedforsecurity=False
                            ).hexdigest(),
                        },
                    ],
                    "access_methods": [{"type": "s3", "url": f"s3://bucket/{prefix}/{i}.cram"}],
                }
            )
            for i in range(count)
        ]
        return service.register_files(
            self.session, SYSTEM, accession=dataset.accession, files=files
        )

    def grant(
        self, subject: str, dataset: Dataset, *, expires_at: datetime | None = None
    ) -> AccessGrant:
        """An active grant of ``dataset`` to ``subject`` of the built-in issuer."""
        return governance_service.grant_access(
            self.session,
            SYSTEM,
            issuer=self.issuer.issuer,
            subject=subject,
            accession=dataset.accession,
            expires_at=expires_at or datetime.now(UTC) + timedelta(days=30),
        )

    def token(self, subject: str, *roles: tuple[RoleName, str | None]) -> str:
        """A bearer token for ``subject`` holding ``roles`` (role, scope slug) in Postgres."""
        service.ensure_user(self.session, issuer=self.issuer.issuer, subject=subject)
        for role, scope in roles:
            service.assign_role(
                self.session,
                SYSTEM,
                issuer=self.issuer.issuer,
                subject=subject,
                role=role,
                scope=scope,
            )
        self.session.flush()
        return self.issuer.mint(subject)

    def headers(self, subject: str, *roles: tuple[RoleName, str | None]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, *roles)}"}

    def principal(self, subject: str, *roles: tuple[RoleName, str | None]) -> Principal:
        """The principal ``subject`` would have after signing in, holding ``roles``."""
        self.token(subject, *roles)
        return service.principal_for(
            self.session.connection(), issuer=self.issuer.issuer, subject=subject
        )


def request_input(*datasets: Dataset, **fields: Any) -> AccessRequestInput:
    """A complete access request for ``datasets``; ``fields`` override any part of it."""
    data: dict[str, Any] = {
        "project_title": "Rare variants in paediatric cardiomyopathy",
        "lay_summary": "We look for genetic causes of heart muscle disease in children.",
        "research_use": "Joint calling and burden tests on exomes.",
        "purposes": ["HMB"],
        "duration_days": 180,
        "collaborators": ["Dr. Ada Byron"],
        "institution": "Northbridge University",
        "datasets": [{"accession": d.accession} for d in datasets],
        **fields,
    }
    return AccessRequestInput.model_validate(data)


def funder(factory: Factory) -> Organization:
    return factory.organization(OrganizationKind.FUNDER.value)
