"""Scripts that obtain and run Atrium's companions (Elasticsearch) for development and tests."""
