"""The Elasticsearch the tests run against, and the helper that starts private nodes."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import elasticsearch
import pytest
from elasticsearch import Elasticsearch

from deploy.elasticsearch_node import (
    GROUP_ID,
    VERSION,
    ElasticsearchError,
    Node,
    find_java,
    minimum_java,
    obtain,
)

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".atrium" / "elasticsearch"
SCRIPT = REPO / "deploy" / "elasticsearch"


@pytest.fixture(scope="module")
def es(elasticsearch_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(elasticsearch_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def node_dir() -> Iterator[Path]:
    """Outside pytest's tmp_path: every new pytest session (of any user on the machine) makes
    /tmp/pytest-of-root private again, which would lock the node's service user out."""
    with tempfile.TemporaryDirectory(prefix="atrium-es-test-") as directory:
        yield Path(directory) / "node"


def local_node(es: Elasticsearch) -> dict[str, object]:
    nodes = es.nodes.info(node_id="_local", metric="settings,http,transport")["nodes"]
    return dict(next(iter(nodes.values())))


def test_the_node_answers_with_a_usable_cluster(es: Elasticsearch) -> None:
    assert es.cluster.health()["status"] in ("green", "yellow")


def test_the_server_major_matches_the_python_client_major(es: Elasticsearch) -> None:
    server = str(local_node(es)["version"])
    assert server.split(".")[0] == elasticsearch.__versionstr__.split(".")[0]


def test_security_is_off(es: Elasticsearch) -> None:
    """This client sends no credentials, yet is served; and the node says why."""
    assert es.transport.node_pool.get().config.headers.get("authorization") is None
    settings = local_node(es)["settings"]
    assert settings["xpack"]["security"]["enabled"] == "false"  # type: ignore[index]


def test_it_listens_on_loopback_only(es: Elasticsearch) -> None:
    node = local_node(es)
    for layer in ("http", "transport"):
        bound = node[layer]["bound_address"]  # type: ignore[index]
        assert bound
        assert all(a.startswith(("127.", "[::1]")) for a in bound), (layer, bound)


@pytest.mark.slow
def test_a_private_node_restarts_on_its_port_with_its_data(node_dir: Path) -> None:
    node = Node(node_dir, port=0, cache=CACHE)
    try:
        url = node.start()
        client = Elasticsearch(url, request_timeout=30)
        client.index(index="probe", id="1", document={"title": "kept"}, refresh=True)
        assert node.start() == url, "a second start reuses the running node"
        node.stop()
        assert node.pid() is None
        assert node.url() is None
        with pytest.raises(elasticsearch.ConnectionError):
            client.options(max_retries=0).cluster.health()
        assert node.restart() == url
        assert client.get(index="probe", id="1")["_source"] == {"title": "kept"}
    finally:
        node.stop()
    assert node.pid() is None


