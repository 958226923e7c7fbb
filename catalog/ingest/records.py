"""What an ingest line holds, and the JSON Lines parser.

Each record kind is the API's input model plus the keys a line needs to stand on its own (its
``type`` and the ``dataset`` it belongs to), so a line is validated by exactly the rules of the
GraphQL mutations. Parsers only validate the shape of a line; whether its dataset, steward or
terms exist is decided by the loaders, which see the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, TypeAdapter, ValidationError

from catalog.ingest.problems import validation_messages
from catalog.schemas import Accession, BundleCreate, DatasetCreate, FileCreate


class DatasetRecord(DatasetCreate):
    type: Literal["dataset"] = "dataset"
    accession: Accession = Field(description="Required: an ingest must be re-runnable.")
    status: Literal["draft", "published"] = Field(
        default="draft",
        description="published publishes the dataset; draft leaves publication as it is.",
    )


class FileRecord(FileCreate):
    type: Literal["file"] = "file"
    dataset: Accession


class BundleRecord(BundleCreate):
    type: Literal["bundle"] = "bundle"
    dataset: Accession


Record = DatasetRecord | FileRecord | BundleRecord
RECORDS: TypeAdapter[Record] = TypeAdapter(Annotated[Record, Field(discriminator="type")])


@dataclass(frozen=True, slots=True)
class Accepted:
    line: int
    record: Record


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    messages: list[str]
    declares: str | None = field(default=None)
    """The accession a refused dataset line declared: its files are not reported again."""


Parsed = Accepted | Rejected

ACCESS_TYPES_BY_SCHEME = {"s3": "s3", "gs": "gs", "https": "https", "file": "file", "ftp": "ftp"}


def parse_jsonl(lines: Iterable[bytes]) -> Iterator[Parsed]:
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            yield Accepted(number, RECORDS.validate_json(raw))
        except ValidationError as error:
            yield Rejected(number, validation_messages(error, skip=1), _declared(raw))


def parse_mappings(records: Iterable[Mapping[str, Any]]) -> Iterator[Parsed]:
    """Records already parsed from JSON (the demo generator); a record's number is its line."""
    for number, raw in enumerate(records, 1):
        try:
            yield Accepted(number, RECORDS.validate_python(raw))
        except ValidationError as error:
            yield Rejected(number, validation_messages(error, skip=1), _declared(raw))


def access_methods_from_urls(
    urls: Sequence[str], region: str | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Access methods typed by URL scheme, with access ids s3, gs, https, then s3-2, s3-3 when
    a type repeats; and a problem for each URL whose scheme has no access method type."""
    methods: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, url in enumerate(urls):
        kind = ACCESS_TYPES_BY_SCHEME.get(urlsplit(url).scheme.lower())
        if kind is None:
            problems.append(
                f"urls[{i}]: {url!r} is not an s3://, gs://, https://, file:// or ftp:// URL"
            )
            continue
        seen[kind] = seen.get(kind, 0) + 1
        access_id = kind if seen[kind] == 1 else f"{kind}-{seen[kind]}"
        methods.append({"type": kind, "url": url, "access_id": access_id, "region": region})
    return methods, problems


def _declared(raw: bytes | Mapping[str, Any]) -> str | None:
    """The accession a dataset line meant to declare, read leniently from a refused line."""
    try:
        value = json.loads(raw) if isinstance(raw, bytes) else raw
    except ValueError:
        return None
    if isinstance(value, Mapping) and value.get("type") == "dataset":
        accession = value.get("accession")
        return accession.strip() if isinstance(accession, str) else None
    return None
