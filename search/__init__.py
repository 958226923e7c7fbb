"""Discovery over the catalog."""
