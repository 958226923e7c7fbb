"""Every catalog query. Reads of datasets start from ``readable_datasets(principal)`` so that a
caller can never see a row the policies would hide; the batch functions serve dataloaders and
return rows for many keys in one statement."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Select,
    Text,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from catalog.models import (
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
    OntologyTermParent,
    Organization,
    Publication,
    RoleAssignment,
    RoleName,
    TermRole,
    User,
)
from catalog.prepared import PreparedQuery
from catalog.principals import Principal


def readable_datasets(principal: Principal) -> Select[Dataset]:
    """Datasets the principal may see: published and retired ones, plus drafts it stewards."""
    if principal.is_admin:
        return select(Dataset)
    stewarded = principal.organizations_with(RoleName.STEWARD)
    draft_clause = Dataset.steward_id.in_(stewarded) if stewarded else false()
    return select(Dataset).where(or_(Dataset.status != DatasetStatus.DRAFT, draft_clause))


def dataset_by_accession(session: Session, principal: Principal, accession: str) -> Dataset | None:
    stmt = readable_datasets(principal).where(Dataset.accession == accession)
    return session.scalars(stmt).one_or_none()


def dataset_by_id(session: Session, principal: Principal, dataset_id: uuid.UUID) -> Dataset | None:
    stmt = readable_datasets(principal).where(Dataset.id == dataset_id)
    return session.scalars(stmt).one_or_none()


def dataset_for_update(session: Session, accession: str) -> Dataset | None:
    """The dataset row locked for a command; policies decide afterwards who may change it."""
    stmt = select(Dataset).where(Dataset.accession == accession).with_for_update()
    return session.scalars(stmt).one_or_none()


@dataclass(frozen=True)
class DatasetFilter:
    statuses: tuple[DatasetStatus, ...] = ()
    access_levels: tuple[str, ...] = ()
    steward: str | None = None
    funder: str | None = None
    disease: str | None = None
    data_type: str | None = None
    file_format: str | None = None
    text: str | None = None


SORT_COLUMNS: dict[str, Any] = {
    "ACCESSION": Dataset.accession,
    "TITLE": Dataset.title,
    "UPDATED_AT": Dataset.updated_at,
    "PARTICIPANTS": func.coalesce(Dataset.participant_count, -1),
}


def filtered_datasets(principal: Principal, flt: DatasetFilter) -> Select[Dataset]:
    stmt = readable_datasets(principal)
    if flt.statuses:
        stmt = stmt.where(Dataset.status.in_(flt.statuses))
    if flt.access_levels:
        stmt = stmt.where(Dataset.access_level.in_(flt.access_levels))
    if flt.steward:
        stmt = stmt.join(Organization, Organization.id == Dataset.steward_id).where(
            Organization.slug == flt.steward
        )
    if flt.funder:
        funded = (
            select(DatasetFunder.dataset_id)
            .join(Organization, Organization.id == DatasetFunder.funder_id)
            .where(Organization.slug == flt.funder)
        )
        stmt = stmt.where(Dataset.id.in_(funded))
    if flt.disease:
        terms = descendants_statement(flt.disease)
        stmt = stmt.where(
            Dataset.id.in_(select(DatasetTerm.dataset_id).where(DatasetTerm.curie.in_(terms)))
        )
    if flt.data_type:
        stmt = stmt.where(Dataset.data_types.any_() == flt.data_type)
    if flt.file_format:
        stmt = stmt.where(Dataset.file_formats.any_() == flt.file_format)
    if flt.text:
        pattern = "%" + flt.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Dataset.title.ilike(pattern), Dataset.accession == flt.text))
    return stmt


def count(session: Session, stmt: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


FACT_COLUMNS = (
    Dataset.id,
    Dataset.accession,
    Dataset.access_level,
    Dataset.status,
    Dataset.steward_id,
    Dataset.committee_id,
    Dataset.title,
    Dataset.updated_at,
    Dataset.participant_count,
)
"""What access decisions and page cursors read of a dataset."""


def page_of_datasets(
    session: Session,
    stmt: Select[Dataset],
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, str] | None,
    limit: int,
    facts_only: bool = False,
) -> Sequence[Any]:
    """A keyset page ordered by (sort value, accession): stable however deep the page. The
    cursor is a row comparison, which the sort's (value, accession) index bounds directly.
    Datasets, or with ``facts_only`` rows of ``FACT_COLUMNS``: a page whose JSON Postgres
    builds needs no more, and building 100 ORM entities cost a third of it."""
    column = SORT_COLUMNS[sort]
    if after is not None:
        value, accession = after
        key = tuple_(column, Dataset.accession)
        bound = tuple_(literal(value, column.type), literal(accession, Dataset.accession.type))
        stmt = stmt.where(key < bound if descending else key > bound)
    order = (column.desc(), Dataset.accession.desc()) if descending else (column, Dataset.accession)
    paged = stmt.order_by(*order).limit(limit)
    if facts_only:
        return session.execute(paged.with_only_columns(*FACT_COLUMNS)).all()
    return session.scalars(paged).all()


def sort_value(dataset: Dataset | Row[Any], sort: str) -> Any:
    if sort == "PARTICIPANTS":
        return dataset.participant_count if dataset.participant_count is not None else -1
    if sort == "UPDATED_AT":
        return dataset.updated_at.isoformat()
    return getattr(dataset, sort.lower())


def descendants_statement(curie: str) -> Select[str]:
    """The term and every term below it in its ontology (recursive over parents)."""
    tree = (
        select(OntologyTerm.curie.label("curie"))
        .where(OntologyTerm.curie == curie)
        .cte("tree", recursive=True)
    )
    tree = tree.union(
        select(OntologyTermParent.curie).join(tree, OntologyTermParent.parent_curie == tree.c.curie)
    )
    return select(tree.c.curie)


def organizations_by_ids(
    session: Session, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Organization]:
    rows = session.scalars(select(Organization).where(Organization.id.in_(list(ids))))
    return {o.id: o for o in rows}


def organizations_by_slugs(session: Session, slugs: Iterable[str]) -> dict[str, Organization]:
    rows = session.scalars(select(Organization).where(Organization.slug.in_(list(slugs))))
    return {o.slug: o for o in rows}


def committee_by_slug(session: Session, slug: str) -> Committee | None:
    return session.scalars(select(Committee).where(Committee.slug == slug)).one_or_none()


def committees_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Committee]:
    rows = session.scalars(select(Committee).where(Committee.id.in_(list(ids))))
    return {c.id: c for c in rows}


def terms_by_curies(session: Session, curies: Iterable[str]) -> dict[str, OntologyTerm]:
    rows = session.scalars(select(OntologyTerm).where(OntologyTerm.curie.in_(list(curies))))
    return {t.curie: t for t in rows}


def terms_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[DatasetTerm, OntologyTerm]]]:
    stmt = (
        select(DatasetTerm, OntologyTerm)
        .join(OntologyTerm, OntologyTerm.curie == DatasetTerm.curie)
        .where(DatasetTerm.dataset_id.in_(dataset_ids))
        .order_by(DatasetTerm.dataset_id, DatasetTerm.curie)
    )
    grouped: dict[uuid.UUID, list[tuple[DatasetTerm, OntologyTerm]]] = defaultdict(list)
    for link, term in session.execute(stmt):
        grouped[link.dataset_id].append((link, term))
    return grouped


def data_use_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[DatasetDataUse, OntologyTerm]]]:
    stmt = (
        select(DatasetDataUse, OntologyTerm)
        .join(OntologyTerm, OntologyTerm.curie == DatasetDataUse.duo_id)
        .where(DatasetDataUse.dataset_id.in_(dataset_ids))
        .order_by(DatasetDataUse.dataset_id, DatasetDataUse.id)
    )
    grouped: dict[uuid.UUID, list[tuple[DatasetDataUse, OntologyTerm]]] = defaultdict(list)
    for link, term in session.execute(stmt):
        grouped[link.dataset_id].append((link, term))
    return grouped


def funders_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[DatasetFunder, Organization]]]:
    stmt = (
        select(DatasetFunder, Organization)
        .join(Organization, Organization.id == DatasetFunder.funder_id)
        .where(DatasetFunder.dataset_id.in_(dataset_ids))
        .order_by(DatasetFunder.dataset_id, Organization.name, DatasetFunder.id)
    )
    grouped: dict[uuid.UUID, list[tuple[DatasetFunder, Organization]]] = defaultdict(list)
    for link, org in session.execute(stmt):
        grouped[link.dataset_id].append((link, org))
    return grouped


def publications_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Publication]]:
    stmt = select(Publication).where(Publication.dataset_id.in_(dataset_ids))
    grouped: dict[uuid.UUID, list[Publication]] = defaultdict(list)
    for pub in session.scalars(stmt):
        grouped[pub.dataset_id].append(pub)
    return grouped


@dataclass(frozen=True)
class DatasetLinks:
    """What datasets link to, as plain values by dataset id: terms as (role, CURIE) in CURIE
    order, data use as (DUO code, or the CURIE of a term without one, qualifier), funders as
    (slug, award number), publications as (scheme, identifier)."""

    terms: dict[uuid.UUID, list[tuple[TermRole, str]]]
    data_use: dict[uuid.UUID, list[tuple[str, str | None]]]
    funders: dict[uuid.UUID, list[tuple[str, str | None]]]
    publications: dict[uuid.UUID, list[tuple[str, str]]]


def links_of_datasets(session: Session, dataset_ids: Sequence[uuid.UUID]) -> DatasetLinks:
    """The links of many datasets as column values rather than entities: snapshots read them
    for thousands of datasets at once (a bulk ingest publishing them), where building entities
    costs more than the queries themselves."""
    terms = session.execute(
        select(DatasetTerm.dataset_id, DatasetTerm.role, DatasetTerm.curie)
        .join(OntologyTerm, OntologyTerm.curie == DatasetTerm.curie)
        .where(DatasetTerm.dataset_id.in_(dataset_ids))
        .order_by(DatasetTerm.dataset_id, DatasetTerm.curie)
    )
    uses = session.execute(
        select(
            DatasetDataUse.dataset_id,
            func.coalesce(func.nullif(OntologyTerm.code, ""), OntologyTerm.curie),
            DatasetDataUse.qualifier,
        )
        .join(OntologyTerm, OntologyTerm.curie == DatasetDataUse.duo_id)
        .where(DatasetDataUse.dataset_id.in_(dataset_ids))
    )
    funders = session.execute(
        select(DatasetFunder.dataset_id, Organization.slug, DatasetFunder.award_number)
        .join(Organization, Organization.id == DatasetFunder.funder_id)
        .where(DatasetFunder.dataset_id.in_(dataset_ids))
    )
    publications = session.execute(
        select(Publication.dataset_id, Publication.scheme, Publication.identifier).where(
            Publication.dataset_id.in_(dataset_ids)
        )
    )
    return DatasetLinks(
        terms=_by_dataset(terms),
        data_use=_by_dataset(uses),
        funders=_by_dataset(funders),
        publications=_by_dataset(publications),
    )


def _by_dataset(rows: Iterable[Any]) -> dict[uuid.UUID, list[Any]]:
    """(dataset id, *values) rows grouped as value tuples by dataset id, in row order."""
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for dataset_id, *values in rows:
        grouped[dataset_id].append(tuple(values))
    return grouped


def versions_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[DatasetVersion]]:
    stmt = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id.in_(dataset_ids))
        .order_by(DatasetVersion.dataset_id, DatasetVersion.version.desc())
    )
    grouped: dict[uuid.UUID, list[DatasetVersion]] = defaultdict(list)
    for version in session.scalars(stmt):
        grouped[version.dataset_id].append(version)
    return grouped


@dataclass(frozen=True)
class FileTotals:
    """Derived, never typed in: counted from the dataset's DRS objects."""

    files: int = 0
    bytes: int = 0
    objects: int = 0


