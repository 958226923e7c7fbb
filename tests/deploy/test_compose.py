"""deploy/compose.yaml cannot be run here (no Docker), so its shape is checked instead: the
services it promises, and the same Elasticsearch as the tests' local node."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import elasticsearch
import pytest
import yaml

from deploy.elasticsearch_node import VERSION

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return dict(compose["services"])


def test_compose_runs_postgres_elasticsearch_and_atrium(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "elasticsearch", "atrium"}
    assert set(services["atrium"]["depends_on"]) == {"postgres", "elasticsearch"}


def test_compose_runs_the_elasticsearch_the_tests_run(services: dict[str, Any]) -> None:
    image, tag = services["elasticsearch"]["image"].rsplit(":", 1)
    assert image == "docker.elastic.co/elasticsearch/elasticsearch"
    assert tag == VERSION
    assert tag.split(".")[0] == elasticsearch.__versionstr__.split(".")[0]
    environment = services["elasticsearch"]["environment"]
    assert environment["discovery.type"] == "single-node"
    assert environment["xpack.security.enabled"] == "false"
    assert re.fullmatch(r"-Xms(\d+[mg]) -Xmx\1", environment["ES_JAVA_OPTS"])


def test_compose_points_atrium_at_both_servers(services: dict[str, Any]) -> None:
    environment = services["atrium"]["environment"]
    assert environment["ATRIUM_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["ATRIUM_DATABASE_URL"]
    assert environment["ATRIUM_ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert services["atrium"]["command"] == ["atrium", "serve"]


def test_postgres_is_new_enough(services: dict[str, Any]) -> None:
    """Atrium needs Postgres 15 or newer (NULLS NOT DISTINCT)."""
    assert int(services["postgres"]["image"].rsplit(":", 1)[1]) >= 15


def test_the_atrium_image_copies_what_exists(services: dict[str, Any]) -> None:
    build = services["atrium"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    dockerfile = (context / build["dockerfile"]).read_text()
    copied = re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, flags=re.MULTILINE)
    sources = [source for line in copied for source in line.split()]
    assert "pyproject.toml" in sources
    assert "api" in sources
    for source in sources:
        assert (context / source).exists(), source
