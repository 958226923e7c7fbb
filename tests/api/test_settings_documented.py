"""Every setting is documented in the README's settings table, so the table cannot fall behind."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_row_in_the_readme() -> None:
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `ATRIUM_")]
    documented = {line.split("`")[1] for line in rows}

    assert {f"ATRIUM_{name.upper()}" for name in Settings.model_fields} <= documented
