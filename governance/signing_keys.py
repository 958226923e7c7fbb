"""Atrium's own signing keys: a ring of RSA keys in a directory, each active, published or
retired.

The active key signs every token, visa and passport Atrium mints. Rotation makes a new key
active and keeps the previous one published, so what it signed keeps verifying until an
operator retires it; a retired key leaves the JWKS and its private half is deleted. The ring is
one JSON manifest (``ring.json``) next to one PEM file per live key, rewritten atomically under
an exclusive file lock, so ``atrium keys rotate`` in one process and a running server in
another never see half a ring. Readers reload the manifest when it changes on disk (one
``stat`` per use).

It must not read the environment or decide trust: callers pass the directory and choose which
issuer the keys speak for.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from catalog.errors import InvalidTransition, NotFound

MANIFEST = "ring.json"
LOCK = "ring.lock"
LEGACY_KEY = "issuer-rs256.pem"
"""The single key of releases before the ring; imported as the first active key."""
ALGORITHM = "RS256"
RSA_BITS = 2048


class KeyState(enum.StrEnum):
    ACTIVE = "active"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass(frozen=True)
class RingEntry:
    kid: str
    state: KeyState
    created_at: str


@dataclass(frozen=True)
class _Snapshot:
    """One consistent reading of the ring: entries and the keys of every non-retired one."""

    version: tuple[int, int, int]
    """Inode, modification time and size of the manifest that was read."""
    entries: tuple[RingEntry, ...]
    keys: dict[str, RSAKey]

    @property
    def active(self) -> RSAKey:
        (entry,) = (e for e in self.entries if e.state is KeyState.ACTIVE)
        return self.keys[entry.kid]


class KeyRing:
    """Safe to share between threads; every read sees one consistent snapshot."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    @classmethod
    def open(cls, directory: Path) -> KeyRing:
        """The ring in ``directory``, created with one active key (or the legacy key) on first
        use."""
        ring = cls(directory)
        with ring._exclusive():
            if not (directory / MANIFEST).exists():
                legacy = directory.parent / LEGACY_KEY
                if legacy.exists():
                    key = RSAKey.import_key(legacy.read_bytes())
                    key.ensure_kid()
                    ring._write_key(key)
                    ring._write_manifest([_entry(str(key.kid), KeyState.ACTIVE)])
                    legacy.unlink()
                else:
                    ring._write_manifest([ring._new_key_entry()])
        return ring

    # --- reading --------------------------------------------------------------------------------

    @property
    def active_key(self) -> RSAKey:
        return self._current().active

    @property
    def entries(self) -> tuple[RingEntry, ...]:
        return self._current().entries

    def verification_keys(self) -> KeySet:
        """Every published key, active included: what our own signatures verify against."""
        return KeySet(list(self._current().keys.values()))

    def public_jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM, "kid": kid}
                for kid, key in self._current().keys.items()
            ]
        }

    def _current(self) -> _Snapshot:
        version = _version(self.directory / MANIFEST)
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = self._read()
            return self._snapshot

    def _read(self) -> _Snapshot:
        path = self.directory / MANIFEST
        version = _version(path)
        entries = tuple(
            RingEntry(e["kid"], KeyState(e["state"]), e["created_at"])
            for e in json.loads(path.read_text())["keys"]
        )
        keys = {}
        for entry in entries:
            if entry.state is not KeyState.RETIRED:
                pem = (self.directory / f"{entry.kid}.pem").read_bytes()
                keys[entry.kid] = RSAKey.import_key(pem, {"kid": entry.kid})
        return _Snapshot(version, entries, keys)

    # --- changing -------------------------------------------------------------------------------

    def rotate(self) -> str:
        """A new active key; the previous active key stays published. The new kid."""
        with self._exclusive():
            entries = [
                _entry(e.kid, KeyState.PUBLISHED, e.created_at) if e.state is KeyState.ACTIVE else e
                for e in self._read().entries
            ]
            fresh = self._new_key_entry()
            self._write_manifest([*entries, fresh])
            return fresh.kid

    def retire(self, kid: str) -> None:
        """Remove a published key from the JWKS and delete its private key: what it signed
        stops verifying. The active key cannot be retired; rotate first."""
        with self._exclusive():
            entries = list(self._read().entries)
            found = next((e for e in entries if e.kid == kid), None)
            if found is None:
                raise NotFound(f"no key {kid!r} in the ring", field="kid")
            if found.state is KeyState.ACTIVE:
                raise InvalidTransition("the active key cannot be retired; rotate first")
            if found.state is KeyState.RETIRED:
                raise InvalidTransition(f"key {kid!r} is already retired")
            retired = _entry(kid, KeyState.RETIRED, found.created_at)
            self._write_manifest([retired if e.kid == kid else e for e in entries])
            (self.directory / f"{kid}.pem").unlink(missing_ok=True)

    def _new_key_entry(self) -> RingEntry:
        key = RSAKey.generate_key(RSA_BITS, private=True)
        # Dated, so `keys list` reads in order; never starting with "-", so it is no CLI option.
        kid = f"{datetime.now(UTC):%Y%m%d}-{key.thumbprint()[:16]}"
        key = RSAKey.import_key(key.as_pem(private=True), {"kid": kid})
        self._write_key(key)
        return _entry(kid, KeyState.ACTIVE)

    def _write_key(self, key: RSAKey) -> None:
        path = self.directory / f"{key.kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.as_pem(private=True))

    def _write_manifest(self, entries: list[RingEntry]) -> None:
        body = {
            "keys": [
                {"kid": e.kid, "state": e.state.value, "created_at": e.created_at} for e in entries
            ]
        }
        tmp = self.directory / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(body, indent=2))
        os.replace(tmp, self.directory / MANIFEST)
        with self._lock:
            self._snapshot = None

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _version(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _entry(kid: str, state: KeyState, created_at: str | None = None) -> RingEntry:
    return RingEntry(kid, state, created_at or datetime.now(UTC).isoformat(timespec="seconds"))
