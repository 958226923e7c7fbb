"""Atrium's key ring: rotation keeps old signatures verifying until the old key is retired,
and every process sharing the data directory sees changes without a restart."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from api.auth.issuer import BuiltinIssuer, key_ring_dir
from api.auth.tokens import IssuerPolicy, TokenVerifier
from catalog.errors import InvalidTransition, NotFound, Unauthenticated
from governance.signing_keys import KeyRing, KeyState

ISSUER = "https://atrium.example.org"


def verifier_for(issuer: BuiltinIssuer) -> TokenVerifier:
    policy = IssuerPolicy(issuer.issuer, issuer.audience, ("RS256",), local_keys=issuer.key_set)
    return TokenVerifier({issuer.issuer: policy})


def verify(issuer: BuiltinIssuer, token: str) -> str:
    claims = asyncio.run(verifier_for(issuer).verify(token))
    return str(claims["sub"])


def new_issuer(data_dir: Path) -> BuiltinIssuer:
    return BuiltinIssuer.from_data_dir(data_dir, issuer=ISSUER, audience="atrium")


def test_a_new_ring_has_one_active_key_kept_private(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "ring")

    (entry,) = ring.entries
    assert entry.state is KeyState.ACTIVE
    assert ring.public_jwks()["keys"][0]["kid"] == entry.kid == ring.active_key.kid
    assert "d" not in ring.public_jwks()["keys"][0], "the JWKS must hold public keys only"
    pem = tmp_path / "ring" / f"{entry.kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert KeyRing.open(tmp_path / "ring").active_key.kid == entry.kid, "reopening keeps the key"


def test_the_key_of_earlier_releases_becomes_the_first_active_key(tmp_path: Path) -> None:
    legacy = RSAKey.generate_key(2048, private=True)
    legacy.ensure_kid()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "issuer-rs256.pem").write_bytes(legacy.as_pem(private=True))

    issuer = new_issuer(tmp_path)

    assert issuer.kid == legacy.kid
    assert not (tmp_path / "keys" / "issuer-rs256.pem").exists()
    assert new_issuer(tmp_path).kid == legacy.kid


def test_tokens_signed_before_a_rotation_verify_until_their_key_is_retired(
    tmp_path: Path,
) -> None:
    issuer = new_issuer(tmp_path)
    old_kid = issuer.kid
    before = issuer.mint("alice")

    new_kid = issuer.ring.rotate()

    assert new_kid != old_kid
    assert issuer.kid == new_kid
    after = issuer.mint("bob")
    assert verify(issuer, before) == "alice"
    assert verify(issuer, after) == "bob"
    states = {e.kid: e.state for e in issuer.ring.entries}
    assert states == {old_kid: KeyState.PUBLISHED, new_kid: KeyState.ACTIVE}
    assert {k["kid"] for k in issuer.public_jwks()["keys"]} == {old_kid, new_kid}

    issuer.ring.retire(old_kid)

    with pytest.raises(Unauthenticated):
        verify(issuer, before)
    assert verify(issuer, after) == "bob"
    assert [k["kid"] for k in issuer.public_jwks()["keys"]] == [new_kid]
    assert not (key_ring_dir(tmp_path) / f"{old_kid}.pem").exists(), "private half deleted"
    assert {e.kid: e.state for e in issuer.ring.entries}[old_kid] is KeyState.RETIRED


def test_a_rotation_by_another_process_is_seen_without_a_restart(tmp_path: Path) -> None:
    server = new_issuer(tmp_path)
    old_kid = server.kid
    old = server.mint("alice")
    cli = KeyRing.open(key_ring_dir(tmp_path))  # what `atrium keys rotate` opens

    new_kid = cli.rotate()

    assert server.kid == new_kid, "the server signs with the new key at once"
    assert verify(server, old) == "alice"
    cli.retire(old_kid)
    with pytest.raises(Unauthenticated):
        verify(server, old)


def test_the_active_key_cannot_be_retired(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "ring")
    active = str(ring.active_key.kid)

    with pytest.raises(InvalidTransition, match="rotate first"):
        ring.retire(active)
    assert ring.active_key.kid == active


def test_unknown_and_already_retired_keys_are_refused(tmp_path: Path) -> None:
    ring = KeyRing.open(tmp_path / "ring")
    old = str(ring.active_key.kid)
    ring.rotate()
    ring.retire(old)

    with pytest.raises(NotFound):
        ring.retire("no-such-kid")
    with pytest.raises(InvalidTransition, match="already retired"):
        ring.retire(old)
