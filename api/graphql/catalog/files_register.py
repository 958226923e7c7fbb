"""filesRegister: register many files of a dataset in one call, all or nothing."""

from __future__ import annotations

from typing import Any

import graphene
from pydantic import TypeAdapter, ValidationError

from api.graphql.catalog.inputs import FileInput, plain
from api.graphql.catalog.types import ctx
from api.graphql.errors import CatalogError, attempt, from_validation
from catalog import service
from catalog.schemas import FileCreate

MAX_FILES_PER_CALL = 10_000
FILES = TypeAdapter(list[FileCreate])


class FilesRegister(graphene.Mutation):
    """Register up to 10,000 files as DRS objects of a dataset. If any file is refused, none is
    registered, and every refused file is reported with its index."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")
        files = graphene.List(graphene.NonNull(FileInput), required=True, description="Files.")

    object_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="DRS ids, in input order."
    )
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, accession: str, files: Any) -> FilesRegister:
        c = ctx(info)
        if not files or len(files) > MAX_FILES_PER_CALL:
            error = CatalogError(
                field="files",
                message=f"send between 1 and {MAX_FILES_PER_CALL} files per call",
                code="INVALID",
            )
            return FilesRegister(object_ids=[], errors=[error])
        try:
            data = FILES.validate_python(plain(files))
        except ValidationError as exc:
            return FilesRegister(object_ids=[], errors=from_validation(exc, "files"))
        ids, errors = attempt(
            c.session,
            lambda: service.register_files(c.session, c.principal, accession=accession, files=data),
        )
        return FilesRegister(object_ids=ids or [], errors=errors)
