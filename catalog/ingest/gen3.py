"""Gen3 indexing manifests: a commons' indexd file index, exported as tab-separated values,
loaded as the files of one Atrium dataset.

Column mapping (header names are matched case-insensitively; the aliases are those the Gen3
SDK's indexing tools accept):

    Gen3 column                           Atrium
    guid                                  DRS id, or an alias of a minted id (see below)
    md5 (md5_hash, md5hash, md5sum,       the md5 checksum
        file_md5sum)
    size (file_size, filesize)            size in bytes
    urls (url)                            access methods, typed by URL scheme; access ids s3,
                                          gs, https, then s3-2, s3-3 ... when a type repeats
    file_name (filename)                  name; default: the last path segment of the first URL
    authz, acl                            checked to be equal on every row, then dropped

List cells (urls, authz, acl) are space-separated; Gen3's bracketed form ``['a', 'b']`` is
read too. Other columns are refused rather than silently dropped.

GUIDs: a DRS id may only use ``[A-Za-z0-9._~-]``. With ``ids="id"`` a GUID that fits is the DRS
id; a prefixed GUID such as ``dg.4503/6ff9...`` does not, so its id is the part after the last
``/`` and the whole GUID becomes an alias (DRS resolves aliases too). With ``ids="alias"`` every
file gets a minted UUID and its GUID as an alias; re-ingesting finds the file again by that
alias. Access in Atrium is decided per dataset, not per file, so a manifest that mixes authz or
acl values is refused: it has to be split into one dataset per value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from catalog.ingest.csv_records import decoded, table_rows
from catalog.ingest.problems import validation_messages
from catalog.ingest.records import Accepted, FileRecord, Parsed, Rejected, access_methods_from_urls
from catalog.models import DRS_ID_PATTERN

GuidMode = Literal["id", "alias"]

COLUMNS = {
    "guid": "guid",
    "md5": "md5",
    "md5_hash": "md5",
    "md5hash": "md5",
    "md5sum": "md5",
    "file_md5sum": "md5",
    "size": "size",
    "file_size": "size",
    "filesize": "size",
    "urls": "urls",
    "url": "urls",
    "file_name": "file_name",
    "filename": "file_name",
    "authz": "authz",
    "acl": "acl",
}
REQUIRED = ("guid", "md5", "size", "urls")
ACCESS_COLUMNS = ("authz", "acl")
_DRS_ID = re.compile(DRS_ID_PATTERN)
_FIELD_COLUMNS = (
    (r"^checksums(\[\d+\])?", "md5"),
    (r"^access_methods(\[\d+\])?.*", r"urls\1"),
    (r"^name", "file_name"),
    (r"^(id|aliases).*", "guid"),
)


def parse_manifest(lines: Iterable[bytes], *, dataset: str, ids: GuidMode) -> Iterator[Parsed]:
    undecodable: list[int] = []
    reader = csv.reader(decoded(lines, undecodable), delimiter="\t")
    header = [COLUMNS.get(name.strip().lower(), name.strip()) for name in next(reader, [])]
    problems = _header_problems(header)
    if problems:
        yield Rejected(1, problems)
        return
    first_access: dict[str, tuple[list[str], int]] = {}
    for item in table_rows(reader, header, undecodable):
        if isinstance(item, Rejected):
            yield item
            continue
        line, row = item
        problems = _access_problems(row, line, first_access)
        yield _file(line, row, dataset, ids, problems)


def _header_problems(header: list[str]) -> list[str]:
    problems = []
    unknown = [name for name in header if name not in COLUMNS.values()]
    if unknown:
        known = ", ".join(sorted(set(COLUMNS)))
        problems.append(f"unknown Gen3 manifest columns: {', '.join(unknown)}; known: {known}")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        problems.append(f"missing Gen3 manifest columns: {', '.join(missing)}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"columns given twice (or under two names): {', '.join(repeated)}")
    return problems


def _access_problems(
    row: dict[str, str], line: int, first: dict[str, tuple[list[str], int]]
) -> list[str]:
    """Access is decided per dataset, so every row must carry the first row's authz and acl."""
    problems = []
    for column in ACCESS_COLUMNS:
        if column not in row:
            continue
        value = sorted(set(_items(row[column])))
        seen, seen_on = first.setdefault(column, (value, line))
        if value != seen:
            problems.append(
                f"{column}: {value} differs from {seen} on line {seen_on}; Atrium decides access"
                " per dataset, so split the manifest into one dataset per value"
            )
    return problems


def _file(
    line: int, row: dict[str, str], dataset: str, ids: GuidMode, problems: list[str]
) -> Parsed:
    guid = row["guid"]
    urls = _items(row["urls"])
    methods, url_problems = access_methods_from_urls(urls, None)
    problems += url_problems
    data: dict[str, Any] = {
        "dataset": dataset,
        "size": row["size"],
        "checksums": [{"type": "md5", "checksum": row["md5"]}],
        "access_methods": methods,
    }
    name = row.get("file_name") or (_last_segment(urls[0]) if urls else "")
    if name:
        data["name"] = name
    elif urls:
        problems.append("file_name: empty, and the first URL does not end in a file name")
    if not guid:
        problems.append("guid: required")
    elif ids == "alias":
        data["aliases"] = [guid]
    elif _DRS_ID.match(guid):
        data["id"] = guid
    elif _DRS_ID.match(tail := guid.rsplit("/", 1)[-1]):
        data["id"], data["aliases"] = tail, [guid]
    else:
        problems.append(
            f"guid: {guid!r} cannot be a DRS id; ingest with Gen3 GUIDs as aliases instead"
        )
    try:
        record = FileRecord.model_validate(data)
    except ValidationError as error:
        covered = {problem.split(":", 1)[0] for problem in problems}
        found = validation_messages(error, rename=_column)
        return Rejected(line, problems + [m for m in found if m.split(":", 1)[0] not in covered])
    return Rejected(line, problems) if problems else Accepted(line, record)


def _column(path: str) -> str:
    for pattern, column in _FIELD_COLUMNS:
        if re.match(pattern, path):
            return re.sub(pattern, column, path)
    return path


def _items(cell: str) -> list[str]:
    """A Gen3 list cell: ``a b`` or ``['a', 'b']`` (also ``[u'a']``, as Python 2 wrote it)."""
    inner = cell.strip().removeprefix("[").removesuffix("]")
    items = []
    for part in re.split(r"[\s,]+", inner):
        item = part[1:] if part[:2] in ("u'", 'u"') else part
        item = item.strip("'\"")
        if item:
            items.append(item)
    return items


def _last_segment(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])
