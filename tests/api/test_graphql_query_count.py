"""The nested catalog query issues a fixed number of SQL statements, whatever the page size:
every relationship goes through a batching dataloader (ADR 0001)."""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.testclient import TestClient

from tests.api.graphql import counting, gql
from tests.factories import Factory

NESTED = """query($first: Int!) {
  datasets(first: $first) {
    totalCount
    edges { node {
      accession title
      steward { name }
      committee { name organization { name } }
      funders { funder { name } awardNumber }
      diseases { curie label }
      dataUse { permission { code } diseases { label } modifiers { code } }
      fileCount totalBytes
      files(first: 10) { totalCount edges { node {
        id name size checksums { type checksum } aliases accessMethods { type accessId }
      } } }
    } }
  } }"""


def test_statement_count_does_not_grow_with_page_size(
    client: TestClient, factory: Factory, connection: Connection
) -> None:
    steward = factory.organization()
    funder = factory.organization("funder")
    for _ in range(12):
        factory.dataset(
            steward,
            publish=True,
            files=3,
            diseases=["MONDO:0007254"],
            funders=[{"funder": funder.slug, "award_number": "A-1"}],
            data_use={"permission": "DS", "diseases": ["MONDO:0007254"], "modifiers": ["NPU"]},
        )
    counts = {}
    for first in (2, 12):
        with counting(connection) as statements:
            data = gql(client, NESTED, {"first": first})
        assert len(data["datasets"]["edges"]) == first
        assert all(
            len(e["node"]["files"]["edges"]) == 3 and e["node"]["dataUse"]["diseases"]
            for e in data["datasets"]["edges"]
        )
        counts[first] = len(statements)
    assert counts[2] == counts[12], counts
    assert counts[12] <= 15, counts
