"""Dataset pages built as JSON by Postgres (docs/adr/0008-dataset-pages-as-json.md).

graphql-core executes a page of 100 datasets with ten files each field by field: ~6,300
fields and ~148 ms of CPU, so two cores served ~13 such pages a second. When every field a
``datasets`` or ``dataset`` selection asks for is one this module knows, the resolver compiles
the selection into one statement whose rows are the nodes' JSON and returns the answer as an
``orjson.Fragment``, which execution passes through untouched (``api.graphql.execution``).

Who may see what stays decided in Python, by the functions the field resolvers call, once per
dataset; the statement receives the answers as arrays. A selection with anything this module
does not know (another field, an argument the resolver would refuse) returns ``None`` and
takes the general path, which stays the definition of every field: tests hold the two equal,
role by role.

The SQL lives here rather than in ``catalog.repository`` because it is a translation of the
request's selection: a field's SQL and its GraphQL name are one entry of a table below.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import FieldNode, GraphQLObjectType, GraphQLResolveInfo, get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values
from sqlalchemy import text

from api.graphql.access import page_access
from api.graphql.catalog.types import MAX_FILES_PAGE, ctx, files_cursor_id
from api.graphql.catalog_memo import text_size
from api.graphql.context import Context
from catalog.errors import Invalid
from catalog.models import CHECKSUM_FORMATS
from catalog.schemas import PERMISSION_CODES

# json_build_object takes at most 100 arguments: 50 keys.
MAX_KEYS = 50


class NotCompiled(Exception):
    """The selection asks for something only the general path answers."""


@dataclass
class Statement:
    """The SQL being compiled for one request: its bound values, and whether any expression
    reads the datasets' file totals (joined once, whatever reads them)."""

    info: GraphQLResolveInfo
    hostname: str
    values: dict[str, Any] = field(default_factory=dict)
    totals: bool = False

    def bind(self, value: Any) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f":{name}"

    def selected(self, object_type: GraphQLObjectType, nodes: list[FieldNode]) -> dict[str, Any]:
        """The sub-fields of ``nodes`` by response key, fragments and directives applied as
        graphql-core applies them."""
        info = self.info
        return collect_sub_fields(
            info.schema, info.fragments, info.variable_values, object_type, nodes
        )


Compile = Callable[[Statement, GraphQLObjectType, list[FieldNode]], str]
"""A field's SQL expression; given the field's own type (named) and its nodes."""


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def json_text(value: str) -> str:
    """A SQL literal of ``value`` as JSON text."""
    return literal(orjson.dumps(value).decode())


def json_object(
    statement: Statement,
    object_type: GraphQLObjectType,
    nodes: list[FieldNode],
    fields: dict[str, Compile],
) -> str:
    pairs: list[str] = []
    for key, key_nodes in statement.selected(object_type, nodes).items():
        name = key_nodes[0].name.value
        if name == "__typename":
            expression = literal(object_type.name)
        elif name in fields:
            field_type = get_named_type(object_type.fields[name].type)
            expression = fields[name](statement, field_type, key_nodes)
        else:
            raise NotCompiled(name)
        pairs += [literal(key), expression]
    if len(pairs) > 2 * MAX_KEYS:
        raise NotCompiled("too many keys for json_build_object")
    return f"json_build_object({', '.join(pairs)})"


def column(sql: str) -> Compile:
    """A field whose value is ``sql``, an expression over the rows in scope."""
    return lambda _statement, _type, _nodes: sql


def iso_time(sql: str) -> Compile:
    """``datetime.isoformat()`` of a UTC time, as graphene's DateTime writes it: the fraction
    only when there is one, always six digits then."""
    utc = f"({sql} AT TIME ZONE 'UTC')"
    return column(
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_part('microseconds', {utc})::bigint % 1000000 = 0 THEN ''"
        f" ELSE to_char({utc}, '.US') END || '+00:00')"
    )


def enum_name(sql: str) -> Compile:
    """graphene names enum members in upper case; the database stores their lower-case
    values."""
    return column(f"upper({sql}::text)")


def nested(fields: dict[str, Compile], source: Callable[[str], str]) -> Compile:
    """An object field: ``source(json)`` wraps the object's JSON in the query that finds its
    row (a list field aggregates)."""

    def compile_nested(
        statement: Statement, object_type: GraphQLObjectType, nodes: list[FieldNode]
    ) -> str:
        return source(json_object(statement, object_type, nodes, fields))

    return compile_nested


