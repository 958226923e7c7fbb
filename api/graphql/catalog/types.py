"""GraphQL object types of the catalog. Relationship fields resolve through the request's
dataloaders; fields that policies restrict return null (or an empty list) to callers who may
not see them, rather than failing the whole query."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, NamedTuple

import graphene
import orjson

from api.drs.documents import self_uri
from api.graphql.access import download_decision, may_list_files
from api.graphql.context import Context
from catalog import policies
from catalog.errors import Invalid
from catalog.models import AccessLevel as AccessLevelModel
from catalog.models import DatasetStatus as DatasetStatusModel
from catalog.models import OrganizationKind as OrganizationKindModel
from catalog.models import TermRole
from catalog.repository import FileTotals
from catalog.schemas import PERMISSION_CODES, storable
from governance.models import DecisionRule as DecisionRuleModel

MAX_FILES_PAGE = 100

AccessLevel = graphene.Enum.from_enum(
    AccessLevelModel, description="Who may read a dataset's files."
)
DatasetStatus = graphene.Enum.from_enum(
    DatasetStatusModel, description="Lifecycle: draft → published → retired (tombstone)."
)
OrganizationKind = graphene.Enum.from_enum(
    OrganizationKindModel, description="What an organization is to the commons."
)
DecisionRule = graphene.Enum.from_enum(
    DecisionRuleModel,
    description="CHAIR: the chair decides; VOTES: N approving votes; MAJORITY: most members.",
)


def ctx(info: graphene.ResolveInfo) -> Context:
    context: Context = info.context
    return context


def encode_cursor(payload: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


CURSOR_PARTS = (str, int, float, bool, type(None))


def page_size(first: int | None, maximum: int) -> int:
    """``first`` as a page size: between 1 and ``maximum``, never null (an explicit null
    passes by the argument's default)."""
    if first is None or not 1 <= first <= maximum:
        raise Invalid(f"first must be between 1 and {maximum}", field="first")
    return first


def decode_cursor(cursor: str) -> list[Any] | None:
    """The list a cursor encodes, if it is a flat list of JSON scalars whose strings Postgres
    can store; None for anything else, so that a forged cursor is refused as invalid rather
    than failing in the database (or in the JSON parser, nested deeply enough)."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(value, list) or not all(isinstance(part, CURSOR_PARTS) for part in value):
        return None
    if not all(storable(part) for part in value if isinstance(part, str)):
        return None
    return value


def files_cursor_id(cursor: str) -> str:
    """The object id a cursor of a dataset's files made by ``encode_cursor(["files", id])``
    points after; a clear error for anything else."""
    decoded = decode_cursor(cursor)
    if not decoded or decoded[0] != "files" or len(decoded) != 2 or not isinstance(decoded[1], str):
        raise Invalid("after is not a cursor of this list", field="after")
    return decoded[1]


def decode_time_id_cursor(cursor: str, tag: str) -> tuple[datetime, uuid.UUID]:
    """The (time, id) position of a cursor made by ``encode_cursor([tag, iso_time, id])``; a
    clear error for anything else, forged or from another list."""
    decoded = decode_cursor(cursor)
    if (
        not decoded
        or len(decoded) != 3
        or decoded[0] != tag
        or not all(isinstance(part, str) for part in decoded[1:])
    ):
        raise Invalid("after is not a cursor of this list", field="after")
    try:
        return datetime.fromisoformat(decoded[1]), uuid.UUID(decoded[2])
    except ValueError:
        raise Invalid("after is not a cursor of this list", field="after") from None


class Organization(graphene.ObjectType):
    """A data steward, funder or institution."""

    id = graphene.UUID(required=True, description="Stable identifier.")
    slug = graphene.String(required=True, description="Short unique name used in inputs.")
    name = graphene.String(required=True, description="Display name.")
    kind = graphene.Field(OrganizationKind, required=True, description="Steward, funder, ...")
    ror_id = graphene.String(description="Research Organization Registry id, if known.")


class CommitteeRules(graphene.ObjectType):
    """How a committee decides, how fast, and for how long it grants access."""

    decision_rule = graphene.Field(DecisionRule, required=True, description="Who decides.")
    required_votes = graphene.Int(description="Approving votes that decide (VOTES rule only).")
    sla_days = graphene.Int(required=True, description="Days a review may take (its deadline).")
    max_grant_days = graphene.Int(required=True, description="Longest grant it issues, in days.")


class Committee(graphene.ObjectType):
    """A data access committee (DAC) that decides requests for controlled datasets."""

    id = graphene.UUID(required=True, description="Stable identifier.")
    slug = graphene.String(required=True, description="Short unique name used in inputs.")
    name = graphene.String(required=True, description="Display name.")
    organization = graphene.Field(
        Organization, required=True, description="The organization the committee belongs to."
    )
    rules = graphene.Field(
        CommitteeRules, required=True, description="Its decision rule, deadline and longest grant."
    )

    @staticmethod
    def resolve_organization(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.organization_by_id.get(parent.organization_id)

    @staticmethod
    def resolve_rules(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.rules_by_committee_id.get(parent.id)


class OntologyTerm(graphene.ObjectType):
    """A term of MONDO (diseases), HP (phenotypes) or DUO (data use)."""

    curie = graphene.String(required=True, description="Compact identifier, e.g. MONDO:0007254.")
    label = graphene.String(required=True, description="Preferred label.")
    code = graphene.String(description="Short code where the ontology has one (DUO: GRU, DS).")
    synonyms = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Exact synonyms."
    )


class DataUse(graphene.ObjectType):
    """The dataset's consented data use, as GA4GH Data Use Ontology terms."""

    permission = graphene.Field(
        OntologyTerm, required=True, description="NRES, GRU, HMB, DS or POA."
    )
    diseases = graphene.List(
        graphene.NonNull(OntologyTerm),
        required=True,
        description="Diseases the DS permission is restricted to (empty otherwise).",
    )
    modifiers = graphene.List(
        graphene.NonNull(OntologyTerm),
        required=True,
        description="Data use modifiers such as NPU, IRB, PUB.",
    )


class DatasetFunding(graphene.ObjectType):
    """A funder of the dataset and the award that paid for it."""

    funder = graphene.Field(Organization, required=True, description="The funding organization.")
    award_number = graphene.String(description="Grant or award number.")


class Publication(graphene.ObjectType):
    """A publication describing or using the dataset."""

    scheme = graphene.String(required=True, description="`doi` or `pmid`.")
    identifier = graphene.String(required=True, description="The DOI or PubMed id.")
    url = graphene.String(required=True, description="Resolvable link.")

    @staticmethod
    def resolve_url(parent: Any, _info: graphene.ResolveInfo) -> str:
        if parent.scheme == "doi":
            return f"https://doi.org/{parent.identifier}"
        return f"https://pubmed.ncbi.nlm.nih.gov/{parent.identifier}/"


class DatasetVersion(graphene.ObjectType):
    """The dataset's metadata as published at one version."""

    version = graphene.Int(required=True, description="Version number, from 1.")
    published_at = graphene.DateTime(required=True, description="When it was published.")
    published_by = graphene.String(required=True, description="Who published it.")
    snapshot = graphene.JSONString(required=True, description="The metadata at that version.")


class Checksum(graphene.ObjectType):
    """A checksum of the object's bytes."""

    type = graphene.String(required=True, description="sha-256, md5, crc32c, etag, ...")
    checksum = graphene.String(required=True, description="Lower-case hex digest.")


class ChecksumValue(NamedTuple):
    type: str
    checksum: str


class AccessMethodValue(NamedTuple):
    """A row of ``drs_objects.access_methods`` with the steward of the object's dataset, who
    alone may see the URL."""

    access_id: str
    type: str
    url: str
    region: str | None
    steward_id: uuid.UUID


class AccessMethod(graphene.ObjectType):
    """One way to fetch the object's bytes; signed URLs come from the DRS access endpoint."""

    type = graphene.String(required=True, description="s3, gs, https, file, ...")
    access_id = graphene.String(required=True, description="Id to pass to the DRS /access call.")
    region = graphene.String(description="Cloud region, where relevant.")
    url = graphene.String(description="Storage location; visible to the dataset's stewards only.")

    @staticmethod
    def resolve_url(parent: AccessMethodValue, info: graphene.ResolveInfo) -> str | None:
        if policies.stewards(ctx(info).principal, parent.steward_id):
            return parent.url
        return None


class BundleMember(graphene.ObjectType):
    """A named member of a bundle."""

    name = graphene.String(required=True, description="Name unique within the bundle.")
    object = graphene.Field(lambda: DrsObject, required=True, description="The member object.")

    @staticmethod
    def resolve_object(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.object_by_id.get(parent.child_id)


class DrsObject(graphene.ObjectType):
    """A file or bundle, resolvable through GA4GH DRS by its id."""

    id = graphene.ID(required=True, description="Opaque DRS object id.")
    drs_uri = graphene.String(
        required=True, description="Its hostname-based DRS URI, drs://<host>/<id> (`self_uri`)."
    )
    name = graphene.String(required=True, description="File name.")
    size = graphene.BigInt(required=True, description="Bytes (for bundles, the members' total).")
    is_bundle = graphene.Boolean(required=True, description="True for bundles.")
    mime_type = graphene.String(description="Media type.")
    version = graphene.String(description="Version string given at registration.")
    description = graphene.String(description="Free text.")
    created_time = graphene.DateTime(required=True, description="When the object was created.")
    updated_time = graphene.DateTime(required=True, description="When it last changed.")
    checksums = graphene.List(
        graphene.NonNull(Checksum), required=True, description="At least one checksum."
    )
    aliases = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Other ids that resolve."
    )
    access_methods = graphene.List(
        graphene.NonNull(AccessMethod), required=True, description="Ways to fetch the bytes."
    )
    contents = graphene.List(
        graphene.NonNull(BundleMember), required=True, description="Members, for bundles."
    )
    dataset = graphene.Field(lambda: Dataset, required=True, description="Owning dataset.")

    @staticmethod
    def resolve_drs_uri(parent: Any, info: graphene.ResolveInfo) -> str:
        return self_uri(ctx(info).drs.hostname, parent.id)

    @staticmethod
    def resolve_checksums(parent: Any, _info: graphene.ResolveInfo) -> list[ChecksumValue]:
        return [ChecksumValue(*pair) for pair in sorted(parent.checksums.items())]

    @staticmethod
    def resolve_aliases(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.aliases_by_object_id.get(parent.id)

    @staticmethod
    def resolve_access_methods(parent: Any, info: graphene.ResolveInfo) -> list[AccessMethodValue]:
        steward_id = ctx(info).loaders.catalog.dataset_by_id.get(parent.dataset_id).steward_id
        return [
            AccessMethodValue(access_id, kind, url, region, steward_id)
            for access_id, kind, url, region in parent.access_methods
        ]

    @staticmethod
    def resolve_contents(parent: Any, info: graphene.ResolveInfo) -> Any:
        if not parent.is_bundle:
            return []
        return ctx(info).loaders.catalog.members_by_bundle_id.get(parent.id)

    @staticmethod
    def resolve_dataset(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.dataset_by_id.get(parent.dataset_id)


class DrsObjectConnection(graphene.relay.Connection):
    """A page of a dataset's DRS objects, ordered by id."""

    class Meta:
        node = DrsObject

    total_count = graphene.Int(required=True, description="Objects in the dataset.")

    @staticmethod
    def resolve_total_count(parent: Any, _info: graphene.ResolveInfo) -> int:
        return int(parent.total_count)


class DatasetTermsOfUse(graphene.ObjectType):
    """One version of a dataset's terms of use; access requests accept a version."""

    version = graphene.Int(required=True, description="Version, from 1.")
    text = graphene.String(required=True, description="The terms.")
    published_at = graphene.DateTime(required=True, description="When this version appeared.")


class Dataset(graphene.ObjectType):
    """A dataset of the catalog. Retired datasets answer as tombstones: their metadata stays
    citable, their files are no longer listed to the public."""

    id = graphene.UUID(required=True, description="Stable UUID.")
    accession = graphene.String(required=True, description="Stable accession, ATR-DS-000042.")
    title = graphene.String(required=True, description="Title.")
    description = graphene.String(required=True, description="Description (plain text).")
    keywords = graphene.List(graphene.NonNull(graphene.String), required=True, description="Tags.")
    diseases = graphene.List(
        graphene.NonNull(OntologyTerm), required=True, description="MONDO diseases studied."
    )
    phenotypes = graphene.List(
        graphene.NonNull(OntologyTerm), required=True, description="HP phenotypes."
    )
    data_types = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="WGS, RNA-seq, EHR, ..."
    )
    file_formats = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="CRAM, VCF, DICOM, ..."
    )
    species = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Species sampled."
    )
    participant_count = graphene.Int(description="Participants.")
    sample_count = graphene.Int(description="Samples.")
    data_use = graphene.Field(DataUse, description="Consented data use (DUO).")
    access_level = graphene.Field(AccessLevel, required=True, description="Open/registered/...")
    steward = graphene.Field(Organization, required=True, description="Stewarding organization.")
    committee = graphene.Field(Committee, description="Governing data access committee.")
    funders = graphene.List(
        graphene.NonNull(DatasetFunding), required=True, description="Funders and awards."
    )
    license = graphene.String(description="License (SPDX id or URL).")
    publications = graphene.List(
        graphene.NonNull(Publication), required=True, description="Related publications."
    )
    status = graphene.Field(DatasetStatus, required=True, description="Lifecycle status.")
    version = graphene.Int(required=True, description="Latest published version (0: draft).")
    versions = graphene.List(
        graphene.NonNull(DatasetVersion), required=True, description="Published versions."
    )
    created_at = graphene.DateTime(required=True, description="Creation time.")
    updated_at = graphene.DateTime(required=True, description="Last change.")
    published_at = graphene.DateTime(description="Last publication.")
    retired_at = graphene.DateTime(description="When it was retired.")
    retired_reason = graphene.String(description="Why it was retired.")
    terms_of_use = graphene.Field(
        DatasetTermsOfUse, description="Current terms of use, if any; requests accept them."
    )
    file_count = graphene.Int(required=True, description="Files (bundles excluded); derived.")
    total_bytes = graphene.BigInt(required=True, description="Bytes of all files; derived.")
    can_read_files = graphene.Boolean(
        required=True, description="Whether the caller may list this dataset's files."
    )
    can_download = graphene.Boolean(
        required=True,
        description="Whether the caller may read the bytes (open data, a registered user, an"
        " active grant, or the steward); the same rule DRS enforces.",
    )
    files = graphene.Field(
        DrsObjectConnection,
        required=True,
        first=graphene.Int(default_value=20, description=f"Page size, 1-{MAX_FILES_PAGE}."),
        after=graphene.String(description="`endCursor` of the previous page."),
        description="The dataset's files and bundles by id; empty unless `canReadFiles`.",
    )

    @staticmethod
    def resolve_diseases(parent: Any, info: graphene.ResolveInfo) -> Any:
        rows = ctx(info).loaders.catalog.terms_by_dataset_id.get(parent.id)
        return [term for link, term in rows if link.role is TermRole.DISEASE]

    @staticmethod
    def resolve_phenotypes(parent: Any, info: graphene.ResolveInfo) -> Any:
        rows = ctx(info).loaders.catalog.terms_by_dataset_id.get(parent.id)
        return [term for link, term in rows if link.role is TermRole.PHENOTYPE]

    @staticmethod
    def resolve_data_use(parent: Any, info: graphene.ResolveInfo) -> Any:
        rows = ctx(info).loaders.catalog.data_use_by_dataset_id.get(parent.id)
        permission = next((t for _, t in rows if t.code in PERMISSION_CODES), None)
        if permission is None:
            return None
        qualifiers = [u.qualifier for u, t in rows if t is permission and u.qualifier]
        diseases = ctx(info).loaders.catalog.term_by_curie.get_many(qualifiers)
        return DataUse(
            permission=permission,
            diseases=[d for d in diseases if d is not None],
            modifiers=[t for _, t in rows if t.code not in PERMISSION_CODES],
        )

    @staticmethod
    def resolve_steward(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.organization_by_id.get(parent.steward_id)

    @staticmethod
    def resolve_committee(parent: Any, info: graphene.ResolveInfo) -> Any:
        if parent.committee_id is None:
            return None
        return ctx(info).loaders.catalog.committee_by_id.get(parent.committee_id)

    @staticmethod
    def resolve_funders(parent: Any, info: graphene.ResolveInfo) -> Any:
        rows = ctx(info).loaders.catalog.funders_by_dataset_id.get(parent.id)
        return [DatasetFunding(funder=org, award_number=link.award_number) for link, org in rows]

    @staticmethod
    def resolve_publications(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.publications_by_dataset_id.get(parent.id)

    @staticmethod
    def resolve_versions(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.versions_by_dataset_id.get(parent.id)

    @staticmethod
    def resolve_terms_of_use(parent: Any, info: graphene.ResolveInfo) -> Any:
        return ctx(info).loaders.catalog.terms_of_use_by_dataset_id.get(parent.id)

    @staticmethod
    def resolve_file_count(parent: Any, info: graphene.ResolveInfo) -> int:
        totals: FileTotals = ctx(info).loaders.catalog.file_totals_by_dataset_id.get(parent.id)
        return totals.files

    @staticmethod
    def resolve_total_bytes(parent: Any, info: graphene.ResolveInfo) -> int:
        totals: FileTotals = ctx(info).loaders.catalog.file_totals_by_dataset_id.get(parent.id)
        return totals.bytes

    @staticmethod
    def resolve_can_read_files(parent: Any, info: graphene.ResolveInfo) -> bool:
        return may_list_files(ctx(info), parent)

    @staticmethod
    def resolve_can_download(parent: Any, info: graphene.ResolveInfo) -> bool:
        return download_decision(ctx(info), parent).allowed

    @staticmethod
    def resolve_files(
        parent: Any, info: graphene.ResolveInfo, first: int | None = 20, after: str | None = None
    ) -> Any:
        first = page_size(first, MAX_FILES_PAGE)
        after_id = files_cursor_id(after) if after is not None else None
        loaders = ctx(info).loaders.catalog
        if not may_list_files(ctx(info), parent):
            return connection(DrsObjectConnection, [], has_next=False, total_count=0)
        rows = loaders.files_by_dataset_id.get((parent.id, first + 1, after_id))
        totals: FileTotals = loaders.file_totals_by_dataset_id.get(parent.id)
        edges = [(obj, encode_cursor(["files", obj.id])) for obj in rows[:first]]
        return connection(
            DrsObjectConnection, edges, has_next=len(rows) > first, total_count=totals.objects
        )


def connection(
    kind: type[graphene.relay.Connection],
    edges: list[tuple[Any, str]],
    *,
    has_next: bool,
    total_count: Any,
) -> Any:
    """A Relay connection from (node, cursor) pairs; ``total_count`` may be a value or a
    zero-argument callable evaluated only when the field is requested."""
    return kind(
        edges=[kind.Edge(node=node, cursor=cursor) for node, cursor in edges],
        page_info=graphene.relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=False,
            start_cursor=edges[0][1] if edges else None,
            end_cursor=edges[-1][1] if edges else None,
        ),
        total_count=total_count,
    )
