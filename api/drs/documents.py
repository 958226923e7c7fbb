"""GA4GH DRS 1.5 JSON documents built from catalog records: DrsObject, AccessMethod,
Authorizations, service-info. Pure functions: no I/O, no request objects.

Times stay ``datetime`` objects: ``api.json_response`` renders them as RFC 3339 (``Z`` for
UTC) for a fraction of the cost of ``isoformat`` on an aware datetime (3 µs, two per object:
a third of a DRS document; BENCHMARKS.md, DRS, session 5)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from catalog.models import AccessLevel
from catalog.repository import DrsRecord

DRS_VERSION = "1.5.0"
CLOUDS = {"s3": "aws", "gs": "gcp"}
OPEN = AccessLevel.OPEN.value
CONTROLLED = AccessLevel.CONTROLLED.value


def drs_hostname(base_url: str) -> str:
    """The authority of hostname-based ``drs://`` URIs. Deployments behind HTTPS on port 443
    have none; a development server on another port keeps it so clients can reach it."""
    parts = urlsplit(base_url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or "localhost"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
"""Characters a URI path segment carries as they are (RFC 3986), which most ids are made of."""


def self_uri(hostname: str, object_id: str) -> str:
    """``quote`` costs more than the rest of a DRS object together, so ids that need no
    quoting skip it."""
    segment = object_id if UNRESERVED.fullmatch(object_id) else quote(object_id, safe="")
    return f"drs://{hostname}/{segment}"


def access_method_document(
    access_id: str,
    stored_type: str,
    url: str,
    region: str | None,
    *,
    inline: bool,
    authorizations: dict[str, Any] | None,
) -> dict[str, Any]:
    """Locally stored files are served by Atrium over HTTP(S), so their DRS type is https.
    Every method carries an ``access_id`` for the /access call (some clients, such as
    ga4gh-drs-client 0.1.7, require one); inline methods also carry their URL."""
    drs_type = "https" if stored_type == "file" else stored_type
    method: dict[str, Any] = {"type": drs_type, "access_id": access_id, "available": True}
    if inline:
        method["access_url"] = {"url": url}
    if region:
        method["region"] = region
    if stored_type in CLOUDS:
        method["cloud"] = CLOUDS[stored_type]
    if authorizations is not None and not inline:
        method["authorizations"] = authorizations
    return method


def drs_object_document(
    record: DrsRecord,
    *,
    hostname: str,
    inline_types: frozenset[str],
    authorizations: dict[str, Any],
    contents: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``inline_types`` are the stored access-method types whose URLs may be shown in the
    object itself (public passthrough URLs of open datasets)."""
    obj = record.object
    document: dict[str, Any] = {
        "id": obj.id,
        "self_uri": self_uri(hostname, obj.id),
        "size": obj.size,
        "created_time": obj.created_time,
        "updated_time": obj.updated_time,
        "checksums": [{"checksum": c, "type": t} for t, c in sorted(record.checksums)],
        "name": obj.name,
    }
    for key in ("version", "mime_type", "description"):
        value = getattr(obj, key)
        if value is not None:
            document[key] = value
    if record.aliases:
        document["aliases"] = sorted(record.aliases)
    if obj.is_bundle:
        document["contents"] = (
            contents
            if contents is not None
            else [
                {"name": name, "id": child, "drs_uri": [self_uri(hostname, child)]}
                for name, child in record.members
            ]
        )
    elif record.access_methods:
        document["access_methods"] = [
            access_method_document(
                access_id,
                stored_type,
                url,
                region,
                inline=stored_type in inline_types and record.access_level == OPEN,
                authorizations=authorizations,
            )
            for access_id, stored_type, url, region in sorted(record.access_methods)
        ]
    return document


def authorizations_document(
    object_id: str,
    access_level: str,
    *,
    bearer_issuers: list[str],
    passport_issuers: list[str],
) -> dict[str, Any]:
    """How to authorize for an object, per the DRS ``Authorizations`` schema."""
    if access_level == OPEN:
        return {"drs_object_id": object_id, "supported_types": ["None"]}
    document: dict[str, Any] = {
        "drs_object_id": object_id,
        "supported_types": ["BearerAuth"],
        "bearer_auth_issuers": bearer_issuers,
    }
    if access_level == CONTROLLED and passport_issuers:
        document["supported_types"].append("PassportAuth")
        document["passport_auth_issuers"] = passport_issuers
    return document


def service_info_document(
    *,
    base_url: str,
    hostname: str,
    organization_name: str,
    organization_url: str,
    version: str,
    max_bulk: int,
    object_count: int,
    total_size: int,
    created_at: datetime | None,
) -> dict[str, Any]:
    reversed_host = ".".join(reversed(hostname.split(":")[0].split(".")))
    stats = {"objectCount": object_count, "totalObjectSize": total_size}
    document: dict[str, Any] = {
        "id": f"{reversed_host}.atrium.drs",
        "name": "Atrium DRS",
        "type": {"group": "org.ga4gh", "artifact": "drs", "version": DRS_VERSION},
        "description": "GA4GH Data Repository Service over the Atrium data commons catalog.",
        "organization": {"name": organization_name, "url": organization_url},
        "documentationUrl": f"{base_url}/ga4gh/drs/v1/openapi.yaml",
        "environment": "production",
        "version": version,
        "maxBulkRequestLength": max_bulk,
        "drs": {"maxBulkRequestLength": max_bulk, **stats, "stats": stats},
    }
    if created_at is not None:
        document["createdAt"] = created_at
    return document