def file_totals(session: Session, dataset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, FileTotals]:
    """Files and their bytes (bundles excluded), and all objects including bundles."""
    is_file = DrsObject.is_bundle.is_(false())
    stmt = (
        select(
            DrsObject.dataset_id,
            func.count().filter(is_file),
            func.coalesce(func.sum(DrsObject.size).filter(is_file), 0),
            func.count(),
        )
        .where(DrsObject.dataset_id.in_(dataset_ids))
        .group_by(DrsObject.dataset_id)
    )
    return {
        row[0]: FileTotals(int(row[1]), int(row[2]), int(row[3])) for row in session.execute(stmt)
    }


def first_files_of_datasets(
    session: Session, dataset_ids: Sequence[uuid.UUID], *, limit: int, after: str | None
) -> dict[uuid.UUID, list[DrsObject]]:
    """The first ``limit`` objects of each dataset by id, in one statement (a window)."""
    ranked = select(
        DrsObject.id.label("object_id"),
        func.row_number()
        .over(partition_by=DrsObject.dataset_id, order_by=DrsObject.id)
        .label("position"),
    ).where(DrsObject.dataset_id.in_(dataset_ids))
    if after is not None:
        ranked = ranked.where(DrsObject.id > after)
    window = ranked.subquery()
    stmt = (
        select(DrsObject)
        .join(window, window.c.object_id == DrsObject.id)
        .where(window.c.position <= limit)
        .order_by(DrsObject.dataset_id, DrsObject.id)
    )
    grouped: dict[uuid.UUID, list[DrsObject]] = defaultdict(list)
    for obj in session.scalars(stmt):
        grouped[obj.dataset_id].append(obj)
    return grouped


