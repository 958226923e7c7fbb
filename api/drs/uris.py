"""Requested DRS ids and URIs to the keys objects are stored under, per the DRS 1.5 "DRS URIs"
section; the DRS routes and GraphQL's ``resolveDrs`` share these rules.

Two URI forms name an object of this server: hostname-based ``drs://<host>/<id>`` (the form of
``self_uri``, with the id percent-encoded) and compact ``drs://[provider_code/]prefix:id``
(also ``prefix:id`` alone, the form the DRS routes accept), whose prefix is
``ATRIUM_DRS_COMPACT_PREFIX``. Prefixes are case-insensitive, as in identifiers.org; hosts too,
as in any URL; ids are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from catalog.errors import Invalid

SCHEME = "drs://"
MAX_KEY_LENGTH = 1024


@dataclass(frozen=True)
class DrsNaming:
    """How this server's objects are named: the authority of hostname-based URIs, and the
    compact-identifier prefix if one is configured."""

    hostname: str
    compact_prefix: str | None


def object_key(raw: str, prefix: str | None) -> str:
    """A requested id as stored: compact identifiers (``prefix:id``) lose their prefix."""
    if prefix and raw[: len(prefix) + 1].lower() == f"{prefix.lower()}:":
        raw = raw[len(prefix) + 1 :]
        if not raw:
            raise Invalid("the compact identifier has no accession part")
    return _checked(raw)


def object_id_from_uri(uri: str, naming: DrsNaming) -> str:
    """The object id ``uri`` names, or ``Invalid`` saying why it names none here."""
    rest = uri[len(SCHEME) :] if uri[: len(SCHEME)].lower() == SCHEME else None
    if rest is None:
        return _compact_id(uri, naming, uri)
    authority, slash, path = rest.partition("/")
    if slash and authority.lower() == naming.hostname.lower():
        if not path:
            raise Invalid(f"{uri!r} names no object")
        return _checked(unquote(path))
    _, colon, port = authority.partition(":")
    if colon and not port.isdigit():  # drs://prefix:id, whose id may hold slashes
        return _compact_id(rest, naming, uri)
    if slash and ":" in path:  # drs://provider_code/prefix:id
        return _compact_id(path, naming, uri)
    if not slash:
        raise Invalid(f"{uri!r} is neither drs://<host>/<id> nor a compact identifier")
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
    return _checked(accession)


def _checked(key: str) -> str:
    """NUL and unpaired surrogates can be in no stored id or alias (Postgres text is UTF-8
    without NUL), so they are refused here rather than failing the query."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"object ids are 1 to {MAX_KEY_LENGTH} characters")
    if "\x00" in key or not _is_utf8(key):
        raise Invalid("object ids may not contain NUL characters or unpaired surrogates")
    return key


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
