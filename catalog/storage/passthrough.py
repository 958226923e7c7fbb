"""Access methods whose stored URL is already fetchable (https, gs, ftp, …): handed out
unchanged, never signed. Atrium holds no credentials for these stores."""

from __future__ import annotations

from catalog.storage.base import AccessURL


class Passthrough:
    signed = False

    def access_url(self, url: str, *, region: str | None) -> AccessURL:
        return AccessURL(url)
