"""The /graphql HTTP contract: GraphiQL, GET and POST, request errors, limits, masking."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.testclient import TestClient

from catalog import repository
from tests.api.graphql import gql_errors
from tests.factories import Factory


def test_graphiql_for_browsers(client: TestClient) -> None:
    response = client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert client.get("/", follow_redirects=False).headers["location"] == "/graphql"


def test_queries_over_get(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ me { authenticated } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"authenticated": False}}}


def test_mutations_are_refused_over_get(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={"query": 'mutation { datasetPublish(accession: "x") { errors { code } } }'},
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'{"query": ""}', "application/json", "non-empty 'query'"),
        (b'{"query": "{ me { subject } }", "variables": [1]}', "application/json", "'variables'"),
        (b"query=1", "application/x-www-form-urlencoded", "Content-Type: application/json"),
    ],
)
def test_malformed_requests_get_400(
    client: TestClient, body: bytes, content_type: str, message: str
) -> None:
    response = client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


def test_syntax_and_validation_errors_are_400(client: TestClient) -> None:
    syntax = client.post("/graphql", json={"query": "{ datasets { "})
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    unknown = client.post("/graphql", json={"query": "{ nope }"})
    assert unknown.status_code == 400
    assert "Cannot query field 'nope'" in unknown.json()["errors"][0]["message"]


def test_depth_limit(client: TestClient) -> None:
    deep = '{ drsObject(id: "x") { ' + "contents { object { " * 6 + "id" + " } }" * 6 + " } }"
    response = client.post("/graphql", json={"query": deep})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert "the limit is 12" in error["message"]


def test_complexity_limit_counts_nested_pages(client: TestClient) -> None:
    query = """{ datasets(first: 100) { edges { node { files(first: 100) { edges { node {
        id name size checksums { type } aliases accessMethods { type } } } } } } } }"""
    response = client.post("/graphql", json={"query": query})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "the limit is 50000" in error["message"]
    cyclic = "query { ...A } fragment A on Query { ...A }"
    assert client.post("/graphql", json={"query": cyclic}).status_code == 400


def test_unexpected_errors_are_masked(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret connection string postgres://u:p@host")

    monkeypatch.setattr(repository, "organizations", explode)
    errors = gql_errors(client, "{ organizations { slug } }")
    assert errors[0]["message"] == "Internal server error"
    assert errors[0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in str(errors)


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b"])
def test_unstorable_strings_are_refused_before_execution(client: TestClient, bad: str) -> None:
    def post(query: str, variables: dict[str, object]) -> httpx.Response:
        body = json.dumps({"query": query, "variables": variables})  # escapes lone surrogates
        return client.post("/graphql", content=body, headers={"content-type": "application/json"})

    flat = post("query($a: String) { dataset(accession: $a) { id } }", {"a": bad})
    assert flat.status_code == 400
    error = flat.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("variables.a: strings may not contain NUL")
    nested = post(
        "mutation($i: DatasetCreateInput!) { datasetCreate(input: $i) { errors { code } } }",
        {"i": {"title": bad, "accessLevel": "OPEN", "steward": "x"}},
    )
    assert nested.status_code == 400
    assert nested.json()["errors"][0]["message"].startswith("variables.i.title:")


def test_unstorable_string_literal_is_refused(client: TestClient) -> None:
    response = client.post(
        "/graphql", json={"query": '{ datasets(filter: {text: "a\\u0000"}) { totalCount } }'}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
