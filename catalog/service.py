"""Catalog commands. Each takes the session first and keyword-only arguments, checks its policy,
writes, appends its audit event and flushes; the caller owns the transaction and commits once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from catalog import audit, policies, repository
from catalog.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from catalog.models import (
    AccessLevel,
    BundleMember,
    Committee,
    Dataset,
    DatasetDataUse,
    DatasetFunder,
    DatasetStatus,
    DatasetTerm,
    DatasetVersion,
    DrsAlias,
    DrsObject,
    OntologyTerm,
    Organization,
    OrganizationKind,
    Publication,
    RoleAssignment,
    RoleName,
    TermRole,
    User,
)
from catalog.principals import Principal, Role
from catalog.schemas import (
    PERMISSION_CODES,
    BundleCreate,
    CommitteeCreate,
    DatasetCreate,
    DatasetUpdate,
    DataUseInput,
    FileCreate,
    FunderInput,
    OrganizationCreate,
    PublicationInput,
)


def create_organization(
    session: Session, principal: Principal, *, data: OrganizationCreate
) -> Organization:
    if not policies.can_manage_organizations(principal):
        raise Forbidden("only administrators create organizations")
    if repository.organizations_by_slugs(session, [data.slug]):
        raise Conflict(f"organization {data.slug!r} already exists", field="slug")
    org = Organization(slug=data.slug, name=data.name, kind=data.kind, ror_id=data.ror_id)
    session.add(org)
    session.flush()
    audit.record(
        session,
        principal,
        "organization.created",
        object_type="organization",
        object_id=org.slug,
        summary=data.model_dump(mode="json"),
    )
    return org


def create_committee(session: Session, principal: Principal, *, data: CommitteeCreate) -> Committee:
    org = _organization(session, data.organization, field="organization")
    if not policies.stewards(principal, org.id):
        raise Forbidden(f"you do not steward {org.slug!r}")
    if repository.committee_by_slug(session, data.slug):
        raise Conflict(f"committee {data.slug!r} already exists", field="slug")
    committee = Committee(organization_id=org.id, slug=data.slug, name=data.name)
    session.add(committee)
    session.flush()
    audit.record(
        session,
        principal,
        "committee.created",
        object_type="committee",
        object_id=committee.slug,
        summary=data.model_dump(mode="json"),
    )
    return committee


def ensure_user(session: Session, *, issuer: str, subject: str, name: str | None = None) -> User:
    """The user row for an identity, created on first sight (no audit: nothing is granted)."""
    user = repository.user_by_identity(session, issuer, subject)
    if user is None:
        user = User(issuer=issuer, subject=subject, name=name)
        session.add(user)
        session.flush()
    return user


def principal_for(connection: Connection, *, issuer: str, subject: str) -> Principal:
    """The principal of a verified identity, with its roles, in one query."""
    return principal_with_roles(issuer, subject, repository.user_roles(connection, issuer, subject))


def principal_with_roles(issuer: str, subject: str, found: repository.Roles | None) -> Principal:
    if found is None:
        return Principal(issuer=issuer, subject=subject)
    user_id, assignments = found
    roles = frozenset(Role(RoleName(role), org, committee) for role, org, committee in assignments)
    return Principal(issuer=issuer, subject=subject, user_id=user_id, roles=roles)


def assign_role(
    session: Session,
    principal: Principal,
    *,
    issuer: str,
    subject: str,
    role: RoleName,
    scope: str | None,
) -> RoleAssignment:
    """Give ``subject`` a role; ``scope`` is an organization slug (steward, funder auditor) or a
    committee slug (member, chair) and must be absent for admin."""
    if not policies.can_assign_roles(principal):
        raise Forbidden("only administrators assign roles")
    organization_id = committee_id = None
    if role is RoleName.ADMIN:
        if scope:
            raise Invalid("the admin role has no scope", field="scope")
    elif role in (RoleName.STEWARD, RoleName.FUNDER_AUDITOR):
        org = _organization(session, scope or "", field="scope")
        wanted = OrganizationKind.FUNDER if role is RoleName.FUNDER_AUDITOR else None
        if wanted and org.kind is not wanted:
            raise Invalid(f"{org.slug!r} is not a funder", field="scope")
        organization_id = org.id
    else:
        committee = repository.committee_by_slug(session, scope or "")
        if committee is None:
            raise NotFound(f"no committee {scope!r}", field="scope")
        committee_id = committee.id
    user = ensure_user(session, issuer=issuer, subject=subject)
    existing = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role,
            RoleAssignment.organization_id.is_not_distinct_from(organization_id),
            RoleAssignment.committee_id.is_not_distinct_from(committee_id),
        )
    ).one_or_none()
    if existing is not None:
        return existing
    assignment = RoleAssignment(
        user_id=user.id, role=role, organization_id=organization_id, committee_id=committee_id
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        principal,
        "role.assigned",
        object_type="user",
        object_id=f"{subject}@{issuer}",
        summary={"role": role.value, "scope": scope},
    )
    return assignment


def create_dataset(session: Session, principal: Principal, *, data: DatasetCreate) -> Dataset:
    steward = _organization(session, data.steward, field="steward")
    if not policies.can_create_dataset(principal, steward.id):
        raise Forbidden(f"you do not steward {steward.slug!r}")
    if steward.kind is OrganizationKind.FUNDER:
        raise Invalid(f"{steward.slug!r} is a funder, not a data steward", field="steward")
    if data.accession and repository.dataset_for_update(session, data.accession):
        raise Conflict(f"{data.accession} already exists", field="accession")
    dataset = Dataset(
        title=data.title,
        description=data.description,
        keywords=data.keywords,
        data_types=data.data_types,
        file_formats=data.file_formats,
        species=data.species,
        participant_count=data.participant_count,
        sample_count=data.sample_count,
        access_level=data.access_level,
        steward_id=steward.id,
        committee_id=_committee_id(session, data.committee),
        license=data.license,
    )
    if data.accession:
        dataset.accession = data.accession
    session.add(dataset)
    session.flush()
    _replace_terms(session, dataset, diseases=data.diseases, phenotypes=data.phenotypes)
    _replace_data_use(session, dataset, data.data_use)
    _replace_funders(session, dataset, data.funders)
    _replace_publications(session, dataset, data.publications)
    session.flush()
    session.refresh(dataset)
    audit.record(
        session,
        principal,
        "dataset.created",
        object_type="dataset",
        object_id=dataset.accession,
        summary={"title": dataset.title},
    )
    return dataset


def update_dataset(
    session: Session,
    principal: Principal,
    *,
    accession: str,
    data: DatasetUpdate,
    audit_context: Mapping[str, str] | None = None,
) -> Dataset:
    """``audit_context`` adds keys to the audit summary, such as the ingest that made the change."""
    dataset = _dataset_for_command(session, principal, accession)
    if dataset.status is DatasetStatus.RETIRED:
        raise InvalidTransition(f"{accession} is retired; its metadata is frozen")
    if not policies.can_update_dataset(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    changes = data.model_dump(exclude_unset=True)
    scalar_fields = (
        "title",
        "description",
        "keywords",
        "data_types",
        "file_formats",
        "species",
        "participant_count",
        "sample_count",
        "access_level",
        "license",
    )
    for name in scalar_fields:
        if name in changes:
            setattr(dataset, name, getattr(data, name))
    if "committee" in changes:
        dataset.committee_id = _committee_id(session, data.committee)
    if "diseases" in changes or "phenotypes" in changes:
        current = repository.terms_of_datasets(session, [dataset.id]).get(dataset.id, [])
        diseases = data.diseases if "diseases" in changes else _curies(current, TermRole.DISEASE)
        phenotypes = (
            data.phenotypes if "phenotypes" in changes else _curies(current, TermRole.PHENOTYPE)
        )
        _replace_terms(session, dataset, diseases=diseases or [], phenotypes=phenotypes or [])
    if "data_use" in changes:
        _replace_data_use(session, dataset, data.data_use)
    if "funders" in changes:
        _replace_funders(session, dataset, data.funders or [])
    if "publications" in changes:
        _replace_publications(session, dataset, data.publications or [])
    dataset.updated_at = func.now()
    session.flush()
    session.refresh(dataset)
    audit.record(
        session,
        principal,
        "dataset.updated",
        object_type="dataset",
        object_id=accession,
        summary={"fields": sorted(changes), **(audit_context or {})},
    )
    return dataset


def publish_dataset(
    session: Session,
    principal: Principal,
    *,
    accession: str,
    audit_context: Mapping[str, str] | None = None,
) -> Dataset:
    """Publish a draft, or publish the current metadata of a published dataset as a new
    version. Each publication is frozen as a snapshot in the version history; ``audit_context``
    adds keys to the audit summary."""
    dataset = _dataset_for_command(session, principal, accession)
    if not policies.can_publish_dataset(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    if dataset.status is DatasetStatus.RETIRED:
        raise InvalidTransition(f"{accession} is retired and cannot be published again")
    if dataset.access_level is AccessLevel.CONTROLLED and dataset.committee_id is None:
        raise Invalid("controlled datasets need a governing committee", field="committee")
    current = snapshot(session, dataset)
    if dataset.status is DatasetStatus.PUBLISHED:
        latest = session.get(DatasetVersion, (dataset.id, dataset.version))
        if latest is not None and latest.snapshot == current:
            raise InvalidTransition(f"{accession} has no changes since version {dataset.version}")
    dataset.version += 1
    dataset.status = DatasetStatus.PUBLISHED
    dataset.published_at = func.now()
    dataset.updated_at = func.now()
    session.add(
        DatasetVersion(
            dataset_id=dataset.id,
            version=dataset.version,
            published_by=principal.actor,
            snapshot=current,
        )
    )
    session.flush()
    session.refresh(dataset)
    audit.record(
        session,
        principal,
        "dataset.published",
        object_type="dataset",
        object_id=accession,
        summary={"version": dataset.version, **(audit_context or {})},
    )
    return dataset


def retire_dataset(
    session: Session, principal: Principal, *, accession: str, reason: str
) -> Dataset:
    dataset = _dataset_for_command(session, principal, accession)
    if not policies.can_retire_dataset(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    if dataset.status is not DatasetStatus.PUBLISHED:
        raise InvalidTransition(
            f"only published datasets can be retired; {accession} is {dataset.status.value}"
        )
    reason = reason.strip()
    if not reason:
        raise Invalid("a retirement needs a reason", field="reason")
    dataset.status = DatasetStatus.RETIRED
    dataset.retired_at = func.now()
    dataset.retired_reason = reason
    dataset.updated_at = func.now()
    session.flush()
    session.refresh(dataset)
    audit.record(
        session,
        principal,
        "dataset.retired",
        object_type="dataset",
        object_id=accession,
        summary={"reason": reason},
    )
    return dataset


def register_files(
    session: Session, principal: Principal, *, accession: str, files: Sequence[FileCreate]
) -> list[str]:
    """Register many files in one statement per table; all or nothing."""
    dataset = _dataset_for_command(session, principal, accession)
    if not policies.can_register_files(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    if dataset.status is DatasetStatus.RETIRED:
        raise InvalidTransition(f"{accession} is retired; no files can be added")
    ids = [f.id or str(uuid.uuid4()) for f in files]
    _check_new_keys(session, ids, [list(f.aliases) for f in files], path="files")
    objects, aliases = [], []
    for object_id, f in zip(ids, files, strict=True):
        row: dict[str, Any] = {
            "id": object_id,
            "dataset_id": dataset.id,
            "name": f.name,
            "size": f.size,
            "mime_type": f.mime_type,
            "version": f.version,
            "description": f.description,
            "checksums": f.checksum_values(),
            "access_methods": f.access_method_rows(),
        }
        if f.created_time:
            row["created_time"] = f.created_time
        objects.append(row)
        aliases += [{"alias": a, "object_id": object_id} for a in f.aliases]
    session.execute(insert(DrsObject), _with_default_times(objects))
    if aliases:
        session.execute(insert(DrsAlias), aliases)
    dataset.updated_at = func.now()
    session.flush()
    audit.record(
        session,
        principal,
        "files.registered",
        object_type="dataset",
        object_id=accession,
        summary={"count": len(ids), "bytes": sum(f.size for f in files), "first": ids[:5]},
    )
    return ids


def create_bundle(
    session: Session, principal: Principal, *, accession: str, data: BundleCreate
) -> DrsObject:
    """A bundle's size is the total of its members; its checksum hashes the members' sorted
    checksums of one shared type, as DRS defines for bundles."""
    dataset = _dataset_for_command(session, principal, accession)
    if not policies.can_register_files(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    if dataset.status is DatasetStatus.RETIRED:
        raise InvalidTransition(f"{accession} is retired; no bundles can be added")
    bundle_id = data.id or str(uuid.uuid4())
    _check_new_keys(session, [bundle_id], [[]], path="bundle")
    member_ids = [m.object_id for m in data.members]
    members = repository.objects_by_ids(session, member_ids)
    for i, m in enumerate(data.members):
        found = members.get(m.object_id)
        if found is None or found.dataset_id != dataset.id:
            raise NotFound(
                f"{m.object_id!r} is not an object of {accession}",
                field=f"members[{i}].object_id",
            )
    checksum_type, checksum = bundle_checksum([members[i].checksums for i in member_ids])
    bundle = DrsObject(
        id=bundle_id,
        dataset_id=dataset.id,
        name=data.name,
        description=data.description,
        size=sum(o.size for o in members.values()),
        is_bundle=True,
        checksums={checksum_type: checksum},
    )
    session.add(bundle)
    session.flush()
    session.execute(
        insert(BundleMember),
        [{"bundle_id": bundle_id, "name": m.name, "child_id": m.object_id} for m in data.members],
    )
    dataset.updated_at = func.now()
    session.flush()
    audit.record(
        session,
        principal,
        "bundle.created",
        object_type="drs_object",
        object_id=bundle_id,
        summary={"dataset": accession, "members": len(member_ids)},
    )
    return bundle


def snapshot(session: Session, dataset: Dataset) -> dict[str, Any]:
    """The dataset's published metadata as plain JSON, for version history and comparison."""
    return snapshots(session, [dataset])[dataset.id]


