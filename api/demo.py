"""Loading the demo catalog and introducing its users: organizations and committees through the
services, datasets and files through the ordinary ingest path, one demo user per role."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.identity import assign_cli_roles, mint_token
from api.settings import Settings
from catalog import audit, demo, repository, service
from catalog.ingest.runner import IngestReport, ingest_records
from catalog.models import DatasetStatus
from catalog.principals import SYSTEM
from catalog.schemas import CommitteeCreate, OrganizationCreate

RETIRED_EVERY = 50  # one demo dataset in fifty is retired, to show tombstones

DEMO_USERS = [
    ("ada", "admin", ["admin"]),
    ("sam", "steward", ["steward:northbridge-genomics"]),
    ("carla", "committee chair", ["committee_chair:northbridge-genomics-dac"]),
    ("mo", "committee member", ["committee_member:northbridge-genomics-dac"]),
    ("fiona", "funder auditor", ["funder_auditor:national-genome-fund"]),
    ("rita", "researcher", []),
]


def load_demo(
    engine: Engine,
    settings: Settings,
    *,
    datasets: int,
    files_per_dataset: int,
    seed: int,
    console: Console | None,
) -> IngestReport:
    """Create (or confirm) the demo catalog; loading the same sizes and seed again is a no-op."""
    with Session(engine) as session:
        with session.begin():
            ensure_organizations(session)
            report = ingest_records(
                session,
                demo.records(datasets=datasets, files_per_dataset=files_per_dataset, seed=seed),
                source="demo",
                console=console,
            )
            _retire_some(session, datasets)
        audit.seal_appended(session, wait=True)
    written = _write_local_files(
        settings, datasets=datasets, files_per_dataset=files_per_dataset, seed=seed
    )
    for subject, _, roles in DEMO_USERS:
        assign_cli_roles(engine, settings, subject=subject, roles=roles)
    if console is not None:
        console.print(report.summary())
        console.print(f"{written} local demo files written under {settings.local_storage_root}")
    return report


def _write_local_files(
    settings: Settings, *, datasets: int, files_per_dataset: int, seed: int
) -> int:
    """The bytes behind the demo's local objects, so DRS downloads verify end to end."""
    root = settings.local_storage_root
    written = 0
    for key, content in demo.local_files(
        datasets=datasets, files_per_dataset=files_per_dataset, seed=seed
    ):
        path = root / key
        if path.is_file() and path.stat().st_size == len(content):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written += 1
    return written


def print_demo_users(settings: Settings, *, console: Console) -> None:
    table = Table(title="Demo users (tokens valid for 12 hours)")
    table.add_column("user")
    table.add_column("role")
    table.add_column("token", overflow="fold")
    exports = []
    for subject, label, _ in DEMO_USERS:
        token = mint_token(settings, subject=subject, ttl_seconds=12 * 3600)
        table.add_row(subject, label, token)
        exports.append(f"export {label.upper().replace(' ', '_')}_TOKEN={token}")
    console.print(table)
    console.print("Shell variables for the README's curl examples:", style="bold")
    for line in exports:
        console.print(line, soft_wrap=True, highlight=False)


def ensure_organizations(session: Session) -> None:
    """The demo catalog's organizations and committees, those not there yet."""
    wanted = demo.organizations()
    existing = repository.organizations_by_slugs(session, [o.slug for o in wanted])
    for org in wanted:
        if org.slug not in existing:
            service.create_organization(
                session,
                SYSTEM,
                data=OrganizationCreate(slug=org.slug, name=org.name, kind=org.kind),
            )
    for committee in demo.committees():
        if repository.committee_by_slug(session, committee.slug) is None:
            service.create_committee(
                session,
                SYSTEM,
                data=CommitteeCreate(
                    organization=committee.organization,
                    slug=committee.slug,
                    name=committee.name,
                ),
            )


def _retire_some(session: Session, datasets: int) -> None:
    for n in range(7, datasets + 1, RETIRED_EVERY):
        dataset = repository.dataset_for_update(session, demo.accession(n))
        if dataset is not None and dataset.status is DatasetStatus.PUBLISHED:
            service.retire_dataset(
                session,
                SYSTEM,
                accession=dataset.accession,
                reason="Superseded by a re-processed release (demo tombstone).",
            )