def objects_by_ids(session: Session, ids: Iterable[str]) -> dict[str, DrsObject]:
    rows = session.scalars(select(DrsObject).where(DrsObject.id.in_(list(ids))))
    return {o.id: o for o in rows}


def object_by_id_or_alias(session: Session, key: str) -> DrsObject | None:
    return objects_by_ids_or_aliases(session, [key]).get(key)


def objects_by_ids_or_aliases(session: Session, keys: Sequence[str]) -> dict[str, DrsObject]:
    """Objects by id or alias, keyed by the key asked for, in one statement."""
    if not keys:
        return {}
    direct = select(DrsObject.id.label("object_id"), DrsObject.id.label("key")).where(
        DrsObject.id.in_(keys)
    )
    aliased = select(DrsAlias.object_id, DrsAlias.alias).where(DrsAlias.alias.in_(keys))
    pairs = union_all(direct, aliased).subquery()
    stmt = select(pairs.c.key, DrsObject).join(DrsObject, DrsObject.id == pairs.c.object_id)
    return dict(session.execute(stmt).all())


def readable_datasets_by_ids(
    session: Session, principal: Principal, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Dataset]:
    """Those of the datasets the principal may see."""
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = readable_datasets(principal).where(Dataset.id.in_(wanted))
    return {d.id: d for d in session.scalars(stmt)}