def snapshots(session: Session, datasets: Sequence[Dataset]) -> dict[uuid.UUID, dict[str, Any]]:
    """``snapshot`` of many datasets in a fixed number of queries (bulk ingest publishes
    thousands at once)."""
    links = repository.links_of_datasets(session, [d.id for d in datasets])
    committees = repository.committees_by_ids(
        session, {d.committee_id for d in datasets if d.committee_id}
    )
    stewards = repository.organizations_by_ids(session, {d.steward_id for d in datasets})
    return {
        d.id: {
            "accession": d.accession,
            "title": d.title,
            "description": d.description,
            "keywords": list(d.keywords),
            "diseases": _role_curies(links.terms.get(d.id, []), TermRole.DISEASE),
            "phenotypes": _role_curies(links.terms.get(d.id, []), TermRole.PHENOTYPE),
            "data_types": list(d.data_types),
            "file_formats": list(d.file_formats),
            "species": list(d.species),
            "participant_count": d.participant_count,
            "sample_count": d.sample_count,
            "data_use": sorted(
                [code, qualifier] for code, qualifier in links.data_use.get(d.id, [])
            ),
            "access_level": d.access_level.value,
            "steward": stewards[d.steward_id].slug,
            "committee": committees[d.committee_id].slug if d.committee_id else None,
            "funders": sorted([slug, award or ""] for slug, award in links.funders.get(d.id, [])),
            "license": d.license,
            "publications": sorted(
                f"{scheme}:{identifier}" for scheme, identifier in links.publications.get(d.id, [])
            ),
        }
        for d in datasets
    }


