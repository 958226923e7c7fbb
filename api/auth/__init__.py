"""Authentication: the built-in token issuer and strict verification of bearer tokens."""
