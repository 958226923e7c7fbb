"""The facets discovery offers, shared by both backends so they count the same things.

Terms facets count datasets per value of a document field. Range facets count datasets per
fixed bucket of a number or a date; date buckets are relative to the moment of the query."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


class Facet(enum.StrEnum):
    DISEASE = "disease"
    DATA_TYPE = "data_type"
    FILE_FORMAT = "file_format"
    ACCESS_LEVEL = "access_level"
    DATA_USE = "data_use"
    STEWARD = "steward"
    FUNDER = "funder"
    SPECIES = "species"
    PARTICIPANTS = "participants"
    UPDATED = "updated"


TERMS_FACETS: tuple[Facet, ...] = (
    Facet.DISEASE,
    Facet.DATA_TYPE,
    Facet.FILE_FORMAT,
    Facet.ACCESS_LEVEL,
    Facet.DATA_USE,
    Facet.STEWARD,
    Facet.FUNDER,
    Facet.SPECIES,
)


@dataclass(frozen=True)
class NumberBucket:
    key: str
    gte: int
    lt: int | None


@dataclass(frozen=True)
class DateBucket:
    key: str
    gte: datetime | None
    lt: datetime | None


PARTICIPANT_BUCKETS: tuple[NumberBucket, ...] = (
    NumberBucket("0-99", 0, 100),
    NumberBucket("100-999", 100, 1_000),
    NumberBucket("1000-9999", 1_000, 10_000),
    NumberBucket("10000+", 10_000, None),
)

UPDATED_BUCKET_KEYS: tuple[str, ...] = ("last-30-days", "last-year", "older")


def updated_buckets(now: datetime) -> tuple[DateBucket, ...]:
    """Non-overlapping buckets, so a dataset counts once: the last 30 days, the rest of the
    last year, and anything older. Bounds move by the minute, so the same search within a
    minute is the same query (and Elasticsearch can answer its counts from cache)."""
    now = now.replace(second=0, microsecond=0)
    month, year = now - timedelta(days=30), now - timedelta(days=365)
    return (
        DateBucket("last-30-days", month, None),
        DateBucket("last-year", year, month),
        DateBucket("older", None, year),
    )


def range_keys(facet: Facet) -> Sequence[str]:
    if facet is Facet.PARTICIPANTS:
        return [b.key for b in PARTICIPANT_BUCKETS]
    if facet is Facet.UPDATED:
        return UPDATED_BUCKET_KEYS
    raise ValueError(f"{facet} is not a range facet")