def _dataset_for_command(session: Session, principal: Principal, accession: str) -> Dataset:
    dataset = repository.dataset_for_update(session, accession)
    if dataset is None or not policies.can_read_dataset(principal, dataset):
        raise NotFound(f"no dataset {accession}", field="accession")
    return dataset


def _organization(session: Session, slug: str, *, field: str) -> Organization:
    org = repository.organizations_by_slugs(session, [slug]).get(slug)
    if org is None:
        raise NotFound(f"no organization {slug!r}", field=field)
    return org


def _committee_id(session: Session, slug: str | None) -> uuid.UUID | None:
    if slug is None:
        return None
    committee = repository.committee_by_slug(session, slug)
    if committee is None:
        raise NotFound(f"no committee {slug!r}", field="committee")
    return committee.id


def _curies(rows: list[tuple[DatasetTerm, OntologyTerm]], role: TermRole) -> list[str]:
    return [link.curie for link, _ in rows if link.role is role]


def _role_curies(terms: list[tuple[TermRole, str]], role: TermRole) -> list[str]:
    return [curie for term_role, curie in terms if term_role is role]


def _require_terms(session: Session, curies: Sequence[str], *, field: str, ontology: str) -> None:
    known = repository.terms_by_curies(session, curies)
    for i, curie in enumerate(curies):
        term = known.get(curie)
        if term is None or term.ontology != ontology:
            raise Invalid(f"{curie} is not a known {ontology} term", field=f"{field}[{i}]")


