"""GA4GH Data Repository Service 1.5 over the catalog's files."""
