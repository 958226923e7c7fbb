"""The local storage route, mounted alone in a minimal Starlette app: downloads, HEAD, byte
ranges, and every refusal (signature, expiry, traversal, missing file) in GA4GH error shape."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message

from api.storage_route import local_route
from catalog.storage import LocalStorage

KEY = b"s" * 32
T0 = 1_800_000_000
DATA = bytes(i % 251 for i in range(1000))


class Clock:
    def __init__(self) -> None:
        self.now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "ATR-DS-000001").mkdir(parents=True)
    (root / "ATR-DS-000001" / "reads.cram").write_bytes(DATA)
    return root


@pytest.fixture
def storage(root: Path, clock: Clock) -> LocalStorage:
    return LocalStorage(root=root, base_url="http://testserver", signing_key=KEY, clock=clock)


@pytest.fixture
def app(storage: LocalStorage) -> Starlette:
    return Starlette(routes=[local_route(storage)])


@pytest.fixture
def client(app: Starlette) -> TestClient:
    return TestClient(app)


@pytest.fixture
def url(storage: LocalStorage) -> str:
    return storage.sign("ATR-DS-000001/reads.cram")


def assert_error(response: httpx2.Response, status: int, contains: str = "") -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    assert body["status_code"] == status
    assert contains in body["msg"]


def test_full_download(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "private, no-store"


def test_head(client: TestClient, url: str) -> None:
    response = client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),  # the first ten bytes
        ("bytes=-10", 990, 1000),  # a suffix
        ("bytes=990-", 990, 1000),  # open-ended
        ("bytes=500-100000", 500, 1000),  # an end past the file is clamped
        ("bytes=999-999", 999, 1000),
    ],
)
def test_ranges(client: TestClient, url: str, header: str, start: int, end: int) -> None:
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["cache-control"] == "private, no-store"


def test_head_with_range(client: TestClient, url: str) -> None:
    response = client.head(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["content-range"] == f"bytes 0-9/{len(DATA)}"


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: TestClient, url: str, header: str) -> None:
    response = client.get(url, headers={"Range": header})
    assert_error(response, 416, "not satisfiable")
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize("header", ["bytes=9-3", "items=0-9", "bytes=abc"])
def test_malformed_range_is_400(client: TestClient, url: str, header: str) -> None:
    assert_error(client.get(url, headers={"Range": header}), 400, "Range")


def test_tampered_signature_is_403(client: TestClient, url: str) -> None:
    signature = url.rsplit("=", 1)[1]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert_error(client.get(forged), 403, "signature")


def test_tampered_expiry_is_403(client: TestClient, url: str) -> None:
    expires = str(T0 + 900)
    assert_error(client.get(url.replace(expires, str(T0 + 9000))), 403, "signature")


def test_unsigned_is_403(client: TestClient) -> None:
    assert_error(client.get("/storage/ATR-DS-000001/reads.cram"), 403, "not signed")


def test_expired_is_403_and_says_so(client: TestClient, url: str, clock: Clock) -> None:
    clock.now = T0 + 900
    assert_error(client.get(url), 403, "expired")
    assert client.head(url).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/storage/%2e%2e/x",
        "/storage/a/%2E%2E/%2e%2e/b",
        "/storage//etc/passwd",
        "/storage/a%5Cb",
        "/storage/a%00b",
        "/storage/a//b",
        "/storage/",
    ],
)
def test_traversal_is_400(client: TestClient, url: str, path: str) -> None:
    query = urlsplit(url).query
    assert_error(client.get(f"{path}?{query}"), 400)


def test_symlink_escaping_the_root_is_400(
    client: TestClient, storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    response = client.get(storage.sign("escape.txt"))
    assert_error(response, 400, "outside the storage root")
    assert b"secret" not in response.content


def test_missing_file_is_404(client: TestClient, storage: LocalStorage) -> None:
    assert_error(client.get(storage.sign("ATR-DS-000001/missing.cram")), 404)
    assert_error(client.get(storage.sign("ATR-DS-000001")), 404)


def test_only_get_and_head(client: TestClient, url: str) -> None:
    assert client.post(url).status_code == 405


BIG = 5 * 1024 * 1024


@pytest.fixture
def big(root: Path) -> tuple[str, bytes]:
    """A 5 MB file and its SHA-256."""
    block = hashlib.sha256(b"atrium").digest() * 2048  # 64 KiB
    data = block * (BIG // len(block)) + b"tail"
    (root / "big.bin").write_bytes(data)
    return "big.bin", hashlib.sha256(data).digest()


def test_large_file_downloads_whole_and_by_range(
    client: TestClient, storage: LocalStorage, big: tuple[str, bytes]
) -> None:
    key, digest = big
    url = storage.sign(key)
    response = client.get(url)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == BIG + 4
    assert hashlib.sha256(response.content).digest() == digest
    tail = client.get(url, headers={"Range": "bytes=-4"})
    assert (tail.status_code, tail.content) == (206, b"tail")


def asgi_get(app: Starlette, url: str) -> tuple[list[int], list[int], bytes]:
    """(statuses, body chunk sizes, SHA-256 of the body) of a GET sent straight to ``app``."""
    parts = urlsplit(url)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    statuses: list[int] = []
    sizes: list[int] = []
    received = hashlib.sha256()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        else:
            sizes.append(len(message["body"]))
            received.update(message["body"])

    anyio.run(app, scope, receive, send)
    return statuses, sizes, received.digest()


def test_large_file_is_streamed_in_chunks(
    app: Starlette, storage: LocalStorage, big: tuple[str, bytes]
) -> None:
    """Driven through ASGI directly, where each body message is visible: the file arrives in
    many small chunks and serving it never holds the whole file in memory."""
    key, digest = big
    asgi_get(app, storage.sign("ATR-DS-000001/reads.cram"))  # lazy imports, thread pool
    tracemalloc.start()
    try:
        statuses, sizes, received = asgi_get(app, storage.sign(key))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert statuses == [200]
    assert received == digest
    assert sum(sizes) == BIG + 4
    assert len(sizes) > 50
    assert max(sizes) <= 64 * 1024
    assert peak < 1024 * 1024, peak
