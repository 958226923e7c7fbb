"""Validated inputs of catalog commands. GraphQL mutations and ingest both build these, so a
record is held to the same rules whichever door it came through."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from catalog.models import (
    ACCESSION_PATTERN,
    CHECKSUM_FORMATS,
    CURIE_PATTERN,
    DRS_ID_PATTERN,
    SLUG_PATTERN,
    AccessLevel,
    OrganizationKind,
)

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Curie = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CURIE_PATTERN)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SLUG_PATTERN)]
DrsId = Annotated[str, StringConstraints(pattern=DRS_ID_PATTERN)]
Accession = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ACCESSION_PATTERN)]

CHECKSUM_TYPE_ALIASES = {"sha256": "sha-256", "sha512": "sha-512", "sha-1": "sha1"}
CHECKSUM_PATTERNS = {kind: re.compile(pattern) for kind, pattern in CHECKSUM_FORMATS.items()}
URL_SCHEMES = {"s3": "s3", "gs": "gs", "https": "https", "ftp": "ftp", "file": "file"}
"""The URL scheme each access method type needs, for the types that have one."""
PERMISSION_CODES = ("NRES", "GRU", "HMB", "DS", "POA")


UNSTORABLE = "strings may not contain NUL characters or unpaired surrogates"


def storable(text: str) -> bool:
    """Whether Postgres can store the text: no NUL, and a UTF-8 form (no lone surrogate). ASCII
    text has no surrogate, and ``isascii`` reads a flag of the string instead of encoding it."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Strict(BaseModel):
    """Base of every input: unknown fields are errors, and no string field may hold text the
    database cannot store, so such input fails validation with its field path instead of
    failing later in SQL."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """Runs for every field of every input, fifteen times per ingested file: no work beyond
        the type tests for values that hold no text (lists hold one type, so their first item
        tells), and no call for ASCII text without NUL, nearly all of it."""
        if isinstance(value, str):
            if "\x00" in value or not (value.isascii() or storable(value)):
                raise ValueError(UNSTORABLE)
        elif (
            isinstance(value, list)
            and value
            and isinstance(value[0], str)
            and not all(map(storable, value))
        ):
            raise ValueError(UNSTORABLE)
        return value


class PublicationInput(Strict):
    scheme: Literal["doi", "pmid"]
    identifier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

    @model_validator(mode="after")
    def _identifier_matches_scheme(self) -> PublicationInput:
        pattern = r"^10\.[0-9]{4,9}/\S+$" if self.scheme == "doi" else r"^[1-9][0-9]{0,9}$"
        if not re.match(pattern, self.identifier):
            raise ValueError(f"{self.identifier!r} is not a valid {self.scheme.upper()}")
        return self


class FunderInput(Strict):
    funder: Slug = Field(description="Slug of a funder organization.")
    award_number: Label | None = None


class DataUseInput(Strict):
    """A dataset's consent as DUO: one permission, its diseases (DS only), and modifiers."""

    permission: Literal["NRES", "GRU", "HMB", "DS", "POA"]
    diseases: list[Curie] = Field(default_factory=list, max_length=50)
    modifiers: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}$")]] = Field(
        default_factory=list, max_length=20
    )

    @model_validator(mode="after")
    def _diseases_only_for_ds(self) -> DataUseInput:
        if self.permission == "DS" and not self.diseases:
            raise ValueError("DS (disease-specific research) needs at least one MONDO disease")
        if self.permission != "DS" and self.diseases:
            raise ValueError("diseases qualify only the DS permission")
        if any(not d.startswith("MONDO:") for d in self.diseases):
            raise ValueError("DS diseases must be MONDO terms")
        return self


