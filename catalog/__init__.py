"""The metadata catalog: organizations, datasets, files (DRS objects), ontology terms, ingest."""
