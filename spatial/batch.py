"""Screen many sites (a parcel inventory) one by one with the same engine as a single
screening: each result row equals screening that site alone; a bad site gets an error row and
never stops the batch."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from spatial.errors import RedlineError
from spatial.service import ScreeningRequest, ScreeningService

PROJECT_KEYS = ("industry", "nature", "type", "activity", "flags")
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class BatchOptions:
    """Defaults for every site; per-feature properties of the same name override them."""

    project: dict[str, Any]
    crs: str | None = None
    radius_m: float | None = None
    corridor_width_m: float | None = None


def rows(service: ScreeningService, features: list[dict[str, Any]], opts: BatchOptions,
         progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """One result row per feature, in order; ``progress(done, total, rate)`` after each."""
    total = len(features)
    start = time.monotonic()
    for i, feature in enumerate(features):
        yield _row(service, i, feature, opts)
        if progress:
            elapsed = max(time.monotonic() - start, 1e-9)
            progress(i + 1, total, (i + 1) / elapsed)


def _row(service: ScreeningService, i: int, feature: dict[str, Any],
         opts: BatchOptions) -> dict[str, Any]:
    props = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
    project = {**opts.project, **{k: props[k] for k in PROJECT_KEYS if k in props}}
    base: dict[str, Any] = {"index": i, "site_id": props.get("id", props.get("name", i))}
    try:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        doc = service.evaluate(ScreeningRequest(
            site=geometry, project=project, crs=opts.crs,
            radius_m=props.get("radius_m", opts.radius_m),
            corridor_width_m=props.get("corridor_width_m", opts.corridor_width_m)))
    except RedlineError as exc:
        return {**base, "verdict": "error", "error_code": exc.code, "error": exc.message_zh,
                "geometry": None}
    return {**base, "verdict": doc["verdict"], "error_code": None, "error": None,
            "forbid_rules": [f["rule_id"] for f in doc["findings"] if f["verdict"] == "forbid"],
            "restrict_rules": [f["rule_id"] for f in doc["findings"] if f["verdict"] == "restrict"],
            "not_evaluated": [g["code"] for g in doc["not_evaluated"]],
            "nearest_m": {n["label_zh"]: n["distance_m"] for n in doc.get("nearest", [])},
            "area_m2": doc["site"]["area_m2"], "geometry": doc["site"]["geometry"]}


def to_geojson(results: Iterable[dict[str, Any]]) -> str:
    """Rows as a FeatureCollection (the screened footprint; properties = the row)."""
    feats = [{"type": "Feature", "geometry": r.get("geometry"),
              "properties": {k: v for k, v in r.items() if k != "geometry"}} for r in results]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)


def to_csv(results: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV: one line per site, rule ids joined with ';', distances as columns."""
    results = list(results)
    labels = sorted({k for r in results for k in (r.get("nearest_m") or {})})
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["index", "site_id", "verdict", "forbid_rules", "restrict_rules",
                "not_evaluated", "area_m2", *[f"距{label}_m" for label in labels],
                "error_code", "error"])
    for r in results:
        near = r.get("nearest_m") or {}
        w.writerow([r["index"], r["site_id"], r["verdict"], ";".join(r.get("forbid_rules") or []),
                    ";".join(r.get("restrict_rules") or []),
                    ";".join(r.get("not_evaluated") or []), r.get("area_m2") or "",
                    *["" if near.get(label) is None else near[label] for label in labels],
                    r.get("error_code") or "", r.get("error") or ""])
    return out.getvalue()