def _replace_terms(
    session: Session, dataset: Dataset, *, diseases: Sequence[str], phenotypes: Sequence[str]
) -> None:
    _require_terms(session, diseases, field="diseases", ontology="MONDO")
    _require_terms(session, phenotypes, field="phenotypes", ontology="HP")
    session.execute(delete(DatasetTerm).where(DatasetTerm.dataset_id == dataset.id))
    rows = [
        {"dataset_id": dataset.id, "role": TermRole.DISEASE, "curie": c}
        for c in dict.fromkeys(diseases)
    ]
    rows += [
        {"dataset_id": dataset.id, "role": TermRole.PHENOTYPE, "curie": c}
        for c in dict.fromkeys(phenotypes)
    ]
    if rows:
        session.execute(insert(DatasetTerm), rows)


def _replace_data_use(session: Session, dataset: Dataset, data_use: DataUseInput | None) -> None:
    session.execute(delete(DatasetDataUse).where(DatasetDataUse.dataset_id == dataset.id))
    if data_use is None:
        return
    by_code = dict(
        session.execute(
            select(OntologyTerm.code, OntologyTerm.curie).where(
                OntologyTerm.ontology == "DUO", OntologyTerm.code.is_not(None)
            )
        ).all()
    )
    _require_terms(session, data_use.diseases, field="data_use.diseases", ontology="MONDO")
    rows: list[dict[str, Any]] = []
    permission = by_code[data_use.permission]
    if data_use.diseases:
        rows += [
            {"dataset_id": dataset.id, "duo_id": permission, "qualifier": d}
            for d in dict.fromkeys(data_use.diseases)
        ]
    else:
        rows.append({"dataset_id": dataset.id, "duo_id": permission, "qualifier": None})
    for i, code in enumerate(dict.fromkeys(data_use.modifiers)):
        curie = by_code.get(code)
        if curie is None or code in PERMISSION_CODES:
            raise Invalid(
                f"{code} is not a DUO data use modifier", field=f"data_use.modifiers[{i}]"
            )
        rows.append({"dataset_id": dataset.id, "duo_id": curie, "qualifier": None})
    session.execute(insert(DatasetDataUse), rows)