def organization(alias: str) -> dict[str, Compile]:
    return {
        "id": column(f"{alias}.id"),
        "slug": column(f"{alias}.slug"),
        "name": column(f"{alias}.name"),
        "kind": enum_name(f"{alias}.kind"),
        "rorId": column(f"{alias}.ror_id"),
    }


def ontology_term(alias: str) -> dict[str, Compile]:
    return {
        "curie": column(f"{alias}.curie"),
        "label": column(f"{alias}.label"),
        "code": column(f"{alias}.code"),
        "synonyms": column(f"to_json({alias}.synonyms)"),
    }


def terms(role: str) -> Compile:
    """In CURIE order, as ``repository.terms_of_datasets`` returns them. Each term is found by
    its key: joined, Postgres hashed the whole ontology table once per dataset (4x slower)."""
    return nested(
        ontology_term("tt"),
        lambda item: (
            "coalesce((SELECT json_agg("
            f"(SELECT {item} FROM ontology_terms tt WHERE tt.curie = tl.curie) ORDER BY tl.curie)"
            " FROM dataset_terms tl"
            f" WHERE tl.dataset_id = ds.id AND tl.role = {literal(role)}), '[]'::json)"
        ),
    )


PERMISSIONS = ", ".join(literal(code) for code in PERMISSION_CODES)

DATA_USE: dict[str, Compile] = {
    "permission": nested(ontology_term("pt"), lambda item: item),
    # The permission's own rows' qualifiers, in the order given, that name a known term.
    "diseases": nested(
        ontology_term("qt"),
        lambda item: (
            f"coalesce((SELECT json_agg({item} ORDER BY qu.id) FROM dataset_data_use qu"
            " JOIN ontology_terms qt ON qt.curie = qu.qualifier"
            " WHERE qu.dataset_id = ds.id AND qu.duo_id = pt.curie), '[]'::json)"
        ),
    ),
    "modifiers": nested(
        ontology_term("mt"),
        lambda item: (
            f"coalesce((SELECT json_agg({item} ORDER BY mu.id) FROM dataset_data_use mu"
            " JOIN ontology_terms mt ON mt.curie = mu.duo_id WHERE mu.dataset_id = ds.id"
            f" AND (mt.code IS NULL OR mt.code NOT IN ({PERMISSIONS}))), '[]'::json)"
        ),
    ),
}
"""``Dataset.resolve_data_use``: the first row (by id) whose term is a permission names it;
null without one."""


def data_use(statement: Statement, use: GraphQLObjectType, nodes: list[FieldNode]) -> str:
    item = json_object(statement, use, nodes, DATA_USE)
    return (
        f"(SELECT {item} FROM (SELECT pu.duo_id FROM dataset_data_use pu"
        " JOIN ontology_terms pc ON pc.curie = pu.duo_id"
        f" WHERE pu.dataset_id = ds.id AND pc.code IN ({PERMISSIONS}) ORDER BY pu.id LIMIT 1) p"
        " JOIN ontology_terms pt ON pt.curie = p.duo_id)"
    )


COMMITTEE: dict[str, Compile] = {
    "id": column("cm.id"),
    "slug": column("cm.slug"),
    "name": column("cm.name"),
    "organization": nested(
        organization("co"),
        lambda item: f"(SELECT {item} FROM organizations co WHERE co.id = cm.organization_id)",
    ),
}
"""Its ``rules`` come from ``governance.committees.effective_rules``: not compiled."""

FUNDING: dict[str, Compile] = {
    "funder": nested(organization("fo"), lambda item: item),
    "awardNumber": column("fl.award_number"),
}