class DatasetFields(Strict):
    """Fields shared by create and update; each is optional here and required where noted."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] = ""
    keywords: list[Label] = Field(default_factory=list, max_length=100)
    diseases: list[Curie] = Field(default_factory=list, max_length=200)
    phenotypes: list[Curie] = Field(default_factory=list, max_length=200)
    data_types: list[Label] = Field(default_factory=list, max_length=50)
    file_formats: list[Label] = Field(default_factory=list, max_length=50)
    species: list[Label] = Field(default_factory=list, max_length=20)
    participant_count: int | None = Field(default=None, ge=0, le=2_000_000_000)
    sample_count: int | None = Field(default=None, ge=0, le=2_000_000_000)
    data_use: DataUseInput | None = None
    access_level: AccessLevel
    steward: Slug
    committee: Slug | None = None
    funders: list[FunderInput] = Field(default_factory=list, max_length=50)
    license: Label | None = None
    publications: list[PublicationInput] = Field(default_factory=list, max_length=200)

    @field_validator("keywords", "data_types", "file_formats", "species")
    @classmethod
    def _unique_in_order(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


class DatasetCreate(DatasetFields):
    accession: Accession | None = Field(
        default=None, description="Given by ingest to keep accessions stable; minted otherwise."
    )


NOT_NULLABLE_ON_UPDATE = (
    "title",
    "description",
    "keywords",
    "diseases",
    "phenotypes",
    "data_types",
    "file_formats",
    "species",
    "access_level",
    "funders",
    "publications",
)


class DatasetUpdate(Strict):
    """A partial update: fields left out keep their value; nullable fields can be cleared with
    an explicit null, the others cannot."""

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            cleared = [k for k in NOT_NULLABLE_ON_UPDATE if k in raw and raw[k] is None]
            if cleared:
                raise ValueError(
                    f"{', '.join(cleared)} cannot be null; leave a field out to keep it"
                )
        return raw

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = None
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] | None
    ) = None
    keywords: list[Label] | None = None
    diseases: list[Curie] | None = None
    phenotypes: list[Curie] | None = None
    data_types: list[Label] | None = None
    file_formats: list[Label] | None = None
    species: list[Label] | None = None
    participant_count: int | None = Field(default=None, ge=0, le=2_000_000_000)
    sample_count: int | None = Field(default=None, ge=0, le=2_000_000_000)
    data_use: DataUseInput | None = None
    access_level: AccessLevel | None = None
    committee: Slug | None = None
    funders: list[FunderInput] | None = None
    license: Label | None = None
    publications: list[PublicationInput] | None = None


class ChecksumInput(Strict):
    type: str
    checksum: str

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in CHECKSUM_FORMATS:
            return value
        normalised = value.strip().lower()
        normalised = CHECKSUM_TYPE_ALIASES.get(normalised, normalised)
        if normalised not in CHECKSUM_FORMATS:
            raise ValueError(
                f"unknown checksum type {value!r}; use one of {sorted(CHECKSUM_FORMATS)}"
            )
        return normalised

    @model_validator(mode="after")
    def _format_matches_type(self) -> ChecksumInput:
        """Nearly every checksum arrives normalised: then one match decides."""
        pattern = CHECKSUM_PATTERNS[self.type]
        if pattern.fullmatch(self.checksum):
            return self
        value = self.checksum.strip().lower()
        if not pattern.match(value):
            raise ValueError(f"{self.checksum!r} is not a valid {self.type} checksum")
        object.__setattr__(self, "checksum", value)
        return self


class AccessMethodInput(Strict):
    type: Literal["s3", "gs", "https", "file", "ftp", "gsiftp", "globus", "htsget"]
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
    access_id: DrsId | None = None
    region: Label | None = None

    @model_validator(mode="after")
    def _url_matches_type(self) -> AccessMethodInput:
        expected = URL_SCHEMES.get(self.type)
        if expected is not None and self.url[: len(expected) + 3].lower() != f"{expected}://":
            raise ValueError(f"a {self.type} access method needs a {expected}:// URL")
        if self.type == "file" and ".." in self.url.split("://", 1)[1].split("/"):
            raise ValueError("file URLs may not contain '..' segments")
        return self


class FileCreate(Strict):
    """A file to register as a DRS object."""

    id: DrsId | None = Field(default=None, description="Opaque DRS id; a UUID is minted if absent.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    size: int = Field(ge=0, le=2**63 - 1)
    checksums: list[ChecksumInput] = Field(min_length=1, max_length=8)
    mime_type: Label | None = None
    version: Label | None = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=512)]] = Field(
        default_factory=list, max_length=20
    )
    access_methods: list[AccessMethodInput] = Field(min_length=1, max_length=10)
    created_time: datetime | None = None

    @model_validator(mode="after")
    def _distinct_keys(self) -> FileCreate:
        """Runs for every ingested file, and most have a single access method."""
        sums, methods = self.checksums, self.access_methods
        if len(sums) > 1 and len({c.type for c in sums}) < len(sums):
            raise ValueError("each checksum type may appear once")
        if len(methods) > 1 and len({_access_id(m) for m in methods}) < len(methods):
            raise ValueError("access methods need distinct access ids")
        return self

    def checksum_values(self) -> dict[str, str]:
        """The checksums as ``drs_objects.checksums`` stores them: digests by type."""
        return {c.type: c.checksum for c in self.checksums}

    def access_method_rows(self) -> list[list[str | None]]:
        """The access methods as ``drs_objects.access_methods`` stores them: (access id, type,
        URL, region) rows in access id order, so that equal sets are equal arrays."""
        methods = self.access_methods
        if len(methods) > 1:
            methods = sorted(methods, key=_access_id)
        return [[_access_id(m), m.type, m.url, m.region] for m in methods]


def _access_id(method: AccessMethodInput) -> str:
    return method.access_id or method.type


class BundleMemberInput(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    object_id: DrsId


class BundleCreate(Strict):
    id: DrsId | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    members: list[BundleMemberInput] = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _distinct_members(self) -> BundleCreate:
        names = [m.name for m in self.members]
        if len(names) != len(set(names)):
            raise ValueError("member names must be unique within a bundle")
        ids = [m.object_id for m in self.members]
        if len(ids) != len(set(ids)):
            raise ValueError("an object may appear once in a bundle")
        return self


class OrganizationCreate(Strict):
    slug: Slug
    name: Label
    kind: OrganizationKind
    ror_id: Annotated[str, StringConstraints(pattern=r"^0[a-z0-9]{6}[0-9]{2}$")] | None = None


class CommitteeCreate(Strict):
    organization: Slug
    slug: Slug
    name: Label
