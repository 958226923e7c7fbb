"""A deterministic generator of a realistic demo catalog: the same seed and sizes always give the
same organizations, datasets and files, so loading it twice changes nothing.

Records are yielded in the JSON Lines ingest format, one dataset followed by its files, so the
generator streams at any size (a million files never sit in memory) and the demo is loaded by
the same ingest code that loads real catalogs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from catalog.ontology import shipped

STEWARDS = [
    ("northbridge-genomics", "Northbridge Genomics Center"),
    ("lakeside-cancer-institute", "Lakeside Cancer Institute"),
    ("meridian-health-research", "Meridian Health Research Network"),
    ("cascadia-brain-initiative", "Cascadia Brain Initiative"),
    ("harbor-pediatric-biobank", "Harbor Pediatric Biobank"),
    ("sierra-imaging-consortium", "Sierra Imaging Consortium"),
]
FUNDERS = [
    ("national-genome-fund", "National Genome Research Fund", "NGR"),
    ("wellspring-foundation", "Wellspring Medical Foundation", "WMF"),
    ("european-biodata-council", "European Biodata Council", "EBC"),
    ("open-science-trust", "Open Science Trust", "OST"),
]

FORMATS_BY_TYPE = {
    "WGS": ["CRAM", "gVCF", "VCF"],
    "WES": ["CRAM", "VCF"],
    "Targeted sequencing": ["BAM", "VCF"],
    "RNA-seq": ["FASTQ", "BAM", "TSV"],
    "scRNA-seq": ["FASTQ", "h5ad"],
    "Spatial transcriptomics": ["OME-TIFF", "h5ad"],
    "ATAC-seq": ["FASTQ", "BED", "bigWig"],
    "ChIP-seq": ["FASTQ", "BED", "bigWig"],
    "Methylation array": ["IDAT", "CSV"],
    "Genotyping array": ["VCF", "IDAT"],
    "Proteomics": ["Parquet", "TSV"],
    "Metabolomics": ["CSV", "HDF5"],
    "Imaging": ["DICOM", "NIfTI"],
    "Histopathology imaging": ["SVS", "OME-TIFF"],
    "MRI": ["DICOM", "NIfTI"],
    "CT": ["DICOM"],
    "EHR": ["FHIR NDJSON", "Parquet"],
    "Clinical": ["CSV", "XLSX"],
    "Survey": ["CSV", "JSON"],
}
TYPICAL_SIZE = {  # median bytes of one file of the format
    "CRAM": 18_000_000_000,
    "BAM": 9_000_000_000,
    "FASTQ": 6_000_000_000,
    "VCF": 350_000_000,
    "gVCF": 4_000_000_000,
    "BED": 40_000_000,
    "bigWig": 250_000_000,
    "IDAT": 8_000_000,
    "DICOM": 600_000,
    "NIfTI": 45_000_000,
    "SVS": 1_200_000_000,
    "OME-TIFF": 2_500_000_000,
    "FHIR NDJSON": 90_000_000,
    "Parquet": 120_000_000,
    "CSV": 6_000_000,
    "TSV": 25_000_000,
    "XLSX": 3_000_000,
    "JSON": 2_000_000,
    "HDF5": 500_000_000,
    "h5ad": 1_500_000_000,
    "MAF": 30_000_000,
    "PDF": 1_000_000,
}
STUDY_DESIGNS = [
    "a prospective cohort",
    "a case-control study",
    "a population biobank",
    "a clinical trial",
    "a tumour-normal sequencing project",
    "a family-based study",
]


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class DemoCommittee:
    slug: str
    name: str
    organization: str


def organizations() -> list[DemoOrganization]:
    return [DemoOrganization(s, n, "steward") for s, n in STEWARDS] + [
        DemoOrganization(s, n, "funder") for s, n, _ in FUNDERS
    ]


def committees() -> list[DemoCommittee]:
    return [
        DemoCommittee(f"{slug}-dac", f"{name} Data Access Committee", slug)
        for slug, name in STEWARDS
    ]


def accession(n: int) -> str:
    return f"ATR-DS-{n:06d}"


LOCAL_EVERY = 5  # every fifth dataset keeps its files in Atrium's local storage ...
LOCAL_UP_TO = 500  # ... among the first 500, so large benchmark catalogs stay small on disk


def is_local(n: int) -> bool:
    return n % LOCAL_EVERY == 0 and n <= LOCAL_UP_TO


def local_content(seed: int, accession_: str, index: int) -> bytes:
    """Bytes of a local demo file: deterministic, 1 to 16 KiB, so downloads can be checked."""
    stream = hashlib.shake_256(f"{seed}:{accession_}:{index}".encode())
    size = 1024 + int.from_bytes(stream.digest(2), "big") % (15 * 1024)
    return stream.digest(size + 2)[2:]


def local_key(accession_: str, name: str) -> str:
    return f"{accession_}/{name}"


def local_files(*, datasets: int, files_per_dataset: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """(storage key, bytes) of every local demo file, for the loader to write to disk."""
    for n in range(1, datasets + 1):
        if not is_local(n):
            continue
        for record in dataset_records(n, files_per_dataset=files_per_dataset, seed=seed):
            if record["type"] != "file":
                continue
            key = record["access_methods"][0]["url"].removeprefix("file:///")
            yield key, local_content(seed, record["dataset"], int(record["id"].rsplit("-f", 1)[1]))


def records(*, datasets: int, files_per_dataset: int, seed: int) -> Iterator[dict[str, Any]]:
    """Dataset records, each followed by its file records and, for local datasets, two
    bundles (one nested in the other)."""
    for n in range(1, datasets + 1):
        yield from dataset_records(n, files_per_dataset=files_per_dataset, seed=seed)


def dataset_records(n: int, *, files_per_dataset: int, seed: int) -> Iterator[dict[str, Any]]:
    """The records of dataset ``n`` alone: each dataset has its own random stream, so any one
    can be regenerated without the others."""
    vocab = shipped("vocabularies")
    diseases = [t for t in shipped("mondo") if t["parents"]]
    phenotypes = [t for t in vocab["phenotypes"] if t["parents"]]
    extensions = {f["name"]: f["extensions"][0] for f in vocab["file_formats"]}
    mime_types = {f["name"]: f["mime_type"] for f in vocab["file_formats"]}
    rng = random.Random(f"{seed}:{n}")  # noqa: S311 - demo data, not secrets
    dataset = _dataset(rng, n, diseases, phenotypes)
    yield dataset
    for i in range(files_per_dataset):
        yield _file(rng, dataset, i, seed, extensions, mime_types, local=is_local(n))
    if is_local(n) and files_per_dataset >= 3:
        yield from _bundles(dataset)


def _dataset(
    rng: random.Random, n: int, diseases: list[dict[str, Any]], phenotypes: list[dict[str, Any]]
) -> dict[str, Any]:
    steward_slug, steward_name = rng.choice(STEWARDS)
    data_types = rng.sample(sorted(FORMATS_BY_TYPE), k=rng.choice([1, 1, 2, 3]))
    formats = sorted({f for t in data_types for f in FORMATS_BY_TYPE[t]})
    studied = rng.sample(diseases, k=rng.choice([1, 1, 2, 3]))
    species = (
        ["Homo sapiens"]
        if rng.random() < 0.9
        else [rng.choice(["Mus musculus", "Rattus norvegicus", "Danio rerio", "Macaca mulatta"])]
    )
    participants = int(rng.lognormvariate(6.5, 1.3)) + 10
    access_level = rng.choices(["open", "registered", "controlled"], weights=[3, 2, 5])[0]
    design = rng.choice(STUDY_DESIGNS)
    title = (
        f"{' and '.join(data_types)} of {studied[0]['label']} in {design.split(' ', 1)[1]}"
        f" ({steward_name.split()[0]} {n})"
    )
    funders = [
        {
            "funder": slug,
            "award_number": f"{prefix}-{rng.randint(2015, 2026)}-{rng.randint(1000, 99999)}",
        }
        for slug, _, prefix in rng.sample(FUNDERS, k=rng.choice([1, 1, 2]))
    ]
    record: dict[str, Any] = {
        "type": "dataset",
        "accession": accession(n),
        "title": title[:500],
        "description": (
            f"{' and '.join(data_types)} data from {participants:,} participants of {design} on "
            f"{', '.join(d['label'] for d in studied)}, stewarded by {steward_name}. "
            f"Files are provided as {', '.join(formats)}."
        ),
        "keywords": sorted({studied[0]["label"], *data_types, design.split(" ", 1)[1]}),
        "diseases": [d["curie"] for d in studied],
        "phenotypes": [p["curie"] for p in rng.sample(phenotypes, k=rng.choice([0, 0, 1, 2]))],
        "data_types": data_types,
        "file_formats": formats,
        "species": species,
        "participant_count": participants,
        "sample_count": participants * rng.choice([1, 1, 2, 3]),
        "access_level": access_level,
        "data_use": _data_use(rng, access_level, studied[0]["curie"]),
        "steward": steward_slug,
        "funders": funders,
        "license": "CC-BY-4.0" if access_level == "open" else "Atrium Data Use Agreement v2",
        "publications": (
            [{"scheme": "doi", "identifier": f"10.5555/atrium.demo.{n}"}]
            if rng.random() < 0.4
            else []
        ),
        "status": "draft" if rng.random() < 0.05 else "published",
    }
    if access_level == "controlled":
        record["committee"] = f"{steward_slug}-dac"
    return record


def _data_use(rng: random.Random, access_level: str, disease: str) -> dict[str, Any]:
    if access_level == "open":
        return {"permission": rng.choice(["NRES", "GRU"])}
    permission = rng.choices(["GRU", "HMB", "DS", "POA"], weights=[3, 4, 4, 1])[0]
    modifiers = sorted(
        rng.sample(["NPU", "IRB", "PUB", "COL", "GSO", "NCU", "MOR"], k=rng.choice([0, 1, 1, 2]))
    )
    data_use: dict[str, Any] = {"permission": permission, "modifiers": modifiers}
    if permission == "DS":
        data_use["diseases"] = [disease]
    return data_use


def _dataset_files(n: int, files_per_dataset: int, seed: int) -> Iterator[dict[str, Any]]:
    return (
        r
        for r in records(datasets=n, files_per_dataset=files_per_dataset, seed=seed)
        if r["type"] == "file" and r["dataset"] == accession(n)
    )


def _bundles(dataset: dict[str, Any]) -> Iterator[dict[str, Any]]:
    prefix = dataset["accession"].lower()
    yield {
        "type": "bundle",
        "dataset": dataset["accession"],
        "id": f"{prefix}-pair",
        "name": "read pair",
        "members": [
            {"name": "reads_1", "object_id": f"{prefix}-f00000"},
            {"name": "reads_2", "object_id": f"{prefix}-f00001"},
        ],
    }
    yield {
        "type": "bundle",
        "dataset": dataset["accession"],
        "id": f"{prefix}-sample",
        "name": "sample bundle",
        "members": [
            {"name": "pair", "object_id": f"{prefix}-pair"},
            {"name": "variants", "object_id": f"{prefix}-f00002"},
        ],
    }


def _file(
    rng: random.Random,
    dataset: dict[str, Any],
    i: int,
    seed: int,
    extensions: dict[str, str],
    mime_types: dict[str, str],
    *,
    local: bool,
) -> dict[str, Any]:
    fmt = rng.choice(dataset["file_formats"])
    sample = f"S{rng.randint(1, dataset['sample_count']):06d}"
    name = f"{sample}-{i:05d}{extensions[fmt]}"
    size = max(1, int(rng.lognormvariate(0, 0.5) * TYPICAL_SIZE[fmt]))
    digest_source = f"{seed}:{dataset['accession']}:{name}:{size}".encode()
    if local:
        digest_source = local_content(seed, dataset["accession"], i)
        size = len(digest_source)
    bucket = dataset["steward"]
    if local:
        method: dict[str, Any] = {
            "type": "file",
            "url": f"file:///{local_key(dataset['accession'], name)}",
        }
    elif rng.random() < 0.7:
        method = {
            "type": "s3",
            "url": f"s3://{bucket}-data/{dataset['accession']}/{name}",
            "region": "us-east-1",
        }
    else:
        method = {
            "type": "gs",
            "url": f"gs://{bucket}-data/{dataset['accession']}/{name}",
            "region": "us-central1",
        }
    return {
        "type": "file",
        "dataset": dataset["accession"],
        "id": f"{dataset['accession'].lower()}-f{i:05d}",
        "name": name,
        "size": size,
        "mime_type": mime_types[fmt],
        "checksums": [
            {"type": "sha-256", "checksum": hashlib.sha256(digest_source).hexdigest()},
            {
                "type": "md5",
                "checksum": hashlib.md5(digest_source, usedforsecurity=False).hexdigest(),
            },
        ],
        "access_methods": [method],
    }