def checksums(statement: Statement, checksum: GraphQLObjectType, nodes: list[FieldNode]) -> str:
    """Sorted by type as Python sorts strings (``DrsObject.resolve_checksums``). The types are
    a closed set and the digests hex (constraints hold the column to both), so each type is
    tested in that order and its object written as text, needing no escapes: a subquery that
    sorted the column's pairs into ``json_build_object`` cost six times as much."""
    selected = statement.selected(checksum, nodes)
    for key, key_nodes in selected.items():
        if key_nodes[0].name.value not in ("type", "checksum", "__typename"):
            raise NotCompiled(key)

    def item(kind: str) -> str:
        values = {
            "type": json_text(kind),
            "checksum": f"'\"' || (fp.checksums ->> {literal(kind)}) || '\"'",
            "__typename": json_text(checksum.name),
        }
        pairs = " || ',' || ".join(
            f"{literal(orjson.dumps(key).decode() + ':')} || {values[key_nodes[0].name.value]}"
            for key, key_nodes in selected.items()
        )
        return f"'{{' || {pairs} || '}}'" if pairs else "'{}'"

    tested = ", ".join(
        f"CASE WHEN fp.checksums ? {literal(kind)} THEN {item(kind)} END"
        for kind in sorted(CHECKSUM_FORMATS)
    )
    return f"('[' || concat_ws(',', {tested}) || ']')::json"


SHORT_LISTS = 2
"""Access methods a file lists without a subquery; nearly every file has one or two."""


def access_method(index: str) -> dict[str, Compile]:
    def part(position: int) -> str:
        return f"fp.access_methods[{index}][{position}]"

    return {
        "type": column(part(2)),
        "accessId": column(part(1)),
        "url": column(f"CASE WHEN pg.stewarded THEN {part(3)} END"),
        "region": column(part(4)),
    }


def access_methods(statement: Statement, method: GraphQLObjectType, nodes: list[FieldNode]) -> str:
    """In stored order (by access id). Up to ``SHORT_LISTS`` they are read by position (a
    subquery per file cost twice as much); longer lists take the subquery."""
    count = "coalesce(array_length(fp.access_methods, 1), 0)"
    short = ", ".join(
        f"CASE WHEN {count} >= {i} THEN"
        f" ({json_object(statement, method, nodes, access_method(str(i)))})::text END"
        for i in range(1, SHORT_LISTS + 1)
    )
    item = json_object(statement, method, nodes, access_method("am"))
    return (
        f"CASE WHEN {count} <= {SHORT_LISTS} THEN ('[' || concat_ws(',', {short}) || ']')::json"
        f" ELSE (SELECT json_agg({item} ORDER BY am)"
        " FROM generate_subscripts(fp.access_methods, 1) am) END"
    )


def drs_uri(statement: Statement, _type: GraphQLObjectType, _nodes: list[FieldNode]) -> str:
    """Ids hold unreserved characters only (DRS_ID_CHECK), which ``self_uri`` never quotes."""
    return f"'drs://' || {statement.bind(statement.hostname)} || '/' || fp.id"


DRS_OBJECT: dict[str, Compile] = {
    "id": column("fp.id"),
    "drsUri": drs_uri,
    "name": column("fp.name"),
    "size": column("fp.size"),
    "isBundle": column("fp.is_bundle"),
    "mimeType": column("fp.mime_type"),
    "version": column("fp.version"),
    "description": column("fp.description"),
    "createdTime": iso_time("fp.created_time"),
    "updatedTime": iso_time("fp.updated_time"),
    "checksums": checksums,
    "aliases": column(
        "coalesce((SELECT json_agg(al.alias ORDER BY al.alias)"
        " FROM drs_aliases al WHERE al.object_id = fp.id), '[]'::json)"
    ),
    "accessMethods": access_methods,
}


def file_cursor(sql: str) -> str:
    """``encode_cursor(["files", id])``: URL-safe base64 of the compact JSON it writes (ids
    need no escaping), without the line breaks Postgres puts in base64."""
    payload = f"convert_to('[\"files\",\"' || {sql} || '\"]', 'UTF8')"
    return f"translate(encode({payload}, 'base64'), E'+/\\n', '-_')"


