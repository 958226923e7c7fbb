"""Presigned GET URLs for ``s3://bucket/key`` access methods, on AWS or any S3-compatible store.

Credentials come from boto3's own chain (environment, shared config, instance profile); this
module never reads them itself. Clients are created on first use, one per region, and reused:
a SigV4 signature names its region, so an object's region picks the client.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from catalog.storage.base import AccessURL, InvalidStorageURL, StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``. The key is taken verbatim, as the AWS CLI
    writes it: it is not percent-decoded, and ``?`` and ``#`` are part of it."""
    scheme, sep, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    if (
        scheme.lower() != "s3"
        or not sep
        or not bucket
        or not key
        or any(c.isspace() for c in bucket)
    ):
        raise InvalidStorageURL(f"an s3 access method needs an s3://bucket/key URL, not {url!r}")
    return bucket, key


class S3Storage:
    signed = True

    def __init__(
        self,
        *,
        ttl_seconds: int = 900,
        endpoint_url: str | None = None,
        default_region: str | None = None,
    ) -> None:
        """``endpoint_url`` points at an S3-compatible store (MinIO, Ceph, moto …); such stores
        are addressed path-style, since their hosts rarely have wildcard DNS for buckets."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._ttl = ttl_seconds
        self._endpoint_url = endpoint_url
        self._default_region = default_region
        self._config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self._session: boto3.session.Session | None = None
        self._clients: dict[str | None, S3Client] = {}
        self._lock = threading.Lock()

    def client(self, region: str | None) -> S3Client:
        """The client for ``region`` (the configured default when None), created once."""
        region = region or self._default_region
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                if self._session is None:
                    self._session = boto3.session.Session()
                client = self._session.client(
                    "s3", region_name=region, endpoint_url=self._endpoint_url, config=self._config
                )
                self._clients[region] = client
            return client

    def access_url(self, url: str, *, region: str | None) -> AccessURL:
        bucket, key = parse_s3_url(url)
        try:
            signed = self.client(region).generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=self._ttl
            )
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"S3 URLs cannot be signed: {type(exc).__name__} (check the server's AWS"
                " credentials and endpoint)"
            ) from exc
        return AccessURL(signed)
