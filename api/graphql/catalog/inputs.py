"""GraphQL input types of catalog mutations. They mirror ``catalog.schemas``; pydantic does the
validation so GraphQL and ingest reject the same records with the same messages."""

from __future__ import annotations

import enum
from typing import Any

import graphene

from api.graphql.catalog.types import AccessLevel, OrganizationKind


def plain(value: Any) -> Any:
    """GraphQL input containers and enums as plain dicts, lists and strings for pydantic."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


class PublicationInput(graphene.InputObjectType):
    """A DOI or PubMed id."""

    scheme = graphene.String(required=True, description="`doi` or `pmid`.")
    identifier = graphene.String(required=True, description="e.g. 10.1038/s41586-020-2308-7.")


class FunderInput(graphene.InputObjectType):
    """A funder and its award."""

    funder = graphene.String(required=True, description="Slug of a funder organization.")
    award_number = graphene.String(description="Award number.")


class DataUseInput(graphene.InputObjectType):
    """Consented data use as DUO codes."""

    permission = graphene.String(required=True, description="NRES, GRU, HMB, DS or POA.")
    diseases = graphene.List(
        graphene.NonNull(graphene.String), description="MONDO CURIEs; required for DS only."
    )
    modifiers = graphene.List(
        graphene.NonNull(graphene.String), description="Modifier codes: NPU, IRB, PUB, ..."
    )


def _dataset_fields(required: bool) -> dict[str, Any]:
    """The dataset fields shared by create (title, access level, steward required) and update."""

    def strings(description: str) -> graphene.List:
        return graphene.List(graphene.NonNull(graphene.String), description=description)

    return {
        "title": graphene.String(required=required, description="Title, 1-500 characters."),
        "description": graphene.String(description="Plain-text description."),
        "keywords": strings("Free-text keywords."),
        "diseases": strings("MONDO CURIEs."),
        "phenotypes": strings("HP CURIEs."),
        "data_types": strings("Data types, e.g. WGS."),
        "file_formats": strings("File formats, e.g. CRAM."),
        "species": strings("Species, e.g. Homo sapiens."),
        "participant_count": graphene.Int(description="Participants (≥ 0)."),
        "sample_count": graphene.Int(description="Samples (≥ 0)."),
        "data_use": DataUseInput(description="Consented data use."),
        "access_level": AccessLevel(required=required, description="Access."),
        "committee": graphene.String(description="Slug of the governing committee."),
        "funders": graphene.List(graphene.NonNull(FunderInput), description="Funders."),
        "license": graphene.String(description="License (SPDX id or URL)."),
        "publications": graphene.List(
            graphene.NonNull(PublicationInput), description="Publications."
        ),
    }


DatasetCreateInput = type(
    "DatasetCreateInput",
    (graphene.InputObjectType,),
    {
        "__doc__": "A new dataset; it starts as a draft visible to its stewards.",
        "steward": graphene.String(required=True, description="Slug of the steward."),
        **_dataset_fields(required=True),
    },
)

DatasetUpdateInput = type(
    "DatasetUpdateInput",
    (graphene.InputObjectType,),
    {
        "__doc__": "Changes to a dataset; omitted fields keep their value, lists are replaced.",
        **_dataset_fields(required=False),
    },
)


class ChecksumInput(graphene.InputObjectType):
    """A checksum of the file's bytes."""

    type = graphene.String(required=True, description="sha-256 (preferred), md5, crc32c, etag.")
    checksum = graphene.String(required=True, description="Hex digest.")


class AccessMethodInput(graphene.InputObjectType):
    """Where the bytes live."""

    type = graphene.String(required=True, description="s3, gs, https, file, ...")
    url = graphene.String(required=True, description="Location, e.g. s3://bucket/key.")
    access_id = graphene.String(description="Access id (default: the type).")
    region = graphene.String(description="Cloud region.")


class FileInput(graphene.InputObjectType):
    """A file to register as a DRS object."""

    id = graphene.ID(description="DRS id to keep; a UUID is minted if absent.")
    name = graphene.String(required=True, description="File name.")
    size = graphene.BigInt(required=True, description="Bytes.")
    checksums = graphene.List(
        graphene.NonNull(ChecksumInput), required=True, description="At least one."
    )
    mime_type = graphene.String(description="Media type.")
    version = graphene.String(description="Version string.")
    description = graphene.String(description="Free text.")
    aliases = graphene.List(graphene.NonNull(graphene.String), description="Other ids.")
    access_methods = graphene.List(
        graphene.NonNull(AccessMethodInput), required=True, description="At least one."
    )
    created_time = graphene.DateTime(description="Creation time (default: now).")


class BundleMemberInput(graphene.InputObjectType):
    """A member of a new bundle."""

    name = graphene.String(required=True, description="Name unique within the bundle.")
    object_id = graphene.ID(required=True, description="DRS id of a file or bundle.")


class BundleInput(graphene.InputObjectType):
    """A bundle of existing objects of the same dataset."""

    id = graphene.ID(description="DRS id to keep; a UUID is minted if absent.")
    name = graphene.String(required=True, description="Bundle name.")
    description = graphene.String(description="Free text.")
    members = graphene.List(
        graphene.NonNull(BundleMemberInput), required=True, description="Members."
    )


class OrganizationInput(graphene.InputObjectType):
    """A new organization."""

    slug = graphene.String(required=True, description="Short unique name, e.g. broad.")
    name = graphene.String(required=True, description="Display name.")
    kind = OrganizationKind(required=True, description="Steward, funder, ...")
    ror_id = graphene.String(description="ROR id, e.g. 05a0ya142.")


class CommitteeInput(graphene.InputObjectType):
    """A new data access committee."""

    organization = graphene.String(required=True, description="Slug of its organization.")
    slug = graphene.String(required=True, description="Short unique name.")
    name = graphene.String(required=True, description="Display name.")
