"""Identity part of the GraphQL schema: the caller, organizations, committees, roles."""
