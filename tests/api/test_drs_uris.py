"""DRS URIs of this server to object ids, and the URIs that name none here."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.drs.documents import self_uri
from api.drs.uris import DrsNaming, object_id_from_uri, object_key
from catalog.errors import Invalid

NAMING = DrsNaming(hostname="data.example.org", compact_prefix="atrium")
LOCAL = DrsNaming(hostname="localhost:8000", compact_prefix=None)


@pytest.mark.parametrize(
    ("uri", "naming", "expected"),
    [
        ("drs://data.example.org/atr-ds-000001-f00001", NAMING, "atr-ds-000001-f00001"),
        ("DRS://Data.Example.ORG/atr-ds-000001-f00001", NAMING, "atr-ds-000001-f00001"),
        ("drs://data.example.org/dg.4503%2Fabc", NAMING, "dg.4503/abc"),
        ("drs://localhost:8000/obj-1", LOCAL, "obj-1"),
        ("drs://atrium:obj-1", NAMING, "obj-1"),
        ("drs://ATRIUM:obj-1", NAMING, "obj-1"),
        ("drs://provider/atrium:obj-1", NAMING, "obj-1"),
        ("atrium:obj-1", NAMING, "obj-1"),
        ("atrium:Obj-1", NAMING, "Obj-1"),
        ("drs://atrium:dg.4503/abc", NAMING, "dg.4503/abc"),
        ("drs://provider/atrium:dg.4503/abc", NAMING, "dg.4503/abc"),
    ],
)
def test_both_forms_name_objects_of_this_server(uri: str, naming: DrsNaming, expected: str) -> None:
    assert object_id_from_uri(uri, naming) == expected


@pytest.mark.parametrize(
    ("uri", "naming", "reason"),
    [
        ("drs://other.example.org/obj-1", NAMING, "another server"),
        ("drs://data.example.org/", NAMING, "names no object"),
        ("drs://atrium:", NAMING, "names no object"),
        ("drs://other:obj-1", NAMING, "has prefix 'other'"),
        ("drs://atrium:obj-1", LOCAL, "no prefix"),
        ("obj-1", NAMING, "neither"),
        ("https://data.example.org/obj-1", NAMING, "has prefix 'https'"),
        ("", NAMING, "neither"),
        ("drs://other.example.org:8443/obj-1", NAMING, "another server"),
        ("drs://data.example.org/%00", NAMING, "NUL"),
        ("drs://atrium:a\x00b", NAMING, "NUL"),
        ("drs://data.example.org/" + "a" * 1025, NAMING, "1 to 1024 characters"),
        ("drs://data.example.org", NAMING, "neither"),
    ],
)
def test_uris_naming_nothing_here_are_refused_with_the_reason(
    uri: str, naming: DrsNaming, reason: str
) -> None:
    with pytest.raises(Invalid, match=reason):
        object_id_from_uri(uri, naming)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("obj-1", "obj-1"),
        ("atrium:obj-1", "obj-1"),
        ("ATRIUM:obj-1", "obj-1"),
        ("other:x", "other:x"),
    ],
)
def test_route_ids_lose_this_servers_compact_prefix_in_any_case(raw: str, expected: str) -> None:
    assert object_key(raw, "atrium") == expected
    assert object_key(raw, None) == raw


@pytest.mark.parametrize(
    ("raw", "reason"), [("", "1 to"), ("atrium:", "no accession"), ("a\x00", "NUL")]
)
def test_route_ids_that_can_name_nothing_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        object_key(raw, "atrium")


@given(st.text(min_size=1, max_size=40))
def test_self_uris_quote_every_id_as_urllib_would(object_id: str) -> None:
    assert self_uri("h", object_id) == f"drs://h/{quote(object_id, safe='')}"


@pytest.mark.parametrize("object_id", ["dg.4503/abc", "a b", "a%2F", "ü", "x?y#z", "a~b_c.d-e"])
def test_self_uris_round_trip_through_resolution(object_id: str) -> None:
    assert object_id_from_uri(self_uri(NAMING.hostname, object_id), NAMING) == object_id