def files(statement: Statement, connection: GraphQLObjectType, nodes: list[FieldNode]) -> str:
    """The first page of the dataset's objects by id, as ``Dataset.resolve_files`` pages them;
    empty where the caller may not list them. ``GROUP BY ()`` makes one row of no objects."""
    dataset_type = statement.info.schema.get_type("Dataset")
    assert isinstance(dataset_type, GraphQLObjectType)
    arguments = get_argument_values(
        dataset_type.fields["files"], nodes[0], statement.info.variable_values
    )
    first = arguments["first"]
    if not isinstance(first, int) or not 1 <= first <= MAX_FILES_PAGE:
        raise NotCompiled("first is not a page size")
    after = _after_id(arguments.get("after"))
    limit = statement.bind(first)
    within = f"fp.position <= {limit}"
    statement.totals = True

    def edges(_s: Statement, edge: GraphQLObjectType, edge_nodes: list[FieldNode]) -> str:
        item = json_object(
            statement,
            edge,
            edge_nodes,
            {"cursor": column(file_cursor("fp.id")), "node": nested(DRS_OBJECT, lambda n: n)},
        )
        return f"coalesce(json_agg({item} ORDER BY fp.id) FILTER (WHERE {within}), '[]'::json)"

    page_info = nested(
        {
            "hasNextPage": column(f"count(*) > {limit}"),
            "hasPreviousPage": column("false"),
            "startCursor": column(file_cursor("min(fp.id) FILTER (WHERE fp.position = 1)")),
            "endCursor": column(file_cursor(f"max(fp.id) FILTER (WHERE {within})")),
        },
        lambda item: item,
    )
    envelope = json_object(
        statement,
        connection,
        nodes,
        {
            "totalCount": column("CASE WHEN pg.listable THEN totals.objects ELSE 0 END"),
            "edges": edges,
            "pageInfo": page_info,
        },
    )
    bound = f" AND ob.id > {statement.bind(after)}" if after is not None else ""
    return (
        f"(SELECT {envelope} FROM (SELECT ob.*, row_number() OVER (ORDER BY ob.id) AS position"
        f" FROM drs_objects ob WHERE ob.dataset_id = ds.id AND pg.listable{bound}"
        f" ORDER BY ob.id LIMIT {limit} + 1) fp GROUP BY ())"
    )


def _after_id(after: str | None) -> str | None:
    try:
        return files_cursor_id(after) if after is not None else None
    except Invalid:
        raise NotCompiled("after is not a cursor of this list") from None


def totals(sql: str) -> Compile:
    def compile_total(statement: Statement, _type: GraphQLObjectType, _n: list[FieldNode]) -> str:
        statement.totals = True
        return sql

    return compile_total


DATASET: dict[str, Compile] = {
    "id": column("ds.id"),
    "accession": column("ds.accession"),
    "title": column("ds.title"),
    "description": column("ds.description"),
    "keywords": column("to_json(ds.keywords)"),
    "diseases": terms("disease"),
    "phenotypes": terms("phenotype"),
    "dataTypes": column("to_json(ds.data_types)"),
    "fileFormats": column("to_json(ds.file_formats)"),
    "species": column("to_json(ds.species)"),
    "participantCount": column("ds.participant_count"),
    "sampleCount": column("ds.sample_count"),
    "dataUse": data_use,
    "accessLevel": enum_name("ds.access_level"),
    "steward": nested(
        organization("st"),
        lambda item: f"(SELECT {item} FROM organizations st WHERE st.id = ds.steward_id)",
    ),
    # By funder name, then in the order they were linked (``repository.funders_of_datasets``).
    "funders": nested(
        FUNDING,
        lambda item: (
            f"coalesce((SELECT json_agg({item} ORDER BY fo.name, fl.id)"
            " FROM dataset_funders fl JOIN organizations fo ON fo.id = fl.funder_id"
            " WHERE fl.dataset_id = ds.id), '[]'::json)"
        ),
    ),
    "committee": nested(
        COMMITTEE, lambda item: f"(SELECT {item} FROM committees cm WHERE cm.id = ds.committee_id)"
    ),
    "license": column("ds.license"),
    "status": enum_name("ds.status"),
    "version": column("ds.version"),
    "createdAt": iso_time("ds.created_at"),
    "updatedAt": iso_time("ds.updated_at"),
    "publishedAt": iso_time("ds.published_at"),
    "retiredAt": iso_time("ds.retired_at"),
    "retiredReason": column("ds.retired_reason"),
    "fileCount": totals("totals.files"),
    "totalBytes": totals("totals.bytes"),
    "canReadFiles": column("pg.listable"),
    "canDownload": column("pg.download"),
    "files": files,
}

TOTALS = (
    " LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE NOT t.is_bundle) AS files,"
    " coalesce(sum(t.size) FILTER (WHERE NOT t.is_bundle), 0) AS bytes, count(*) AS objects"
    " FROM drs_objects t WHERE t.dataset_id = ds.id) totals ON true"
)


