"""Batch results as files: CSV (one line per site) and GeoJSON, written as rows arrive.

The distance columns are the fixed list of ``nearest`` constraints, so a file can be streamed
chunk by chunk without knowing every row first.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from spatial.batch.chunks import counts
from spatial.screening.nearest import CONSTRAINTS
from spatial.service import to_json

LABELS = [label for label, _, _ in CONSTRAINTS]


def csv_header() -> list[str]:
    """CSV columns: identity, verdict, rule ids, area, one distance column per constraint."""
    return ["index", "site_id", "verdict", "forbid_rules", "restrict_rules", "not_evaluated",
            "area_m2", *[f"距{label}_m" for label in LABELS], "error_code", "error"]


def csv_line(r: dict[str, Any]) -> list[Any]:
    """One row as CSV values (rule ids joined with ';', empty for unknown distances)."""
    near = r.get("nearest_m") or {}
    area = r.get("area_m2")
    return [r["index"], r["site_id"], r["verdict"], ";".join(r.get("forbid_rules") or []),
            ";".join(r.get("restrict_rules") or []), ";".join(r.get("not_evaluated") or []),
            "" if area is None else area,
            *["" if near.get(label) is None else near[label] for label in LABELS],
            r.get("error_code") or "", r.get("error") or ""]


def feature_of(row: dict[str, Any]) -> dict[str, Any]:
    """One row as a GeoJSON Feature (the screened footprint; properties = the row)."""
    return {"type": "Feature", "geometry": row.get("geometry"),
            "properties": {k: v for k, v in row.items() if k != "geometry"}}


class BatchWriter:
    """Appends rows to a CSV or GeoJSON file; ``close`` completes the file."""

    def __init__(self, path: Path | None, fmt: str, stream: IO[str] | None = None):
        self.fmt = fmt
        if stream is None:
            assert path is not None, "a path or a stream"
            stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.fh: IO[str] = stream
        self.count = 0
        self.counts = counts([])
        if fmt == "csv":
            self.fh.write("\ufeff")  # one BOM, so spreadsheet programs read the UTF-8
            self._csv = csv.writer(self.fh)
            self._csv.writerow(csv_header())
        else:
            self.fh.write('{"type": "FeatureCollection", "features": [\n')

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows (in order) and flush them to disk."""
        for r in rows:
            if self.fmt == "csv":
                self._csv.writerow(csv_line(r))
            else:
                self.fh.write((",\n" if self.count else "") + to_json(feature_of(r)).decode())
            self.count += 1
            self.counts[r["verdict"]] += 1
        self.fh.flush()

    def end(self) -> None:
        """Complete the document (the GeoJSON footer); nothing more may be written."""
        if self.fmt != "csv":
            self.fh.write("\n]}\n")

    def close(self) -> None:
        """Complete the file, fsync and close it."""
        self.end()
        self.fh.flush()
        if hasattr(self.fh, "fileno"):
            with contextlib.suppress(OSError, io.UnsupportedOperation):
                os.fsync(self.fh.fileno())
        self.fh.close()
