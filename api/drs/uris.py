"""DRS URIs to object ids, per the DRS 1.5 "DRS URIs" section.

Two forms name an object of this server: hostname-based ``drs://<host>/<id>`` (the form of
``self_uri``, with the id percent-encoded) and compact ``drs://[provider_code/]prefix:id``
(also without ``drs://``), whose prefix is ``ATRIUM_DRS_COMPACT_PREFIX``. Prefixes are
case-insensitive, as in identifiers.org; hosts too, as in any URL; ids are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from catalog.errors import Invalid

SCHEME = "drs://"


@dataclass(frozen=True)
class DrsNaming:
    """How this server's objects are named: the authority of hostname-based URIs, and the
    compact-identifier prefix if one is configured."""

    hostname: str
    compact_prefix: str | None


def object_id_from_uri(uri: str, naming: DrsNaming) -> str:
    """The object id ``uri`` names, or ``Invalid`` saying why it names none here."""
    rest = uri[len(SCHEME) :] if uri[: len(SCHEME)].lower() == SCHEME else None
    if rest is None:
        return _compact_id(uri, naming, uri)
    authority, slash, path = rest.partition("/")
    if not slash:
        return _compact_id(rest, naming, uri)
    if authority.lower() == naming.hostname.lower():
        if not path:
            raise Invalid(f"{uri!r} names no object")
        return unquote(path)
    if ":" in path:  # drs://provider_code/prefix:id
        return _compact_id(path, naming, uri)
    raise Invalid(f"{uri!r} names another server ({authority}); this one is {naming.hostname}")


def _compact_id(text: str, naming: DrsNaming, uri: str) -> str:
    prefix, colon, accession = text.partition(":")
    if not colon:
        raise Invalid(f"{uri!r} is neither drs://<host>/<id> nor a compact identifier")
    if naming.compact_prefix is None:
        raise Invalid(f"{uri!r} is a compact identifier, and this server has no prefix")
    if prefix.lower() != naming.compact_prefix.lower():
        raise Invalid(f"{uri!r} has prefix {prefix!r}; this server's is {naming.compact_prefix!r}")
    if not accession:
        raise Invalid(f"{uri!r} names no object")
    return accession