@pytest.mark.slow
def test_a_node_that_cannot_start_reports_its_log(node_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        node = Node(node_dir, port=taken.getsockname()[1], cache=CACHE)
        with pytest.raises(ElasticsearchError, match=r"BindHttpException|Address already in use"):
            node.start()
    assert node.pid() is None


def test_a_stale_pid_file_is_neither_reused_nor_killed(tmp_path: Path) -> None:
    node = Node(tmp_path / "node", cache=CACHE)
    node.layout.root.mkdir(parents=True)
    node.layout.pid_file.write_text(str(os.getpid()))
    assert node.pid() is None
    assert node.url() is None
    node.stop()
    assert not node.layout.pid_file.exists()


# --- Java -------------------------------------------------------------------------------------


def fake_java(home: Path, major: int) -> Path:
    java = home / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '    java.specification.version = {major}' >&2\n")
    java.chmod(0o755)
    return home


def test_the_oldest_new_enough_java_is_chosen(tmp_path: Path) -> None:
    homes = [fake_java(tmp_path / f"jdk{m}", m) for m in (11, 25, 21)]
    assert find_java(21, homes) == tmp_path / "jdk21"
    assert minimum_java("9.1.0") == 21
    assert minimum_java(VERSION) <= 21


def test_no_suitable_java_is_a_clear_error(tmp_path: Path) -> None:
    homes = [fake_java(tmp_path / "jdk11", 11), tmp_path / "not-a-jdk"]
    with pytest.raises(ElasticsearchError, match=r"needs Java 17 or newer; found: .*jdk11 \(11\)"):
        find_java(17, homes)


# --- obtaining the distribution without mvn ---------------------------------------------------


def distribution_zip(version: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        launcher = zipfile.ZipInfo(f"elasticsearch-{version}/bin/elasticsearch")
        launcher.external_attr = (stat.S_IFREG | 0o755) << 16
        bundle.writestr(launcher, "#!/bin/sh\n")
        bundle.writestr(f"elasticsearch-{version}/config/jvm.options", "-Xss1m\n")
    return buffer.getvalue()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Maven-layout HTTP server on loopback; the folder it serves."""
    root = tmp_path / "mirror"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()


def publish(root: Path, version: str, body: bytes, sha1: str | None = None) -> None:
    folder = root / GROUP_ID.replace(".", "/") / "elasticsearch" / version
    folder.mkdir(parents=True)
    (folder / f"elasticsearch-{version}.zip").write_bytes(body)
    digest = sha1 or hashlib.sha1(body).hexdigest()  # noqa: S324 - what Maven publishes
    (folder / f"elasticsearch-{version}.zip.sha1").write_text(digest)


def test_without_mvn_the_zip_is_downloaded_checked_and_unpacked_once(
    mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = mirror
    publish(root, "0.0.1", distribution_zip("0.0.1"))
    home = obtain("0.0.1", tmp_path / "cache", maven=False, mirror=url)
    assert home == (tmp_path / "cache" / "0.0.1" / "elasticsearch-0.0.1").resolve()
    assert os.access(home / "bin" / "elasticsearch", os.X_OK)
    assert (home / "config" / "jvm.options").read_text() == "-Xss1m\n"
    assert obtain("0.0.1", tmp_path / "cache", maven=False, mirror="http://127.0.0.1:9") == home


def test_a_download_with_a_wrong_checksum_is_refused(
    mirror: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = mirror
    publish(root, "0.0.2", distribution_zip("0.0.2"), sha1="0" * 40)
    with pytest.raises(ElasticsearchError, match="checksum mismatch"):
        obtain("0.0.2", tmp_path / "cache", maven=False, mirror=url)
    assert list((tmp_path / "cache" / "0.0.2").glob("*.zip*")) == []


def test_an_unreachable_download_is_a_clear_error(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    with pytest.raises(ElasticsearchError, match=r"could not download .*0\.0\.3\.zip"):
        obtain("0.0.3", tmp_path / "cache", maven=False, mirror=url)


def test_a_zip_without_elasticsearch_is_refused(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("something-else/README", "no")
    publish(root, "0.0.4", buffer.getvalue())
    with pytest.raises(ElasticsearchError, match=r"does not hold elasticsearch-0\.0\.4/bin"):
        obtain("0.0.4", tmp_path / "cache", maven=False, mirror=url)
    assert not (tmp_path / "cache" / "0.0.4" / "elasticsearch-0.0.4").exists()


def test_a_corrupt_archive_is_removed_so_the_next_try_fetches_again(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "0.0.5"
    root.mkdir(parents=True)
    (root / "elasticsearch-0.0.5.zip").write_bytes(b"half a download")
    with pytest.raises(ElasticsearchError, match="was not a zip"):
        obtain("0.0.5", tmp_path / "cache", maven=False, mirror="http://127.0.0.1:9")
    assert not (root / "elasticsearch-0.0.5.zip").exists()


# --- the command ------------------------------------------------------------------------------


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_script_reuses_a_configured_url(elasticsearch_url: str) -> None:
    result = run_script("start", ATRIUM_ELASTICSEARCH_URL=elasticsearch_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == elasticsearch_url


def test_the_script_refuses_a_configured_url_that_does_not_answer() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run_script("start", ATRIUM_ELASTICSEARCH_URL=closed)
    assert result.returncode == 1
    assert f"ATRIUM_ELASTICSEARCH_URL={closed} does not answer" in result.stderr


def test_the_script_says_when_no_node_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ATRIUM_ELASTICSEARCH_URL"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "url", "--data", str(tmp_path / "none")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no node runs in" in result.stderr
