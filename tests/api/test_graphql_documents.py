"""Validated documents are kept by query text: the same outcome, without parsing again."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from api.graphql.documents import KEPT_TEXT_LENGTH, ValidatedDocuments
from api.graphql.schema import schema


def documents(size: int = 2) -> ValidatedDocuments:
    return ValidatedDocuments(
        schema.graphql_schema, max_depth=4, max_complexity=1000, max_list=50, size=size
    )


def test_a_text_is_parsed_and_validated_once() -> None:
    kept = documents()
    first = kept.check("{ organizations { slug } }")
    assert first[1] == []
    assert kept.check("{ organizations { slug } }")[0] is first[0]


def test_problems_carry_their_codes_and_invalid_texts_are_not_kept() -> None:
    kept = documents()
    first = kept.check("{ nope }")
    assert [p.extensions for p in first[1]] == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
    assert kept.check("{ nope }")[0] is not first[0]
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


def test_resolve_drs_counts_as_many_objects_as_it_may_be_given_uris() -> None:
    kept = ValidatedDocuments(schema.graphql_schema, max_depth=12, max_complexity=1000, max_list=50)
    inner = "{ object { dataset { files(first: 10) { edges { node { id } } } } } }"
    literal = kept.check('{ resolveDrs(uris: ["a", "b"]) ' + inner + " }")[1]
    variable = kept.check("query($u: [String!]!) { resolveDrs(uris: $u) " + inner + " }")[1]
    assert literal == []
    assert [p.extensions for p in variable] == [{"code": "QUERY_TOO_COMPLEX"}]
    assert "about 1651 objects" in variable[0].message  # 1 + 50 * 33
