"""Storage backends: local HMAC signing and verification, S3 presigning against a moto server,
passthrough types, and the dispatch from access method type to backend."""

from __future__ import annotations

import hmac
import socket
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from catalog.errors import NotFound
from catalog.models import ACCESS_METHOD_TYPES
from catalog.storage import (
    PASSTHROUGH_TYPES,
    InvalidKey,
    InvalidStorageURL,
    LocalStorage,
    SignatureExpired,
    SignatureInvalid,
    Storage,
    UnsupportedAccessMethod,
    build_storage,
    load_or_create_signing_key,
    parse_file_url,
    parse_s3_url,
    validate_key,
)

KEY = b"k" * 32
BASE = "https://atrium.example.org"
T0 = 1_800_000_000


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "ATR-DS-000001").mkdir(parents=True)
    (root / "ATR-DS-000001" / "reads.cram").write_bytes(b"CRAM" * 10)
    return root


@pytest.fixture
def local(root: Path, clock: Clock) -> LocalStorage:
    return LocalStorage(root=root, base_url=BASE + "/", signing_key=KEY, clock=clock)


def request_parts(url: str) -> tuple[str, str | None, str | None]:
    """(key, expires, signature) as the route sees them: path decoded once, query parsed."""
    parts = urlsplit(url)
    assert parts.path.startswith("/storage/")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    return (
        unquote(parts.path.removeprefix("/storage/")),
        query.get("expires"),
        query.get("signature"),
    )


def verify_url(local: LocalStorage, url: str) -> Path:
    key, expires, signature = request_parts(url)
    return local.verify(key, expires=expires, signature=signature).path


# --- local signing -------------------------------------------------------------------------


def test_signed_url_is_hmac_over_method_key_and_expiry(local: LocalStorage) -> None:
    url = local.access_url("file:///ATR-DS-000001/reads.cram", region=None).url
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    assert parts.path == "/storage/ATR-DS-000001/reads.cram"
    assert query["expires"] == [str(T0 + 900)]
    expected = hmac.new(KEY, f"GET\nATR-DS-000001/reads.cram\n{T0 + 900}".encode(), "sha256")
    assert query["signature"] == [expected.hexdigest()]


def test_round_trip_returns_the_file_inside_the_root(local: LocalStorage, root: Path) -> None:
    url = local.access_url("file:///ATR-DS-000001/reads.cram", region=None).url
    key, expires, signature = request_parts(url)
    found = local.verify(key, expires=expires, signature=signature)
    assert found.path == (root / "ATR-DS-000001" / "reads.cram").resolve()
    assert found.stat.st_size == 40


def test_keys_are_percent_encoded_and_decoded_once(local: LocalStorage, root: Path) -> None:
    name = "dir with space/naïve #1?.txt"
    (root / "dir with space").mkdir()
    (root / name).write_bytes(b"x")
    url = local.access_url("file:///dir%20with%20space/na%C3%AFve%20%231%3F.txt", region=None).url
    assert "/storage/dir%20with%20space/na%C3%AFve%20%231%3F.txt?" in url
    assert verify_url(local, url) == (root / name).resolve()


def test_ttl_is_configurable(root: Path, clock: Clock) -> None:
    short = LocalStorage(root=root, base_url=BASE, signing_key=KEY, ttl_seconds=60, clock=clock)
    _, expires, _ = request_parts(short.sign("ATR-DS-000001/reads.cram"))
    assert expires == str(T0 + 60)


def tampered(url: str, part: str) -> tuple[str, str | None, str | None]:
    key, expires, signature = request_parts(url)
    assert expires is not None
    assert signature is not None
    if part == "key":
        return "ATR-DS-000001/other.cram", expires, signature
    if part == "expires":
        return key, str(int(expires) + 3600), signature
    if part == "expires-padded":
        return key, "0" + expires, signature
    if part == "signature":
        return key, expires, signature[:-1] + ("0" if signature[-1] != "0" else "1")
    if part == "signature-uppercase":
        return key, expires, signature.upper()
    if part == "no-signature":
        return key, expires, None
    if part == "no-expires":
        return key, None, signature
    if part == "non-ascii-signature":
        return key, expires, "é" * 64
    raise AssertionError(part)


@pytest.mark.parametrize(
    "part",
    [
        "key",
        "expires",
        "expires-padded",
        "signature",
        "signature-uppercase",
        "no-signature",
        "no-expires",
        "non-ascii-signature",
    ],
)
def test_tampering_with_any_part_is_refused(local: LocalStorage, root: Path, part: str) -> None:
    (root / "ATR-DS-000001" / "other.cram").write_bytes(b"other")
    key, expires, signature = tampered(local.sign("ATR-DS-000001/reads.cram"), part)
    with pytest.raises(SignatureInvalid):
        local.verify(key, expires=expires, signature=signature)


