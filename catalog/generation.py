"""The catalog generation: a number that moves when a transaction that changed the catalog
commits, so answers computed from the catalog can be cached and known stale.

Every table a public catalog read can reach has a statement trigger that marks its
transaction in ``catalog_touches``; a deferred trigger on that row raises
``catalog_generation`` at commit (migration 0008). The row lock on the generation is held only
from commit to commit's end, so concurrent writers do not queue behind each other's work. A
reader that reads the generation before its query never stores an older answer under a newer
generation: the generation and the data it counts become visible in the same commit.
"""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import CatalogGeneration
from catalog.prepared import PreparedQuery

CATALOG_TABLES = frozenset(
    {
        "bundle_members",
        "committee_rules",
        "committees",
        "dataset_data_use",
        "dataset_funders",
        "dataset_terms",
        "dataset_terms_of_use",
        "dataset_versions",
        "datasets",
        "drs_aliases",
        "drs_objects",
        "ontology_term_parents",
        "ontology_terms",
        "organizations",
        "publications",
    }
)
"""Tables whose changes move the generation."""

PRIVATE_TABLES = frozenset(
    {
        "access_grants",
        "access_request_datasets",
        "access_requests",
        "audit_events",
        "catalog_generation",
        "catalog_touches",
        "notifications",
        "request_reviews",
        "review_votes",
        "role_assignments",
        "search_documents",
        "search_outbox",
        "users",
    }
)
"""Tables no anonymous catalog read reaches; the audit log and outboxes change on nearly every
request, and a new user's first sign-in writes ``users`` (migration 0012), so counting them
would leave little cacheable. Signed-in answers depend on ``users``, ``role_assignments`` and
``access_grants`` through the caller's class of access, which is part of their cache key
(``api.graphql.caller_access``). A test holds every table to one of the two lists."""

CURRENT = PreparedQuery("atrium_catalog_generation", select(CatalogGeneration.generation))
"""Asked before every cacheable GraphQL request, so it is prepared once per connection."""
