"""The HTTP layer: ASGI app, GraphQL schema, GA4GH routes, authentication, CLI."""
