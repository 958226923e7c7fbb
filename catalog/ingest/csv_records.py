"""CSV ingest. The header row decides what the rows are: a ``title`` column makes them datasets,
``dataset``, ``name`` and ``size`` columns make them files. List cells hold values separated by
``|``; an empty cell is an absent value. Problems name the file's own columns, so a steward can
find the cell to fix.
"""

from __future__ import annotations

import _csv
import csv
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from catalog.ingest.problems import validation_messages
from catalog.ingest.records import (
    Accepted,
    DatasetRecord,
    FileRecord,
    Parsed,
    Rejected,
    access_methods_from_urls,
)

DATASET_COLUMNS = (
    "accession",
    "title",
    "description",
    "keywords",
    "diseases",
    "phenotypes",
    "data_types",
    "file_formats",
    "species",
    "participant_count",
    "sample_count",
    "data_use_permission",
    "data_use_diseases",
    "data_use_modifiers",
    "access_level",
    "steward",
    "committee",
    "funders",
    "license",
    "publications",
    "status",
)
FILE_COLUMNS = (
    "dataset",
    "id",
    "name",
    "size",
    "sha256",
    "md5",
    "crc32c",
    "etag",
    "mime_type",
    "version",
    "description",
    "aliases",
    "urls",
    "region",
    "created_time",
)
DATASET_LISTS = ("keywords", "diseases", "phenotypes", "data_types", "file_formats", "species")
CHECKSUM_COLUMNS = {"sha256": "sha-256", "md5": "md5", "crc32c": "crc32c", "etag": "etag"}

Row = dict[str, str]


def parse_csv(lines: Iterable[bytes]) -> Iterator[Parsed]:
    """Rows of a CSV file; a row's line is the physical line it starts on (the header is 1)."""
    undecodable: list[int] = []
    reader = csv.reader(decoded(lines, undecodable))
    header = [name.strip() for name in next(reader, [])]
    convert = _converter(header)
    if isinstance(convert, Rejected):
        yield convert
        return
    for item in table_rows(reader, header, undecodable):
        if isinstance(item, Rejected):
            yield item
        else:
            line, row = item
            yield convert(line, {k: v for k, v in row.items() if v})


def table_rows(
    reader: _csv.Reader, header: list[str], undecodable: list[int]
) -> Iterator[tuple[int, Row] | Rejected]:
    """The rows after the header as (line, stripped cells by column), skipping blank rows and
    refusing undecodable or misshapen ones; shared by CSV files and Gen3 manifests."""
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if undecodable and undecodable[-1] >= line:
            yield Rejected(line, ["the line is not valid UTF-8"])
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield Rejected(line, [f"{len(cells)} cells, but the header has {len(header)}"])
            continue
        yield line, {k: v.strip() for k, v in zip(header, cells, strict=True)}


def decoded(lines: Iterable[bytes], undecodable: list[int]) -> Iterator[str]:
    """Lines as text; the numbers of lines that are not UTF-8 go to ``undecodable`` (a byte
    order mark on the first line, as spreadsheets write it, is dropped)."""
    for number, raw in enumerate(lines, 1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            undecodable.append(number)
            yield raw.decode("utf-8", errors="replace")


def _converter(header: list[str]) -> Callable[[int, Row], Parsed] | Rejected:
    kind: str
    known: tuple[str, ...]
    convert: Callable[[int, Row], Parsed]
    if "title" in header:
        kind, known, convert = "dataset", DATASET_COLUMNS, _dataset
    elif {"dataset", "name", "size"} <= set(header):
        kind, known, convert = "file", FILE_COLUMNS, _file
    else:
        return Rejected(
            1,
            [
                "the header names neither datasets (a title column) nor files"
                " (dataset, name and size columns)"
            ],
        )
    unknown = [name for name in header if name not in known]
    repeated = sorted({name for name in header if header.count(name) > 1})
    messages = []
    if unknown:
        messages.append(f"unknown {kind} columns: {', '.join(unknown)}; known: {', '.join(known)}")
    if repeated:
        messages.append(f"repeated columns: {', '.join(repeated)}")
    return Rejected(1, messages) if messages else convert


def _dataset(line: int, row: Row) -> Parsed:
    data: dict[str, Any] = {
        key: value for key, value in row.items() if not key.startswith("data_use_")
    }
    problems: list[str] = []
    for key in DATASET_LISTS:
        if key in row:
            data[key] = _list(row[key])
    data_use = {
        key.removeprefix("data_use_"): value if key == "data_use_permission" else _list(value)
        for key, value in row.items()
        if key.startswith("data_use_")
    }
    if data_use:
        data["data_use"] = data_use
    if "funders" in row:
        data["funders"] = [
            {"funder": slug, "award_number": award or None}
            for slug, _, award in (f.partition("=") for f in _list(row["funders"]))
        ]
    if "publications" in row:
        data["publications"] = []
        for i, cited in enumerate(_list(row["publications"])):
            scheme, _, identifier = cited.partition(":")
            if scheme.lower() in ("doi", "pmid") and identifier:
                data["publications"].append({"scheme": scheme.lower(), "identifier": identifier})
            else:
                problems.append(f"publications[{i}]: {cited!r} is not doi:10.x/y or pmid:123")
    return _validated(line, DatasetRecord, data, problems, _dataset_column, row.get("accession"))


def _file(line: int, row: Row) -> Parsed:
    data: dict[str, Any] = {
        key: value for key, value in row.items() if key not in CHECKSUM_COLUMNS and key != "urls"
    }
    data.pop("region", None)
    columns = [column for column in CHECKSUM_COLUMNS if column in row]
    data["checksums"] = [{"type": CHECKSUM_COLUMNS[c], "checksum": row[c]} for c in columns]
    data["aliases"] = _list(row.get("aliases", ""))
    data["access_methods"], problems = access_methods_from_urls(
        _list(row.get("urls", "")), row.get("region")
    )

    def column(path: str) -> str:
        found = re.match(r"checksums\[(\d+)\]", path)
        if found and int(found[1]) < len(columns):
            return columns[int(found[1])]
        if path == "checksums":
            return " or ".join(CHECKSUM_COLUMNS)
        if re.match(r"access_methods\[\d+\]\.region", path):
            return "region"
        return re.sub(r"^access_methods(\[\d+\])?.*", r"urls\1", path)

    return _validated(line, FileRecord, data, problems, column, None)


def _validated(
    line: int,
    model: type[DatasetRecord] | type[FileRecord],
    data: dict[str, Any],
    problems: list[str],
    column: Callable[[str], str],
    declares: str | None,
) -> Parsed:
    try:
        record = model.model_validate(data)
    except ValidationError as error:
        return Rejected(line, problems + validation_messages(error, rename=column), declares)
    if problems:
        return Rejected(line, problems, declares)
    return Accepted(line, record)


def _dataset_column(path: str) -> str:
    """A dataset model path as the CSV column that fed it."""
    if path.startswith("data_use"):
        rest = path.removeprefix("data_use").lstrip(".")
        return "data_use_" + rest if rest else "data_use_permission"
    return re.sub(r"^(funders|publications)(\[\d+\]).*", r"\1\2", path)


def _list(cell: str) -> list[str]:
    return [value.strip() for value in cell.split("|") if value.strip()]