def _replace_funders(session: Session, dataset: Dataset, funders: Sequence[FunderInput]) -> None:
    orgs = repository.organizations_by_slugs(session, [f.funder for f in funders])
    for i, f in enumerate(funders):
        org = orgs.get(f.funder)
        if org is None or org.kind is not OrganizationKind.FUNDER:
            raise Invalid(
                f"{f.funder!r} is not a funder organization", field=f"funders[{i}].funder"
            )
    session.execute(delete(DatasetFunder).where(DatasetFunder.dataset_id == dataset.id))
    unique = dict.fromkeys((orgs[f.funder].id, f.award_number) for f in funders)
    if unique:
        session.execute(
            insert(DatasetFunder),
            [
                {"dataset_id": dataset.id, "funder_id": fid, "award_number": award}
                for fid, award in unique
            ],
        )


def _replace_publications(
    session: Session, dataset: Dataset, publications: Sequence[PublicationInput]
) -> None:
    session.execute(delete(Publication).where(Publication.dataset_id == dataset.id))
    unique = dict.fromkeys((p.scheme, p.identifier) for p in publications)
    if unique:
        session.execute(
            insert(Publication),
            [{"dataset_id": dataset.id, "scheme": s, "identifier": i} for s, i in unique],
        )


def _check_new_keys(
    session: Session, ids: Sequence[str], aliases: Sequence[Sequence[str]], *, path: str
) -> None:
    """Ids and aliases share one namespace (both resolve through DRS), so each must be new."""
    seen: dict[str, str] = {}
    for i, (object_id, names) in enumerate(zip(ids, aliases, strict=True)):
        where = f"{path}[{i}]" if path == "files" else path
        for key, field in [(object_id, f"{where}.id"), *((a, f"{where}.aliases") for a in names)]:
            if key in seen:
                raise Invalid(f"{key!r} appears twice in this request", field=field)
            seen[key] = field
    taken = repository.existing_object_ids(session, list(seen))
    for key, field in seen.items():
        if key in taken:
            raise Conflict(f"{key!r} is already a DRS id or alias", field=field)


def _with_default_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One executemany needs one column set: give rows without a creation time the clock's."""
    now = datetime.now(UTC)
    if any("created_time" in r for r in rows):
        for r in rows:
            r.setdefault("created_time", now)
    return rows


def bundle_checksum(member_sums: list[dict[str, str]]) -> tuple[str, str]:
    """The checksum DRS gives a bundle: its members' checksums of one shared type, sorted,
    concatenated and hashed; ``member_sums`` maps each member's checksum types to values."""
    for kind, algorithm in (("sha-256", hashlib.sha256), ("md5", hashlib.md5)):
        if all(kind in sums for sums in member_sums):
            joined = "".join(sorted(sums[kind] for sums in member_sums))
            return kind, algorithm(joined.encode()).hexdigest()
    raise Invalid("bundle members need a shared checksum type (sha-256 or md5)", field="members")
