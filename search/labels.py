"""Human labels for facet values: indexes hold stable codes (CURIEs, slugs), people read names."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import OntologyTerm, Organization
from search.facets import Facet
from search.query import FacetBucket


def facet_labels(
    session: Session, facets: Mapping[Facet, tuple[FacetBucket, ...]]
) -> dict[tuple[Facet, str], str]:
    """Labels for every bucket in two statements; a value without one is its own label."""
    wanted = {facet: [b.value for b in buckets] for facet, buckets in facets.items() if buckets}
    labels: dict[tuple[Facet, str], str] = {}
    diseases = wanted.get(Facet.DISEASE, [])
    codes = wanted.get(Facet.DATA_USE, [])
    if diseases or codes:
        rows = session.execute(
            select(OntologyTerm.curie, OntologyTerm.code, OntologyTerm.label).where(
                OntologyTerm.curie.in_(diseases)
                | (OntologyTerm.code.in_(codes) & (OntologyTerm.ontology == "DUO"))
            )
        )
        for curie, code, label in rows:
            if curie in diseases:
                labels[(Facet.DISEASE, curie)] = label
            if code in codes:
                labels[(Facet.DATA_USE, code)] = label
    slugs = {*wanted.get(Facet.STEWARD, []), *wanted.get(Facet.FUNDER, [])}
    if slugs:
        names = dict(
            session.execute(
                select(Organization.slug, Organization.name).where(Organization.slug.in_(slugs))
            ).all()
        )
        for facet in (Facet.STEWARD, Facet.FUNDER):
            for slug in wanted.get(facet, []):
                if slug in names:
                    labels[(facet, slug)] = names[slug]
    return labels
