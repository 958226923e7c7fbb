"""The demo generator: deterministic, realistic, and valid against the ingest schemas."""

from __future__ import annotations

import itertools
from collections import Counter

from catalog import demo
from catalog.ontology import shipped
from catalog.schemas import BundleCreate, DatasetCreate, FileCreate


def test_same_seed_same_catalog() -> None:
    first = list(demo.records(datasets=5, files_per_dataset=4, seed=1))
    again = list(demo.records(datasets=5, files_per_dataset=4, seed=1))
    other = list(demo.records(datasets=5, files_per_dataset=4, seed=2))
    assert first == again
    assert first != other
    assert len(first) == 5 * (1 + 4) + 2  # dataset 5 keeps local files, in two bundles


def test_records_are_valid_ingest_records() -> None:
    mondo = {t["curie"] for t in shipped("mondo")}
    formats = {f["name"] for f in shipped("vocabularies")["file_formats"]}
    for record in demo.records(datasets=40, files_per_dataset=3, seed=9):
        body = {k: v for k, v in record.items() if k not in ("type", "status", "dataset")}
        if record["type"] == "dataset":
            dataset = DatasetCreate.model_validate(body)
            assert set(dataset.diseases) <= mondo
            assert set(dataset.file_formats) <= formats
            assert (dataset.committee is not None) == (dataset.access_level == "controlled")
        elif record["type"] == "file":
            FileCreate.model_validate(body)
        else:
            assert BundleCreate.model_validate(body).members


def test_catalog_is_varied() -> None:
    datasets = list(demo.records(datasets=300, files_per_dataset=0, seed=42))
    levels = Counter(d["access_level"] for d in datasets)
    assert set(levels) == {"open", "registered", "controlled"}
    assert len({d["steward"] for d in datasets}) == len(demo.STEWARDS)
    assert len({c for d in datasets for c in d["diseases"]}) > 50
    permissions = Counter(d["data_use"]["permission"] for d in datasets)
    assert {"GRU", "HMB", "DS", "POA"} <= set(permissions)


def test_file_ids_are_unique_and_streamed() -> None:
    stream = demo.records(datasets=1000, files_per_dataset=1000, seed=3)
    head = list(itertools.islice(stream, 2002))  # a million files are never materialised
    ids = [r["id"] for r in head if r["type"] == "file"]
    assert len(ids) == len(set(ids)) == 2000