def existing_object_ids(session: Session, ids: Sequence[str]) -> set[str]:
    taken = session.scalars(select(DrsObject.id).where(DrsObject.id.in_(ids)))
    aliased = session.scalars(select(DrsAlias.alias).where(DrsAlias.alias.in_(ids)))
    return set(taken) | set(aliased)


def existing_aliases(session: Session, aliases: Sequence[str]) -> set[str]:
    taken = session.scalars(select(DrsAlias.alias).where(DrsAlias.alias.in_(aliases)))
    as_ids = session.scalars(select(DrsObject.id).where(DrsObject.id.in_(aliases)))
    return set(taken) | set(as_ids)


def aliases_of_objects(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    stmt = select(DrsAlias).where(DrsAlias.object_id.in_(ids)).order_by(DrsAlias.alias)
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in session.scalars(stmt):
        grouped[row.object_id].append(row.alias)
    return grouped


def members_of_bundles(session: Session, ids: Sequence[str]) -> dict[str, list[BundleMember]]:
    stmt = select(BundleMember).where(BundleMember.bundle_id.in_(ids)).order_by(BundleMember.name)
    grouped: dict[str, list[BundleMember]] = defaultdict(list)
    for row in session.scalars(stmt):
        grouped[row.bundle_id].append(row)
    return grouped


def datasets_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Dataset]:
    rows = session.scalars(select(Dataset).where(Dataset.id.in_(list(ids))))
    return {d.id: d for d in rows}


