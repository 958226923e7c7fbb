"""Bulk loading of datasets, files and bundles from JSON Lines, CSV and Gen3 manifests.

``runner`` is the entry point. The parsers (``records``, ``csv_records``, ``gen3``) turn lines
into the API's own pydantic inputs, so a line is held to the rules of the GraphQL mutations. The
loaders (``datasets``, ``files``, ``bundles``) check them against the catalog and write them
set-based, through COPY (``bulk``), on one writer thread (``writer``) while the next lines are
parsed. Only ``runner.ingest_path`` owns a transaction: everything else runs in the caller's, and
a file with any bad line leaves nothing behind.
"""