def test_a_different_signing_key_does_not_verify(
    local: LocalStorage, root: Path, clock: Clock
) -> None:
    other = LocalStorage(root=root, base_url=BASE, signing_key=b"o" * 32, clock=clock)
    with pytest.raises(SignatureInvalid):
        verify_url(local, other.sign("ATR-DS-000001/reads.cram"))


def test_expiry_follows_the_clock(local: LocalStorage, clock: Clock) -> None:
    url = local.sign("ATR-DS-000001/reads.cram")
    clock.now = T0 + 899.9
    assert verify_url(local, url).name == "reads.cram"
    clock.now = T0 + 900
    with pytest.raises(SignatureExpired, match="expired") as caught:
        verify_url(local, url)
    assert caught.value.status_code == 403


TRAVERSALS = [
    "../x",
    "/etc/passwd",
    "a/../../b",
    "a\\b",
    "..",
    "a/./b",
    "a//b",
    "a/",
    "",
    "a\x00b",
    "a\nb",
    unquote("%2e%2e/x"),
    unquote("a/%2E%2E/%2e%2e/b"),
]


@pytest.mark.parametrize("key", TRAVERSALS)
def test_non_canonical_keys_are_refused_before_anything_else(local: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        validate_key(key)
    assert caught.value.status_code == 400
    with pytest.raises(InvalidKey):
        local.sign(key)
    with pytest.raises(InvalidKey):
        local.verify(key, expires=str(T0 + 60), signature="0" * 64)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///%2e%2e/x", InvalidKey),
        ("file:///a/%2E%2E/%2E%2E/etc/passwd", InvalidKey),
        ("file:////etc/passwd", InvalidKey),
        ("file:///a%5Cb", InvalidKey),
        ("file:///a%00b", InvalidKey),
        ("file:///%ff", InvalidKey),
        ("file:///", InvalidKey),
        ("file://server/share/x", InvalidStorageURL),
        ("file:relative", InvalidStorageURL),
        ("https:///x", InvalidStorageURL),
        ("file:///a?b=1", InvalidStorageURL),
        ("file:///a#b", InvalidStorageURL),
    ],
)
def test_bad_file_urls_are_refused(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_file_url(url)


def test_file_url_forms() -> None:
    assert parse_file_url("file:///ATR-DS-000001/reads.cram") == "ATR-DS-000001/reads.cram"
    assert parse_file_url("FILE://localhost/a/b") == "a/b"


def test_symlink_escaping_the_root_is_refused(
    local: LocalStorage, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "ATR-DS-000001" / "link.txt").symlink_to(outside / "secret.txt")
    for key in ("escape/secret.txt", "ATR-DS-000001/link.txt"):
        with pytest.raises(InvalidKey, match="outside the storage root"):
            verify_url(local, local.sign(key))


def test_symlink_inside_the_root_is_followed(local: LocalStorage, root: Path) -> None:
    (root / "alias.cram").symlink_to(root / "ATR-DS-000001" / "reads.cram")
    assert (
        verify_url(local, local.sign("alias.cram"))
        == (root / "ATR-DS-000001" / "reads.cram").resolve()
    )


@pytest.mark.parametrize(
    "key", ["ATR-DS-000001/missing.cram", "ATR-DS-000001", "ATR-DS-000001/reads.cram/x", "loop"]
)
def test_missing_files_and_directories_are_not_found(
    local: LocalStorage, root: Path, key: str
) -> None:
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(NotFound):
        verify_url(local, local.sign(key))


def test_signing_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "storage.key"
    key = load_or_create_signing_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signing_key(path) == key
    assert load_or_create_signing_key(tmp_path / "other.key") != key
    assert sorted(p.name for p in path.parent.iterdir()) == ["storage.key"]


def test_a_signing_key_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="5 bytes"):
        load_or_create_signing_key(path)
    with pytest.raises(ValueError, match="32 bytes"):
        LocalStorage(root=tmp_path, base_url=BASE, signing_key=b"short")


# --- dispatch and passthrough ------------------------------------------------------------


@pytest.fixture
def storage(root: Path, clock: Clock) -> Storage:
    return build_storage(local_root=root, base_url=BASE, signing_key=KEY, clock=clock)


def test_every_known_access_method_type_has_a_backend(storage: Storage) -> None:
    for type_ in ACCESS_METHOD_TYPES:
        storage.backend(type_)
    assert set(ACCESS_METHOD_TYPES) == PASSTHROUGH_TYPES | {"file", "s3"}


