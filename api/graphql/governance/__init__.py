"""Governance part of the GraphQL schema."""