@dataclass
class Nodes:
    """The compiled nodes of one selection: a column of JSON per response key that asks for
    the dataset (``node`` twice under two aliases is two columns)."""

    statement: Statement
    columns: list[str]

    def shape(self) -> bytes:
        """What the nodes' JSON depends on besides the catalog and the dataset's access: the
        statement and its values, as a digest, so that memo keys stay small."""
        text = orjson.dumps([self.columns, self.statement.values], default=str)
        return hashlib.blake2b(text, digest_size=16).digest()

    def rows(self, info: GraphQLResolveInfo, datasets: Sequence[Any]) -> list[tuple[str, ...]]:
        """Each dataset's JSON per column, in the order given: from the memo where the same
        selection of the same dataset with the same access flags was built at this catalog
        generation, from one statement for the others."""
        if not datasets or not self.columns:
            return [() for _ in datasets]
        context = ctx(info)
        context.loaders.catalog.active_grant_by_dataset_id.load(d.id for d in datasets)
        shape = self.shape()
        flags = page_access(context, datasets)
        keys: list[NodeKey] = [(shape, d.id, *f) for d, f in zip(datasets, flags, strict=True)]
        memo = context.memo
        generation = context.generation() if memo is not None else 0
        found: dict[NodeKey, tuple[str, ...]] = (
            memo.get_many(generation, keys) if memo is not None else {}
        )
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            built = dict(zip(missing, self._build(context, missing), strict=True))
            found.update(built)
            if memo is not None:
                context.keep(built, text_size)
        return [found[k] for k in keys]

    def _build(self, context: Context, keys: list[NodeKey]) -> list[tuple[str, ...]]:
        values = {
            **self.statement.values,
            "ids": [str(k[1]) for k in keys],
            "listable": [k[2] for k in keys],
            "download": [k[3] for k in keys],
            "stewarded": [k[4] for k in keys],
        }
        selected = ", ".join(f"({c})::text" for c in self.columns)
        sql = (
            f"SELECT {selected} FROM unnest(CAST(:ids AS uuid[]), CAST(:listable AS boolean[]),"
            " CAST(:download AS boolean[]), CAST(:stewarded AS boolean[])) WITH ORDINALITY"
            " AS pg(id, listable, download, stewarded, position)"
            " JOIN datasets ds ON ds.id = pg.id"
            f"{TOTALS if self.statement.totals else ''} ORDER BY pg.position"
        )
        return [tuple(row) for row in context.session.execute(text(sql), values)]


NodeKey = tuple[bytes, uuid.UUID, bool, bool, bool]
"""The compiled selection and its values, the dataset, and the caller's three access flags:
everything a node's JSON depends on besides the catalog."""


def compile_nodes(
    statement: Statement, dataset: GraphQLObjectType, node_nodes: list[list[FieldNode]]
) -> Nodes:
    return Nodes(
        statement, [json_object(statement, dataset, nodes, DATASET) for nodes in node_nodes]
    )


def new_statement(info: GraphQLResolveInfo) -> Statement:
    return Statement(info, ctx(info).drs.hostname)


def dataset_node(info: GraphQLResolveInfo, dataset: Any) -> orjson.Fragment | None:
    """``dataset(...)``'s answer for a dataset the caller may see, or ``None`` for the
    general path."""
    dataset_type = get_named_type(info.return_type)
    assert isinstance(dataset_type, GraphQLObjectType)
    statement = new_statement(info)
    try:
        nodes = compile_nodes(statement, dataset_type, [list(info.field_nodes)])
    except NotCompiled:
        return None
    (row,) = nodes.rows(info, [dataset])
    return orjson.Fragment(row[0])


@dataclass(frozen=True)
class Page:
    """A page of datasets the resolver found, with what a connection says about it."""

    datasets: Sequence[Any]
    cursors: Sequence[str]
    has_next: bool
    total_count: Callable[[], int]


def dataset_connection(
    info: GraphQLResolveInfo, read_page: Callable[[], Page]
) -> orjson.Fragment | None:
    """``datasets(...)``'s answer, or ``None`` for the general path; ``read_page`` runs only
    once the selection has compiled."""
    connection = get_named_type(info.return_type)
    assert isinstance(connection, GraphQLObjectType)
    statement = new_statement(info)
    try:
        return _connection(statement, connection, list(info.field_nodes), read_page)
    except NotCompiled:
        return None


