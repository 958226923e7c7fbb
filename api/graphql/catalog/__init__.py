"""Catalog part of the GraphQL schema."""
