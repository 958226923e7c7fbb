"""Validated documents are kept by query text: the same outcome, without parsing again."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from api.graphql.documents import KEPT_TEXT_LENGTH, ValidatedDocuments
from api.graphql.schema import schema


def documents(size: int = 2) -> ValidatedDocuments:
    return ValidatedDocuments(schema.graphql_schema, max_depth=4, max_complexity=1000, size=size)


def test_a_text_is_parsed_and_validated_once() -> None:
    kept = documents()
    first = kept.check("{ organizations { slug } }")
    assert first[1] == []
    assert kept.check("{ organizations { slug } }")[0] is first[0]


def test_problems_are_kept_with_their_codes() -> None:
    kept = documents()
    for _ in range(2):
        _, problems = kept.check("{ nope }")
        assert [p.extensions for p in problems] == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
    _, deep = kept.check("{ datasets { edges { node { files { edges { node { id } } } } } } }")
    codes = [p.extensions for p in deep]
    assert codes == [{"code": "QUERY_TOO_DEEP"}, {"code": "QUERY_TOO_COMPLEX"}]


def test_texts_that_do_not_parse_raise_every_time() -> None:
    kept = documents()
    for _ in range(2):
        with pytest.raises(GraphQLError, match="Syntax Error"):
            kept.check("{ organizations { ")


def test_least_recent_texts_leave_and_long_texts_are_not_kept() -> None:
    kept = documents(size=2)
    a, b, c = "{ me { subject } }", "{ organizations { slug } }", "{ committees { slug } }"
    first_a = kept.check(a)[0]
    kept.check(b)
    kept.check(c)
    assert kept.check(a)[0] is not first_a
    long = "{ organizations { slug } }" + " " * KEPT_TEXT_LENGTH
    assert kept.check(long)[0] is not kept.check(long)[0]