def _connection(
    statement: Statement,
    connection: GraphQLObjectType,
    nodes: list[FieldNode],
    read_page: Callable[[], Page],
) -> orjson.Fragment:
    """The envelope is built here and the nodes by Postgres; every field is compiled before
    anything is read, so a selection that falls back has cost no statement."""
    answer: dict[str, Any] = {}
    counted: list[str] = []
    pages_info: dict[str, tuple[GraphQLObjectType, dict[str, str]]] = {}
    edges: dict[str, list[EdgePart]] = {}
    node_selections: list[list[FieldNode]] = []
    for key, key_nodes in statement.selected(connection, nodes).items():
        name = key_nodes[0].name.value
        if name == "__typename":
            answer[key] = connection.name
        elif name == "totalCount":
            answer[key] = None
            counted.append(key)
        elif name == "pageInfo":
            answer[key] = None
            page_info = _object_type(connection, name)
            pages_info[key] = (page_info, _page_info_keys(statement, page_info, key_nodes))
        elif name == "edges":
            answer[key] = None
            edge = _object_type(connection, name)
            edges[key] = _edge_parts(statement, edge, key_nodes, node_selections)
        else:
            raise NotCompiled(name)
    dataset = statement.info.schema.get_type("Dataset")
    assert isinstance(dataset, GraphQLObjectType)
    compiled = compile_nodes(statement, dataset, node_selections)
    page = read_page()
    for key, (page_info, keys) in pages_info.items():
        answer[key] = _page_info(page, page_info, keys)
    for key in counted:
        answer[key] = page.total_count()
    rows = compiled.rows(statement.info, page.datasets)
    for key, parts in edges.items():
        answer[key] = [
            {part.key: part.value(cursor, row) for part in parts}
            for cursor, row in zip(page.cursors, rows, strict=True)
        ]
    return orjson.Fragment(orjson.dumps(answer))


def _object_type(parent: GraphQLObjectType, name: str) -> GraphQLObjectType:
    found = get_named_type(parent.fields[name].type)
    assert isinstance(found, GraphQLObjectType)
    return found


@dataclass(frozen=True)
class EdgePart:
    """One key of a dataset edge: its cursor, its type name, or a node (a column of rows)."""

    key: str
    kind: str
    column: int = 0
    typename: str = ""

    def value(self, cursor: str, row: tuple[str, ...]) -> Any:
        if self.kind == "cursor":
            return cursor
        if self.kind == "node":
            return orjson.Fragment(row[self.column])
        return self.typename


def _edge_parts(
    statement: Statement,
    edge: GraphQLObjectType,
    nodes: list[FieldNode],
    node_selections: list[list[FieldNode]],
) -> list[EdgePart]:
    parts = []
    for key, key_nodes in statement.selected(edge, nodes).items():
        name = key_nodes[0].name.value
        if name == "__typename":
            parts.append(EdgePart(key, "typename", typename=edge.name))
        elif name == "cursor":
            parts.append(EdgePart(key, "cursor"))
        elif name == "node":
            parts.append(EdgePart(key, "node", column=len(node_selections)))
            node_selections.append(key_nodes)
        else:
            raise NotCompiled(name)
    return parts


def _page_info_keys(
    statement: Statement, page_info: GraphQLObjectType, nodes: list[FieldNode]
) -> dict[str, str]:
    """Response key → field name, for the fields ``_page_info`` knows."""
    keys = {}
    for key, key_nodes in statement.selected(page_info, nodes).items():
        name = key_nodes[0].name.value
        if name not in PAGE_INFO_FIELDS:
            raise NotCompiled(name)
        keys[key] = name
    return keys


PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename")


def _page_info(page: Page, page_info: GraphQLObjectType, keys: dict[str, str]) -> dict[str, Any]:
    values = {
        "hasNextPage": page.has_next,
        "hasPreviousPage": False,
        "startCursor": page.cursors[0] if page.cursors else None,
        "endCursor": page.cursors[-1] if page.cursors else None,
        "__typename": page_info.name,
    }
    return {key: values[name] for key, name in keys.items()}
