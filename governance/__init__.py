"""Access governance: committees, requests, grants, visas, audit."""
