"""The embedded storage backend: files under one root directory, served by Atrium's own
``/storage/{key}`` route through HMAC-signed URLs that expire.

A key is a relative POSIX path under the root, as in ``file:///ATR-DS-000001/reads.cram``. No path
is touched before its key has passed ``validate_key`` and every request is checked again here:
signature, expiry, then the resolved path (symlinks followed) must still lie inside the root.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

from catalog.errors import NotFound
from catalog.storage.base import (
    AccessURL,
    InvalidKey,
    InvalidStorageURL,
    SignatureExpired,
    SignatureInvalid,
)

ROUTE_PREFIX = "/storage"
KEY_BYTES = 32
MAX_KEY_LENGTH = 4096
_EXPIRES = re.compile(r"[0-9]{1,15}")
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


def validate_key(key: str) -> str:
    """``key`` unchanged if it is a canonical relative POSIX path; ``InvalidKey`` otherwise.

    Nothing is decoded here: the caller decodes exactly once (the file URL parser, the router),
    so ``%2e%2e`` reaches this function as ``..``.
    """
    if not key:
        raise InvalidKey("the storage key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"the storage key is longer than {MAX_KEY_LENGTH} characters")
    if "\\" in key:
        raise InvalidKey("storage keys use '/' as separator, not '\\'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise InvalidKey("the storage key contains a control character")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey("the storage key is not valid Unicode") from None
    if key.startswith("/"):
        raise InvalidKey("the storage key must be a relative path")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey("the storage key has an empty path segment")
        if segment in (".", ".."):
            raise InvalidKey(f"the storage key may not contain '{segment}' segments")
    return key


def parse_file_url(url: str) -> str:
    """The storage key of ``file:///<key>`` (``file://localhost/<key>`` is the same URL).

    The path is percent-decoded once, as RFC 8089 file URLs are; the key is then validated.
    """
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if scheme.lower() != "file" or not sep or not slash or host.lower() not in ("", "localhost"):
        raise InvalidStorageURL(f"a file access method needs a file:///<key> URL, not {url!r}")
    if "?" in path or "#" in path:
        raise InvalidStorageURL("a file URL has no query or fragment")
    try:
        key = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise InvalidKey("the file URL's path is not UTF-8 once decoded") from None
    return validate_key(key)


def load_or_create_signing_key(path: Path) -> bytes:
    """The HMAC key at ``path``; on first use, 32 random bytes written there with mode 0600.

    Creation is atomic (a private temporary file hard-linked into place), so two processes
    starting together agree on one key.
    """
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = _create_key(path)
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} holds {len(key)} bytes; a storage signing key is {KEY_BYTES}")
    return key


def _create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
    finally:
        os.unlink(temporary)
    return key


@dataclass(frozen=True)
class LocalObject:
    """A verified request's file: its resolved path inside the root and its ``stat``."""

    path: Path
    stat: os.stat_result


class LocalStorage:
    signed = True

    def __init__(
        self,
        *,
        root: Path,
        base_url: str,
        signing_key: bytes,
        ttl_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(signing_key) < KEY_BYTES:
            raise ValueError(f"the signing key needs at least {KEY_BYTES} bytes")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.root = root.resolve()
        self._base_url = base_url.rstrip("/")
        self._key = signing_key
        self._ttl = ttl_seconds
        self._clock = clock

    def access_url(self, url: str, *, region: str | None) -> AccessURL:
        return AccessURL(self.sign(parse_file_url(url)))

    def sign(self, key: str) -> str:
        """A URL for GET (or HEAD) of ``key`` valid for the configured time from now."""
        validate_key(key)
        expires = str(int(self._clock()) + self._ttl)
        query = urlencode({"expires": expires, "signature": self._signature(key, expires)})
        return f"{self._base_url}{ROUTE_PREFIX}/{quote(key, safe='/')}?{query}"

    def verify(self, key: str, *, expires: str | None, signature: str | None) -> LocalObject:
        """The file a request may read, checked in full on every request.

        Order matters: a malformed key is refused before anything else (400); only a URL we
        signed can then learn whether it expired (403) or whether its file exists (404).
        """
        validate_key(key)
        if expires is None or signature is None:
            raise SignatureInvalid("the URL is not signed; ask the DRS /access endpoint for one")
        expected = self._signature(key, expires).encode("ascii")
        if not (
            _EXPIRES.fullmatch(expires)
            and hmac.compare_digest(expected, signature.encode("utf-8", "replace"))
        ):
            raise SignatureInvalid("the URL's signature does not match")
        if self._clock() >= int(expires):
            at = datetime.fromtimestamp(int(expires), UTC).isoformat()
            raise SignatureExpired(
                f"the signed URL expired at {at}; ask the DRS /access endpoint for a new one"
            )
        return self._open(key)

    def _open(self, key: str) -> LocalObject:
        try:
            path = (self.root / key).resolve()
        except RuntimeError:  # a symlink loop, on Python < 3.13
            raise NotFound(f"no stored file {key!r}") from None
        if not path.is_relative_to(self.root):
            raise InvalidKey("the storage key resolves outside the storage root")
        try:
            result = path.stat()
        except OSError as exc:
            if exc.errno in _MISSING:
                raise NotFound(f"no stored file {key!r}") from None
            raise
        if not stat.S_ISREG(result.st_mode):
            raise NotFound(f"no stored file {key!r}")
        return LocalObject(path, result)

    def _signature(self, key: str, expires: str) -> str:
        message = f"GET\n{key}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
