"""What a researcher says they will do with data, in DUO research-purpose terms. Access requests
store it and the DUO matcher compares it with each dataset's data use conditions; both sides
share this one type so a request and its automatic review can never disagree on its meaning."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ResearchPurpose(enum.StrEnum):
    """DUO primary categories a request can state (DUO codes as values)."""

    GENERAL_RESEARCH = "GRU"
    HEALTH_MEDICAL_BIOMEDICAL = "HMB"
    DISEASE_SPECIFIC = "DS"
    POPULATION_ORIGINS_ANCESTRY = "POA"
    METHODS_DEVELOPMENT = "MDS"


@dataclass(frozen=True, slots=True)
class IntendedUse:
    """``diseases`` are MONDO CURIEs and must be given exactly when DISEASE_SPECIFIC is among
    the purposes; ``commercial`` is True when the work is for profit (matters for NPU);
    ``sensitive`` marks research on sensitive topics (e.g. illegal or sexual behaviour,
    stigmatised traits), which always needs a committee's judgement."""

    purposes: frozenset[ResearchPurpose]
    diseases: frozenset[str] = frozenset()
    commercial: bool = False
    sensitive: bool = False
