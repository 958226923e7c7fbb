"""The GraphQL API: schema, per-request context and dataloaders, limits, the HTTP endpoint."""
