"""What an ingest did, counted as it goes, for the command line and the demo loader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class IngestReport:
    source: str
    lines: int = 0
    datasets_created: int = 0
    datasets_updated: int = 0
    datasets_published: int = 0
    datasets_unchanged: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    bundles_new: int = 0
    bundles_changed: int = 0
    bundles_unchanged: int = 0
    seconds: float = 0.0

    @property
    def files(self) -> int:
        return self.files_new + self.files_changed + self.files_unchanged

    def summary(self) -> str:
        datasets = (
            f"datasets: {self.datasets_created:,} created, {self.datasets_updated:,} updated,"
            f" {self.datasets_published:,} published, {self.datasets_unchanged:,} unchanged"
        )
        files = (
            f"files: {self.files_new:,} new, {self.files_changed:,} changed,"
            f" {self.files_unchanged:,} unchanged"
        )
        bundles = (
            f"bundles: {self.bundles_new:,} new, {self.bundles_changed:,} changed,"
            f" {self.bundles_unchanged:,} unchanged"
        )
        rate = f" ({self.files / self.seconds:,.0f} files/s)" if self.seconds and self.files else ""
        return (
            f"Ingested {self.source} ({self.lines:,} lines) in {self.seconds:.1f} s{rate}\n"
            f"  {datasets}\n  {files}\n  {bundles}"
        )