@pytest.mark.parametrize(
    ("type_", "url"),
    [
        ("https", "https://data.example.org/reads.cram?token=abc"),
        ("gs", "gs://bucket/path/reads.cram"),
        ("ftp", "ftp://ftp.example.org/pub/reads.cram"),
        ("gsiftp", "gsiftp://gridftp.example.org/reads.cram"),
        ("globus", "globus://endpoint/reads.cram"),
        ("htsget", "https://htsget.example.org/reads/ATR-1"),
    ],
)
def test_passthrough_types_are_unchanged_and_unsigned(
    storage: Storage, type_: str, url: str
) -> None:
    access = storage.access_url(type=type_, url=url, region="eu-west-2")
    assert (access.url, access.headers) == (url, [])
    assert storage.is_signed(type_) is False


def test_file_and_s3_are_signed(storage: Storage) -> None:
    assert storage.inline_types == PASSTHROUGH_TYPES
    assert storage.is_signed("file") is True
    assert storage.is_signed("s3") is True
    url = storage.access_url(type="file", url="file:///ATR-DS-000001/reads.cram", region=None).url
    assert url.startswith(f"{BASE}/storage/ATR-DS-000001/reads.cram?expires=")


def test_unknown_type_is_a_typed_error(storage: Storage) -> None:
    with pytest.raises(UnsupportedAccessMethod) as caught:
        storage.access_url(type="smb", url="smb://x/y", region=None)
    assert caught.value.status_code == 422
    with pytest.raises(UnsupportedAccessMethod):
        storage.is_signed("smb")


# --- S3 against a moto server ------------------------------------------------------------

BUCKET = "atrium-test"
S3_OBJECTS = {"ATR-DS-000001/reads.cram": b"CRAM" * 1000, "odd key/with ?#+&=.txt": b"odd"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server; boto3 finds test credentials through its normal chain (environment)."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_CONFIG_FILE", str(empty))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            admin = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            admin.create_bucket(Bucket=BUCKET)
            for key, body in S3_OBJECTS.items():
                admin.put_object(Bucket=BUCKET, Key=key, Body=body)
            admin.close()
            yield endpoint
        finally:
            server.stop()


def s3_storage(
    root: Path, endpoint: str, *, ttl: int = 900, region: str | None = "eu-west-1"
) -> Storage:
    return build_storage(
        local_root=root,
        base_url=BASE,
        signing_key=KEY,
        ttl_seconds=ttl,
        s3_endpoint_url=endpoint,
        s3_region=region,
    )


@pytest.mark.parametrize("key", sorted(S3_OBJECTS))
def test_presigned_s3_url_fetches_the_object(root: Path, s3_endpoint: str, key: str) -> None:
    storage = s3_storage(root, s3_endpoint)
    access = storage.access_url(type="s3", url=f"s3://{BUCKET}/{key}", region=None)
    assert access.url.startswith(f"{s3_endpoint}/{BUCKET}/")
    assert access.headers == []
    response = httpx.get(access.url)
    assert response.status_code == 200
    assert response.content == S3_OBJECTS[key]


def test_presigned_s3_url_is_sigv4_for_the_object_region_and_ttl(
    root: Path, s3_endpoint: str
) -> None:
    storage = s3_storage(root, s3_endpoint, ttl=1, region="eu-west-1")
    url = f"s3://{BUCKET}/ATR-DS-000001/reads.cram"
    default = parse_qs(urlsplit(storage.access_url(type="s3", url=url, region=None).url).query)
    own = parse_qs(
        urlsplit(storage.access_url(type="s3", url=url, region="ca-central-1").url).query
    )
    assert default["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert default["X-Amz-Credential"][0].endswith("/eu-west-1/s3/aws4_request")
    assert own["X-Amz-Credential"][0].endswith("/ca-central-1/s3/aws4_request")
    assert default["X-Amz-Expires"] == ["1"]
    signed_at = datetime.strptime(default["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at.timestamp() - time.time()) < 60


def test_s3_clients_are_created_per_region_and_reused(root: Path, s3_endpoint: str) -> None:
    storage = s3_storage(root, s3_endpoint, region="eu-west-1")
    assert storage.s3.client(None) is storage.s3.client("eu-west-1")
    assert storage.s3.client("ca-central-1") is not storage.s3.client(None)
    assert storage.s3.client(None).meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    "url",
    ["s3://", "s3://bucket", "s3://bucket/", "s3:///key", "gs://bucket/key", "s3://my bucket/k"],
)
def test_bad_s3_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidStorageURL):
        parse_s3_url(url)


def test_s3_url_keys_are_taken_verbatim() -> None:
    assert parse_s3_url("s3://bucket/a%20b/c?d#e") == ("bucket", "a%20b/c?d#e")
