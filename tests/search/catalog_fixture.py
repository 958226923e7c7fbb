"""The fixture catalog every backend is held to: small enough to count by hand, varied enough
to exercise ranking, facets, ranges, visibility and access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from catalog import service
from catalog.models import Dataset, Organization
from catalog.principals import SYSTEM
from tests.factories import Factory

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass
class FixtureCatalog:
    steward_a: Organization
    steward_b: Organization
    funder_x: Organization
    funder_y: Organization
    datasets: dict[str, Dataset]

    def accession(self, key: str) -> str:
        return self.datasets[key].accession


def build(factory: Factory, session: Session) -> FixtureCatalog:
    steward_a = factory.organization(name="Northern Biobank Institute")
    steward_b = factory.organization(name="Coastal Imaging Consortium")
    funder_x = factory.organization("funder", name="Wellspring Foundation")
    funder_y = factory.organization("funder", name="National Cardiology Fund")
    human = ["Homo sapiens"]
    specs: dict[str, dict[str, object]] = {
        "breast_wgs": {
            "steward": steward_a,
            "title": "Breast cancer whole genomes",
            "description": "Germline and tumour genomes from a hereditary cancer cohort.",
            "keywords": ["BRCA1", "hereditary"],
            "diseases": ["MONDO:0007254"],
            "data_types": ["WGS"],
            "file_formats": ["CRAM", "VCF"],
            "species": human,
            "participant_count": 1200,
            "funders": [{"funder": funder_x.slug}],
            "data_use": {"permission": "GRU"},
            "age_days": 3,
        },
        "breast_rna": {
            "steward": steward_a,
            "title": "Tumour transcriptomes",
            "description": "RNA-seq of breast carcinoma biopsies <with> markup & ampersands.",
            "diseases": ["MONDO:0004989"],
            "data_types": ["RNA-seq"],
            "file_formats": ["FASTQ"],
            "species": human,
            "participant_count": 340,
            "funders": [{"funder": funder_x.slug}],
            "data_use": {"permission": "DS", "diseases": ["MONDO:0007254"]},
            "access_level": "controlled",
            "age_days": 40,
        },
        "heart": {
            "steward": steward_b,
            "title": "Cardiac MRI after infarction",
            "description": "Imaging of patients after a heart attack, with follow-up.",
            "diseases": ["MONDO:0005068"],
            "data_types": ["Imaging"],
            "file_formats": ["DICOM"],
            "species": human,
            "participant_count": 15000,
            "funders": [{"funder": funder_y.slug}],
            "data_use": {"permission": "HMB", "modifiers": ["NPU"]},
            "access_level": "registered",
            "age_days": 10,
        },
        "mouse": {
            "steward": steward_b,
            "title": "Mouse models of atherosclerosis",
            "description": "Whole genomes of knockout mice fed a high-fat diet.",
            "diseases": ["MONDO:0005311"],
            "data_types": ["WGS"],
            "file_formats": ["CRAM"],
            "species": ["Mus musculus"],
            "participant_count": 60,
            "funders": [{"funder": funder_y.slug}, {"funder": funder_x.slug}],
            "data_use": {"permission": "GRU"},
            "age_days": 400,
        },
        "ehr": {
            "steward": steward_a,
            "title": "Lupus electronic health records",
            "description": "Longitudinal records; genomes are not included.",
            "diseases": ["MONDO:0007915"],
            "data_types": ["EHR"],
            "file_formats": ["FHIR NDJSON"],
            "species": human,
            "participant_count": None,
            "data_use": {"permission": "HMB", "modifiers": ["IRB"]},
            "access_level": "controlled",
            "age_days": 200,
        },
        "retired": {
            "steward": steward_a,
            "title": "Retired breast cancer genomes",
            "description": "Superseded.",
            "diseases": ["MONDO:0007254"],
            "data_types": ["WGS"],
            "species": human,
            "participant_count": 5,
            "age_days": 1,
            "retire": True,
        },
        "draft": {
            "steward": steward_b,
            "title": "Draft heart genomes",
            "description": "Not yet public.",
            "diseases": ["MONDO:0005068"],
            "data_types": ["WGS"],
            "species": human,
            "participant_count": 77,
            "age_days": 2,
            "publish": False,
        },
    }
    datasets = {}
    for key, spec in specs.items():
        spec = dict(spec)
        age = spec.pop("age_days")
        retire = spec.pop("retire", False)
        publish = spec.pop("publish", True)
        steward = spec.pop("steward")
        assert isinstance(steward, Organization)
        dataset = factory.dataset(steward, publish=bool(publish), **spec)
        if retire:
            service.retire_dataset(
                session, SYSTEM, accession=dataset.accession, reason="superseded"
            )
        session.execute(
            text("UPDATE datasets SET updated_at = :at WHERE id = :id"),
            {"at": NOW - timedelta(days=float(str(age))), "id": dataset.id},
        )
        datasets[key] = dataset
    session.flush()
    return FixtureCatalog(steward_a, steward_b, funder_x, funder_y, datasets)