def datasets_by_accessions(session: Session, accessions: Iterable[str]) -> dict[str, Dataset]:
    rows = session.scalars(select(Dataset).where(Dataset.accession.in_(list(accessions))))
    return {d.accession: d for d in rows}


def ontology_index(session: Session) -> dict[str, tuple[str, str | None]]:
    """The ontology and short code of every term by CURIE, as plain tuples: bulk ingest checks
    thousands of records against them without a query per record."""
    stmt = select(OntologyTerm.curie, OntologyTerm.ontology, OntologyTerm.code)
    return {curie: (ontology, code) for curie, ontology, code in session.execute(stmt)}


def user_by_identity(session: Session, issuer: str, subject: str) -> User | None:
    stmt = select(User).where(User.issuer == issuer, User.subject == subject)
    return session.scalars(stmt).one_or_none()


USER_ROLES = PreparedQuery(
    "atrium_user_roles",
    select(
        User.id, RoleAssignment.role, RoleAssignment.organization_id, RoleAssignment.committee_id
    )
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    .where(
        User.issuer == bindparam("issuer", type_=Text),
        User.subject == bindparam("subject", type_=Text),
    ),
)
"""Every authenticated request asks it, so it is prepared once per connection."""


Roles = tuple[uuid.UUID, list[tuple[str, uuid.UUID | None, uuid.UUID | None]]]


def user_roles(connection: Connection, issuer: str, subject: str) -> Roles | None:
    """The user's id and (role, organization id, committee id) of each assignment, in one
    outer join, or None for an unknown identity."""
    rows = USER_ROLES.rows(connection, {"issuer": issuer, "subject": subject})
    if not rows:
        return None
    return rows[0][0], [(row[1], row[2], row[3]) for row in rows if row[1] is not None]


def organization_by_id_or_slug(
    session: Session, *, id: uuid.UUID | None, slug: str | None
) -> Organization | None:
    column = Organization.id if id is not None else Organization.slug
    return session.scalars(select(Organization).where(column == (id or slug))).one_or_none()


def organizations(session: Session, kind: str | None = None) -> Sequence[Organization]:
    stmt = select(Organization).order_by(Organization.name)
    if kind is not None:
        stmt = stmt.where(Organization.kind == kind)
    return session.scalars(stmt).all()


def committees(session: Session) -> Sequence[Committee]:
    return session.scalars(select(Committee).order_by(Committee.name)).all()


KEYS = bindparam("keys", type_=ARRAY(Text))


def _ids_or_aliases() -> Any:
    """The object ids the ``keys`` parameter names, directly or as aliases, as one subquery
    whose two arms are both index lookups (an OR of the two makes Postgres scan every
    object)."""
    direct = select(func.unnest(KEYS).label("id"))
    aliased = select(DrsAlias.object_id.label("id")).where(DrsAlias.alias == func.any(KEYS))
    return union_all(direct, aliased).subquery().select()


class DrsRow(NamedTuple):
    """The object's own columns, read as a plain row: resolving a thousand objects should not
    build a thousand ORM instances that nothing will modify."""

    id: str
    dataset_id: uuid.UUID
    name: str
    size: int
    mime_type: str | None
    version: str | None
    description: str | None
    is_bundle: bool
    created_time: datetime
    updated_time: datetime


class DrsRecord(NamedTuple):
    """A DRS object with everything its JSON document and its access decision need (a tuple:
    a bulk request builds a thousand, and a frozen dataclass took four times as long)."""

    object: DrsRow
    accession: str
    access_level: str
    status: str
    steward_id: uuid.UUID
    checksums: list[tuple[str, str]]
    access_methods: list[tuple[str, str, str, str | None]]
    aliases: list[str]
    members: list[tuple[str, str]]
    has_active_grant: bool


