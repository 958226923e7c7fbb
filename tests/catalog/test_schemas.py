"""Text the database cannot store is refused by the input models, whatever the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from catalog.schemas import UNSTORABLE, FileCreate, storable

FILE = {
    "name": "sample.cram",
    "size": 1,
    "checksums": [{"type": "md5", "checksum": "d41d8cd98f00b204e9800998ecf8427e"}],
    "access_methods": [{"type": "s3", "url": "s3://bucket/sample.cram"}],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", True),
        ("", True),
        ("naïve ✓ 🧬", True),
        ("a\x00b", False),
        ("é\x00", False),
        ("a\ud800b", False),
        ("é\udc00", False),
    ],
    ids=repr,
)
def test_storable_means_no_nul_and_no_lone_surrogate(text: str, expected: bool) -> None:
    assert storable(text) is expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "a\x00"),
        ("aliases", ["ok", "é\x00"]),
        ("checksums", [{"type": "md5", "checksum": "\ud800"}]),
        ("access_methods", [{"type": "s3", "url": "s3://b/k", "region": "\x00"}]),
    ],
    ids=repr,
)
def test_unstorable_text_is_refused_with_its_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        FileCreate.model_validate({**FILE, field: value})

    errors = caught.value.errors(include_url=False)
    assert [(e["loc"][0], e["msg"]) for e in errors] == [(field, f"Value error, {UNSTORABLE}")]


def test_non_ascii_text_is_accepted() -> None:
    created = FileCreate.model_validate({**FILE, "name": "naïve ✓", "aliases": ["ß", "🧬"]})

    assert (created.name, created.aliases) == ("naïve ✓", ["ß", "🧬"])
