"""What every storage backend shares: the URL it hands out, the interface it implements and the
errors it raises.

Backends turn a stored access method (type, url, region) into a URL a client can fetch. They take
their configuration as constructor arguments and never read the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from catalog.errors import AtriumError


@dataclass(frozen=True)
class AccessURL:
    """A DRS ``AccessURL``: where to fetch the bytes, and headers to send with the request."""

    url: str
    headers: list[str] = field(default_factory=list)


class Backend(Protocol):
    @property
    def signed(self) -> bool:
        """True when the URL is minted per request and expires (DRS ``/access``), False when
        the stored URL can be given inline in the object."""
        ...

    def access_url(self, url: str, *, region: str | None) -> AccessURL: ...


class StorageError(AtriumError):
    code = "STORAGE_ERROR"


class UnsupportedAccessMethod(StorageError):
    status_code = 422
    code = "UNSUPPORTED_ACCESS_METHOD"


class InvalidStorageURL(StorageError):
    """A stored URL that does not have the shape its access method type needs."""

    status_code = 422
    code = "INVALID_STORAGE_URL"


class InvalidKey(StorageError):
    """A local storage key that is not a canonical relative path inside the storage root."""

    status_code = 400
    code = "INVALID_STORAGE_KEY"


class SignatureInvalid(StorageError):
    status_code = 403
    code = "SIGNATURE_INVALID"


class SignatureExpired(StorageError):
    status_code = 403
    code = "SIGNATURE_EXPIRED"


class StorageUnavailable(StorageError):
    """The backend cannot sign right now (missing credentials, unreachable endpoint)."""

    status_code = 500
    code = "STORAGE_UNAVAILABLE"