CALLER = (
    select(User.id)
    .where(
        User.issuer == bindparam("issuer", type_=Text),
        User.subject == bindparam("subject", type_=Text),
    )
    .scalar_subquery()
)
"""The calling user's id (bind parameters ``issuer`` and ``subject``), NULL for anonymous or
unknown callers: Postgres evaluates it once per statement."""

CALLER_ROLES = (
    select(
        func.json_agg(
            func.json_build_array(
                RoleAssignment.role, RoleAssignment.organization_id, RoleAssignment.committee_id
            )
        )
    )
    .where(RoleAssignment.user_id == CALLER)
    .scalar_subquery()
)


def drs_statement(grant_exists: Callable[[Any, Any], Any]) -> Select[Any]:
    """The statement that resolves objects by id or alias (bind parameter ``keys``) with
    everything a DRS document and its access decision need, in one round trip: aliases and
    bundle members as arrays of the same row, ``grant_exists(dataset_id, user_id)`` for the
    caller, and the caller's id and roles, so a signed-in request needs no second statement."""
    aliases_of = (
        select(func.array_agg(DrsAlias.alias))
        .where(DrsAlias.object_id == DrsObject.id)
        .scalar_subquery()
    )
    members_of = (
        select(func.json_agg(func.json_build_array(BundleMember.name, BundleMember.child_id)))
        .where(BundleMember.bundle_id == DrsObject.id)
        .scalar_subquery()
    )
    return (
        select(
            *(getattr(DrsObject, name) for name in DrsRow._fields),
            Dataset.accession,
            Dataset.access_level,
            Dataset.status,
            Dataset.steward_id,
            DrsObject.checksums,
            DrsObject.access_methods,
            aliases_of,
            members_of,
            grant_exists(Dataset.id, CALLER),
            CALLER,
            CALLER_ROLES,
        )
        .join(Dataset, Dataset.id == DrsObject.dataset_id)
        .where(DrsObject.id.in_(_ids_or_aliases()))
    )


def drs_records(keys: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> dict[str, DrsRecord]:
    """``drs_statement``'s rows for ``keys`` (prepared: the rows come straight from the driver,
    so enum columns arrive as their stored text and JSON columns already decoded), keyed by the
    key asked for, whether it was the object's id or one of its aliases. Rows of other keys
    (a batch of lookups answers several requests at once) are skipped unparsed."""
    asked = set(keys)
    found: dict[str, DrsRecord] = {}
    width = len(DrsRow._fields)
    for row in rows:
        accession, level, status, steward_id, sums, methods, aliases, members, granted, *_ = row[
            width:
        ]  # the caller's id and roles last: ``caller_roles``
        names = [key for key in (row[0], *(aliases or ())) if key in asked]  # row[0]: DrsRow.id
        if not names:
            continue
        obj = DrsRow(*row[:width])
        record = DrsRecord(
            object=obj,
            accession=accession,
            access_level=level,
            status=status,
            steward_id=steward_id,
            checksums=list(sums.items()),
            access_methods=[(a, t, u, r) for a, t, u, r in methods],
            aliases=list(aliases or []),
            members=sorted((n, c) for n, c in members) if members else [],
            has_active_grant=bool(granted),
        )
        for key in names:
            found[key] = record
    return found


def caller_roles(rows: Sequence[tuple[Any, ...]]) -> Roles | None:
    """The caller's id and roles as ``drs_statement`` read them (every row carries them), or
    None when no row came back or the caller is not a known user."""
    if not rows or rows[0][-2] is None:
        return None
    user_id, roles = rows[0][-2], rows[0][-1] or []
    return user_id, [(role, _uuid(org), _uuid(committee)) for role, org, committee in roles]


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


def object_totals(session: Session) -> tuple[int, int]:
    """How many files the catalog holds and their bytes (bundles excluded)."""
    count, size = session.execute(
        select(func.count(), func.coalesce(func.sum(DrsObject.size), 0)).where(
            DrsObject.is_bundle.is_(false())
        )
    ).one()
    return int(count), int(size)
