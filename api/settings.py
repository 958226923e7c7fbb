"""Atrium's configuration, read once from the environment (prefix ``ATRIUM_``) at start-up.

Only the ``api`` layer builds a ``Settings``; domain packages receive the values they need as
arguments and never read the environment themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SIGNING_ALGORITHMS = ("RS256", "ES256")
Algorithm = Literal["RS256", "ES256"]


def _all_algorithms() -> list[Algorithm]:
    return ["RS256", "ES256"]


class TrustedIssuer(BaseModel):
    """An OIDC provider whose bearer tokens Atrium accepts."""

    issuer: str = Field(description="Exact `iss` value; compared as a string, never normalised.")
    audience: str = Field(
        description="Required `aud` value in the tokens this issuer mints for us."
    )
    jwks_uri: HttpUrl | None = Field(
        default=None,
        description="Key set URL; read from the issuer's OIDC discovery document when absent.",
    )
    algorithms: list[Algorithm] = Field(default_factory=_all_algorithms)


class TrustedBrokerSetting(BaseModel):
    """A GA4GH Passport Broker whose passports Atrium accepts."""

    issuer: str = Field(description="The broker's `iss`.")
    jwks_uri: str | None = Field(default=None, description="Pinned JWKS URL (else discovery).")


class TrustedVisaIssuerSetting(BaseModel):
    """A visa issuer whose ControlledAccessGrants visas Atrium honours."""

    issuer: str = Field(description="The visa issuer's `iss`.")
    sources: list[str] = Field(
        default_factory=list, description="Allowed `source` values (organisations, DACs)."
    )
    source_prefixes: list[str] = Field(
        default_factory=list,
        description="Allowed `source` URL prefixes, each ending in '/' (e.g. all committees).",
    )
    jku: str | None = Field(default=None, description="The only JWKS URL its visas may name.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATRIUM_", env_nested_delimiter="__")

    database_url: SecretStr | None = Field(
        default=None,
        description="Postgres URL. Unset: an embedded Postgres runs in the data directory.",
    )
    elasticsearch_url: str | None = Field(
        default=None,
        description="Elasticsearch URL. Unset: search runs on Postgres full-text search.",
    )
    elasticsearch_index: str = Field(
        default="atrium-datasets",
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Alias searches read; reindexing moves it between concrete indices.",
    )
    index_in_process: bool = Field(
        default=True,
        description="Run the search indexer inside `atrium serve` (off when `atrium worker`"
        " runs separately).",
    )
    data_dir: Path = Field(
        default=Path(".atrium"),
        description="Embedded Postgres, the built-in issuer's signing key, local file storage.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server binds.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes of `atrium serve` (about one per CPU core).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="External URL of this service (issuer, DRS hostname). Default http://HOST:PORT.",
    )
    trusted_issuers: list[TrustedIssuer] = Field(
        default_factory=list,
        description="Extra OIDC issuers (JSON list of {issuer, audience, jwks_uri?, algorithms?}).",
    )
    trusted_brokers: list[TrustedBrokerSetting] = Field(
        default_factory=list,
        description="GA4GH Passport Brokers (JSON list of {issuer, jwks_uri?}).",
    )
    trusted_visa_issuers: list[TrustedVisaIssuerSetting] = Field(
        default_factory=list,
        description="Visa issuers (JSON list of {issuer, sources, jku?}).",
    )
    trust_own_passports: bool = Field(
        default=False,
        description="Accept passports and visas Atrium itself issued (checked with its key ring).",
    )
    visa_ttl_seconds: int = Field(
        default=3600,
        ge=60,
        le=30 * 24 * 3600,
        description="Longest life of an issued visa or passport (never beyond the grant).",
    )
    notify_webhook_url: str | None = Field(
        default=None,
        description="Where `atrium worker` POSTs notifications. Unset: they are kept, unsent.",
    )
    notify_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the `Atrium-Signature` webhook header."
    )
    notify_max_attempts: int = Field(
        default=8, ge=1, le=100, description="Delivery attempts before a notification is parked."
    )
    notify_backoff_seconds: float = Field(
        default=30, gt=0, description="First retry delay; doubles per attempt, with jitter."
    )
    grant_reminder_days: int = Field(
        default=7, ge=1, le=365, description="Days before a grant's expiry that its holder is told."
    )
    worker_idle_seconds: float = Field(
        default=30, gt=0, description="Longest sleep of `atrium worker` when nothing is due."
    )
    builtin_issuer: bool = Field(
        default=True,
        description="Trust the built-in issuer whose key lives in the data directory.",
    )
    token_audience: str = Field(
        default="atrium", description="Audience of tokens minted by the built-in issuer."
    )
    jwks_cache_seconds: int = Field(
        default=300, ge=0, description="How long fetched JWKS documents are reused."
    )
    jwks_min_refetch_seconds: int = Field(
        default=30, ge=0, description="Least time between refetches for an unknown key id."
    )
    clock_skew_seconds: int = Field(
        default=30, ge=0, le=300, description="Leeway allowed on exp/nbf/iat."
    )
    storage_dir: Path | None = Field(
        default=None,
        description="Root of the local file storage (default: DATA_DIR/files).",
    )
    signed_url_ttl_seconds: int = Field(
        default=900, ge=10, le=7 * 24 * 3600, description="Lifetime of signed download URLs."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint for presigning (default: AWS)."
    )
    s3_region: str | None = Field(default=None, description="Default S3 region for presigning.")
    drs_max_bulk_request_length: int = Field(
        default=1000, ge=1, le=100_000, description="Most ids in one DRS bulk request."
    )
    drs_compact_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9._]+$",
        description="Compact-identifier prefix accepted in DRS ids (`prefix:id`), e.g. atrium.",
    )
    organization_name: str = Field(
        default="Atrium data commons", description="Organization named in service-info."
    )
    organization_url: str | None = Field(
        default=None, description="Its URL (default: the public base URL)."
    )
    graphql_max_depth: int = Field(default=12, ge=2, description="Deepest GraphQL selection.")
    graphql_max_complexity: int = Field(
        default=50_000, ge=1, description="Upper bound on estimated nodes a query may return."
    )
    graphql_cache_mb: int = Field(
        default=64,
        ge=0,
        le=65_536,
        description="Memory per server process for cached catalog answers, anonymous and per class"
        " of access; 0: none.",
    )
    graphql_memo_mb: int = Field(
        default=64,
        ge=0,
        le=65_536,
        description="Memory per server process for parts of catalog answers (dataset nodes,"
        " pages and counts), kept until the catalog changes; 0: none.",
    )
    graphql_json_pages: bool = Field(
        default=True,
        description="Build dataset pages whose fields allow it as JSON in Postgres instead of"
        " field by field; off only to compare the two.",
    )
    log_level: str = Field(default="info", description="Log level of the server.")

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    @property
    def local_storage_root(self) -> Path:
        return self.storage_dir or self.data_dir / "files"

    @property
    def issuer_url(self) -> str:
        """The built-in issuer's `iss`: this service's own public URL."""
        return self.base_url
