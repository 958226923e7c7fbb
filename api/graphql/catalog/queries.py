"""Catalog queries. Every dataset read starts from the repository's readable statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import graphene

from api.drs.uris import object_id_from_uri
from api.graphql.access import may_list_files
from api.graphql.catalog import json_pages
from api.graphql.catalog.types import (
    AccessLevel,
    Committee,
    Dataset,
    DatasetStatus,
    DrsObject,
    Organization,
    OrganizationKind,
    connection,
    ctx,
    decode_cursor,
    encode_cursor,
    page_size,
)
from api.graphql.context import Context
from api.graphql.errors import CatalogError
from catalog import repository
from catalog.errors import Invalid
from catalog.models import DatasetStatus as DatasetStatusModel

MAX_DATASETS_PAGE = 100
MAX_INT4 = 2**31 - 1

PAGE_ROW_BYTES = 600
"""About what a remembered page keeps per dataset: its row of facts and its cursor."""


class DrsResolution(graphene.ObjectType):
    """One URI given to `resolveDrs`: its object, or the reason there is none."""

    uri = graphene.String(required=True, description="The URI as given.")
    object = graphene.Field(DrsObject, description="The object; null when `error` is set.")
    error = graphene.Field(
        CatalogError,
        description="INVALID (not a DRS URI of this server) or NOT_FOUND (unknown, or not"
        " visible to the caller); `field` is the URI's position, `uris[3]`.",
    )


class DatasetSortField(graphene.Enum):
    """What to order datasets by; ties are broken by accession."""

    ACCESSION = "ACCESSION"
    TITLE = "TITLE"
    UPDATED_AT = "UPDATED_AT"
    PARTICIPANTS = "PARTICIPANTS"


class SortDirection(graphene.Enum):
    """Ascending or descending."""

    ASC = "ASC"
    DESC = "DESC"


class DatasetOrder(graphene.InputObjectType):
    """Ordering of a dataset list."""

    field = DatasetSortField(required=True, description="Sort key.")
    direction = SortDirection(description="Direction (default ASC).")


class DatasetFilter(graphene.InputObjectType):
    """Narrows a dataset list; all given conditions must hold."""

    status = graphene.List(
        graphene.NonNull(DatasetStatus),
        description="Statuses to include (default: published only).",
    )
    access_level = graphene.List(graphene.NonNull(AccessLevel), description="Access levels.")
    steward = graphene.String(description="Slug of the stewarding organization.")
    funder = graphene.String(description="Slug of a funder.")
    disease = graphene.String(description="MONDO CURIE; matches the term and its subtypes.")
    data_type = graphene.String(description="Data type, e.g. WGS.")
    file_format = graphene.String(description="File format, e.g. CRAM.")
    text = graphene.String(description="Case-insensitive substring of the title, or accession.")


class DatasetConnection(graphene.relay.Connection):
    """A page of datasets."""

    class Meta:
        node = Dataset

    total_count = graphene.Int(required=True, description="Datasets matching the filter.")

    @staticmethod
    def resolve_total_count(parent: Any, _info: graphene.ResolveInfo) -> int:
        return int(parent.total_count())


class CatalogQuery(graphene.ObjectType):
    dataset = graphene.Field(
        Dataset,
        id=graphene.UUID(description="The dataset's UUID."),
        accession=graphene.String(description="The dataset's accession, e.g. ATR-DS-000042."),
        description="One dataset by UUID or accession (exactly one of them); null if unknown"
        " or not visible to the caller.",
    )
    datasets = graphene.Field(
        DatasetConnection,
        required=True,
        filter=graphene.Argument(DatasetFilter, description="Conditions."),
        order_by=graphene.Argument(DatasetOrder, description="Ordering (default: accession)."),
        first=graphene.Int(default_value=20, description=f"Page size, 1-{MAX_DATASETS_PAGE}."),
        after=graphene.String(description="`endCursor` of the previous page."),
        description="Datasets visible to the caller, as a Relay connection.",
    )
    drs_object = graphene.Field(
        DrsObject,
        id=graphene.ID(required=True, description="DRS id or alias."),
        description="A file or bundle by DRS id or alias; null if unknown or not visible.",
    )
    organization = graphene.Field(
        Organization,
        id=graphene.UUID(description="The organization's UUID."),
        slug=graphene.String(description="The organization's slug."),
        description="One organization by UUID or slug.",
    )
    organizations = graphene.List(
        graphene.NonNull(Organization),
        required=True,
        kind=graphene.Argument(OrganizationKind, description="Only this kind."),
        description="All organizations, by name.",
    )
    committees = graphene.List(
        graphene.NonNull(Committee), required=True, description="All committees, by name."
    )
    resolve_drs = graphene.List(
        graphene.NonNull(DrsResolution),
        required=True,
        uris=graphene.List(
            graphene.NonNull(graphene.String),
            required=True,
            description="drs://<host>/<id> URIs, or compact identifiers (drs://prefix:id or"
            " prefix:id) with this server's ATRIUM_DRS_COMPACT_PREFIX; at most"
            " ATRIUM_DRS_MAX_BULK_REQUEST_LENGTH.",
        ),
        description="DRS URIs to objects, in the order given, in one lookup.",
    )

    @staticmethod
    def resolve_dataset(
        _root: Any,
        info: graphene.ResolveInfo,
        id: uuid.UUID | None = None,
        accession: str | None = None,
    ) -> Any:
        if (id is None) == (accession is None):
            raise Invalid("give exactly one of id and accession")
        c = ctx(info)
        if id is not None:
            found = repository.dataset_by_id(c.session, c.principal, id)
        else:
            found = repository.dataset_by_accession(c.session, c.principal, accession or "")
        if found is None or not c.json_pages:
            return found
        return json_pages.dataset_node(info, found) or found

    @staticmethod
    def resolve_datasets(
        _root: Any,
        info: graphene.ResolveInfo,
        first: int | None,
        filter: Any = None,
        order_by: Any = None,
        after: str | None = None,
    ) -> Any:
        first = page_size(first, MAX_DATASETS_PAGE)
        c = ctx(info)
        sort = order_by.field.value if order_by else "ACCESSION"
        descending = bool(order_by and order_by.direction) and order_by.direction.value == "DESC"
        flt = _filter(filter)
        stmt = repository.filtered_datasets(c.principal, flt)
        position = _position(after, sort, descending) if after is not None else None

        def page(facts_only: bool) -> tuple[Sequence[Any], list[str], bool]:
            rows = repository.page_of_datasets(
                c.session,
                stmt,
                sort=sort,
                descending=descending,
                after=position,
                limit=first + 1,
                facts_only=facts_only,
            )
            shown = rows[:first]
            cursors = [
                encode_cursor([sort, descending, repository.sort_value(d, sort), d.accession])
                for d in shown
            ]
            return shown, cursors, len(rows) > first

        # The statement is the filter's and the principal's: with them, these keys say it all.
        def total_count() -> int:
            return c.remembered(
                ("count", flt, c.principal), lambda: repository.count(c.session, stmt), size=32
            )

        def facts_page() -> json_pages.Page:
            key = ("page", flt, c.principal, sort, descending, position, first)
            found = c.remembered(key, lambda: page(facts_only=True), size=PAGE_ROW_BYTES * first)
            return json_pages.Page(*found, total_count)

        if c.json_pages:
            built = json_pages.dataset_connection(info, facts_page)
            if built is not None:
                return built
        shown, cursors, has_next = page(facts_only=False)
        c.loaders.catalog.seen.add_datasets(shown)
        return connection(
            DatasetConnection,
            list(zip(shown, cursors, strict=True)),
            has_next=has_next,
            total_count=total_count,
        )

    @staticmethod
    def resolve_drs_object(_root: Any, info: graphene.ResolveInfo, id: str) -> Any:
        c = ctx(info)
        found = repository.object_by_id_or_alias(c.session, id)
        if found is None:
            return None
        dataset = repository.dataset_by_id(c.session, c.principal, found.dataset_id)
        if dataset is None or not may_list_files(c, dataset):
            return None
        return found

    @staticmethod
    def resolve_organization(
        _root: Any,
        info: graphene.ResolveInfo,
        id: uuid.UUID | None = None,
        slug: str | None = None,
    ) -> Any:
        if (id is None) == (slug is None):
            raise Invalid("give exactly one of id and slug")
        return repository.organization_by_id_or_slug(ctx(info).session, id=id, slug=slug)

    @staticmethod
    def resolve_organizations(_root: Any, info: graphene.ResolveInfo, kind: Any = None) -> Any:
        return repository.organizations(ctx(info).session, kind.value if kind else None)

    @staticmethod
    def resolve_committees(_root: Any, info: graphene.ResolveInfo) -> Any:
        return repository.committees(ctx(info).session)

    @staticmethod
    def resolve_resolve_drs(_root: Any, info: graphene.ResolveInfo, uris: list[str]) -> Any:
        c = ctx(info)
        if not 1 <= len(uris) <= c.max_drs_uris:
            raise Invalid(f"give 1 to {c.max_drs_uris} URIs", field="uris")
        keys: list[str | Invalid] = []
        for uri in uris:
            try:
                keys.append(object_id_from_uri(uri, c.drs))
            except Invalid as exc:
                keys.append(exc)
        objects = repository.objects_by_ids_or_aliases(
            c.session, [k for k in keys if isinstance(k, str)]
        )
        datasets = repository.readable_datasets_by_ids(
            c.session, c.principal, (o.dataset_id for o in objects.values())
        )
        c.loaders.catalog.seen.add_datasets(datasets.values())
        c.loaders.catalog.seen.add_objects(o for o in objects.values() if o.dataset_id in datasets)
        return [
            _resolution(c, uri, key, objects, datasets, f"uris[{index}]")
            for index, (uri, key) in enumerate(zip(uris, keys, strict=True))
        ]


def _resolution(
    c: Context,
    uri: str,
    key: str | Invalid,
    objects: dict[str, Any],
    datasets: dict[uuid.UUID, Any],
    field: str,
) -> DrsResolution:
    """An object only where ``drsObject`` would show it: unknown and hidden look the same."""
    if isinstance(key, Invalid):
        return DrsResolution(
            uri=uri, error=CatalogError(field=field, message=key.message, code="INVALID")
        )
    found = objects.get(key)
    dataset = datasets.get(found.dataset_id) if found is not None else None
    if found is None or dataset is None or not may_list_files(c, dataset):
        message = f"no DRS object {key!r} that you may see"
        return DrsResolution(
            uri=uri, error=CatalogError(field=field, message=message, code="NOT_FOUND")
        )
    return DrsResolution(uri=uri, object=found)


def _position(after: str, sort: str, descending: bool) -> tuple[Any, str]:
    """The (sort value, accession) a cursor of this ordering points after. A value of the
    wrong kind for the sort is refused here: Postgres would refuse it as a server error."""
    decoded = decode_cursor(after)
    if not decoded or len(decoded) != 4 or decoded[:2] != [sort, descending]:
        raise Invalid("after is not a cursor of this ordering", field="after")
    value, accession = decoded[2], decoded[3]
    if sort == "PARTICIPANTS":
        fits = type(value) is int and -1 <= value <= MAX_INT4
    elif sort == "UPDATED_AT":
        value = _time(value)
        fits = value is not None
    else:
        fits = isinstance(value, str)
    if not fits or not isinstance(accession, str):
        raise Invalid("after is not a cursor of this ordering", field="after")
    return value, accession


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _filter(raw: Any) -> repository.DatasetFilter:
    if raw is None:
        return repository.DatasetFilter(statuses=(DatasetStatusModel.PUBLISHED,))
    statuses = tuple(DatasetStatusModel(s.value) for s in raw.status or ()) or (
        DatasetStatusModel.PUBLISHED,
    )
    return repository.DatasetFilter(
        statuses=statuses,
        access_levels=tuple(a.value for a in raw.access_level or ()),
        steward=raw.steward,
        funder=raw.funder,
        disease=raw.disease,
        data_type=raw.data_type,
        file_format=raw.file_format,
        text=raw.text,
    )
