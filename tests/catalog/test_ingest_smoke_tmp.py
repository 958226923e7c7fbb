import hashlib
import json
from pathlib import Path

from catalog.ingest.runner import ingest_file


def test_smoke(db, factory, tmp_path: Path) -> None:
    org = factory.organization()
    funder = factory.organization("funder")
    dac = factory.committee(org)
    recs = [
        {
            "type": "dataset",
            "accession": "ATR-DS-500001",
            "title": "T",
            "access_level": "controlled",
            "steward": org.slug,
            "committee": dac.slug,
            "status": "published",
            "diseases": ["MONDO:0004992"],
            "funders": [{"funder": funder.slug, "award_number": "A1"}],
            "data_use": {"permission": "DS", "diseases": ["MONDO:0004992"], "modifiers": ["NPU"]},
        },
    ]
    for i in range(5):
        recs.append(
            {
                "type": "file",
                "dataset": "ATR-DS-500001",
                "id": f"f-{i}",
                "name": f"a{i}.cram",
                "size": i,
                "checksums": [
                    {"type": "sha-256", "checksum": hashlib.sha256(str(i).encode()).hexdigest()},
                    {"type": "md5", "checksum": hashlib.md5(str(i).encode()).hexdigest()},
                ],
                "access_methods": [{"type": "s3", "url": f"s3://b/{i}", "region": "us-east-1"}],
                "aliases": [f"x/{i}"],
            }
        )
    recs.append(
        {
            "type": "bundle",
            "dataset": "ATR-DS-500001",
            "id": "b-1",
            "name": "bundle",
            "members": [{"name": "a", "object_id": "f-0"}, {"name": "b", "object_id": "f-1"}],
        }
    )
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs))
    report = ingest_file(db, path)
    print(report.summary())
    report = ingest_file(db, path)
    print(report.summary())
    assert report.files_unchanged == 5
