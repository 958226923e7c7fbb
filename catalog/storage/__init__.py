"""Storage backends: turn a stored access method into a URL a client can fetch.

``file`` URLs are served by Atrium itself (``LocalStorage``, HMAC-signed and expiring); ``s3``
URLs are presigned with boto3; every other known type is handed out unchanged. Backends take
their configuration as arguments: the API layer reads settings and calls ``build_storage``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from catalog.storage.base import (
    AccessURL,
    Backend,
    InvalidKey,
    InvalidStorageURL,
    SignatureExpired,
    SignatureInvalid,
    StorageError,
    StorageUnavailable,
    UnsupportedAccessMethod,
)
from catalog.storage.local import (
    ROUTE_PREFIX,
    LocalObject,
    LocalStorage,
    load_or_create_signing_key,
    parse_file_url,
    validate_key,
)
from catalog.storage.passthrough import Passthrough
from catalog.storage.s3 import S3Storage, parse_s3_url

PASSTHROUGH_TYPES = frozenset({"https", "gs", "ftp", "gsiftp", "globus", "htsget"})

__all__ = [
    "PASSTHROUGH_TYPES",
    "ROUTE_PREFIX",
    "AccessURL",
    "Backend",
    "InvalidKey",
    "InvalidStorageURL",
    "LocalObject",
    "LocalStorage",
    "Passthrough",
    "S3Storage",
    "SignatureExpired",
    "SignatureInvalid",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "UnsupportedAccessMethod",
    "build_storage",
    "load_or_create_signing_key",
    "parse_file_url",
    "parse_s3_url",
    "validate_key",
]


class Storage:
    """One backend per access method type."""

    def __init__(self, *, local: LocalStorage, s3: S3Storage) -> None:
        self.local = local
        self.s3 = s3
        passthrough = Passthrough()
        self._backends: dict[str, Backend] = {"file": local, "s3": s3}
        self._backends.update(dict.fromkeys(PASSTHROUGH_TYPES, passthrough))
        self.inline_types = frozenset(t for t, b in self._backends.items() if not b.signed)
        """Access method types whose stored URL may be shown inline in a DRS object."""

    def backend(self, type: str) -> Backend:
        try:
            return self._backends[type]
        except KeyError:
            raise UnsupportedAccessMethod(
                f"no storage backend for access method type {type!r}", field="type"
            ) from None

    def access_url(self, *, type: str, url: str, region: str | None) -> AccessURL:
        return self.backend(type).access_url(url, region=region)

    def is_signed(self, type: str) -> bool:
        """Whether DRS must mint this method's URL through ``/access`` (signed, expiring)
        rather than give it inline."""
        return self.backend(type).signed


def build_storage(
    *,
    local_root: Path,
    base_url: str,
    signing_key: bytes,
    ttl_seconds: int = 900,
    s3_endpoint_url: str | None = None,
    s3_region: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Storage:
    """``base_url`` is Atrium's public URL; local files are served under ``{base_url}/storage/``.
    No boto3 client is created until the first ``s3`` URL is signed."""
    return Storage(
        local=LocalStorage(
            root=local_root,
            base_url=base_url,
            signing_key=signing_key,
            ttl_seconds=ttl_seconds,
            clock=clock,
        ),
        s3=S3Storage(
            ttl_seconds=ttl_seconds, endpoint_url=s3_endpoint_url, default_region=s3_region
        ),
    )
