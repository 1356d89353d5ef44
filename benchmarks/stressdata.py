"""Seeded synthetic data at realistic scale: a red-line layer and parcel inventories.

Red-line polygons are star-shaped around random centres inside Chongqing (so every polygon is
valid by construction) and never overlap each other (as red-line patches do not), with
log-normally distributed vertex counts (median ≈ 40, 10 to 4 000), ≈ 7 % multipart and ≈ 15 %
with a hole; 100 000 of them cover ≈ 11 000 km² (the real red line: ≈ 20 000 km²). Parcels are
small 4–12-vertex polygons (20–300 m across) with a few points and lines mixed in, plus a small
share of broken sites (swapped axes, self-intersecting) that must come back as error rows. The
same seed gives the same bytes.

Command line: ``python -m benchmarks.stressdata redline OUT.gpkg [--n 100000]`` and
``python -m benchmarks.stressdata parcels OUT.geojson [--n 10000]``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping

REPO = Path(__file__).resolve().parents[1]
ADMIN = REPO / "data" / "boundaries" / "admin_district.geojson"
M_PER_DEG_LAT = 110_574.0


def _chongqing(adcodes: tuple[str, ...] | None = None) -> shapely.Geometry:
    gdf = gpd.read_file(ADMIN)
    if adcodes:
        gdf = gdf[gdf["adcode"].astype(str).isin(adcodes)]
    area = shapely.union_all(gdf.geometry.values)
    shapely.prepare(area)
    return area


def _centres(rng: np.random.Generator, n: int, area: shapely.Geometry) -> np.ndarray:
    """``n`` uniformly random lon/lat points inside ``area`` (rejection sampling)."""
    minx, miny, maxx, maxy = area.bounds
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = np.column_stack([rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)])
        keep = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        out.append(keep)
        have += len(keep)
    return np.concatenate(out)[:n]


def _star(rng: np.random.Generator, cx: float, cy: float, radius_m: float, n: int,
          inner: float = 0.45) -> np.ndarray:
    """A closed star-shaped ring: radius between ``inner``·R and R, smooth random wiggles."""
    # jittered even angles: gaps stay below 1.8 × 2π/n, so the ring never folds over the
    # centre and a hole of 0.3 R fits inside a shell whose radius never drops below 0.45 R
    theta = (np.arange(n) + rng.uniform(-0.4, 0.4, n)) * (2 * math.pi / n)
    wig = np.zeros(n)
    for k in range(1, 6):
        wig += rng.normal(0, 0.35 / k) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    wig += rng.normal(0, 0.03, n)  # vertex-level roughness, as digitised boundaries have
    r = radius_m * np.clip(0.75 + wig, inner, 1.0)
    kx = M_PER_DEG_LAT * math.cos(math.radians(cy))
    ring = np.column_stack([cx + r * np.cos(theta) / kx, cy + r * np.sin(theta) / M_PER_DEG_LAT])
    return np.vstack([ring, ring[:1]])


def _disjoint(rng: np.random.Generator, n: int, area: shapely.Geometry
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, radii (m) and part counts of ``n`` patches whose bounding discs never overlap
    (red-line patches do not overlap each other): random sequential placement."""
    m = int(n * 2.5)
    centres = _centres(rng, m, area)
    radii = np.clip(rng.lognormal(math.log(150), 0.7, m), 40, 5000)
    parts = np.where(rng.random(m) > 0.12, 1, rng.integers(2, 4, m))
    kx = M_PER_DEG_LAT * np.cos(np.radians(centres[:, 1]))
    # parts sit in a row 2.2 radii apart: the patch fits in a disc around the row's middle
    mid_x = centres[:, 0] + (parts - 1) * 1.1 * radii / kx
    reach = radii * (1 + 1.1 * (parts - 1)) * 1.05
    discs = shapely.buffer(shapely.points(mid_x, centres[:, 1]), reach / kx)
    tree = shapely.STRtree(discs)
    taken = np.zeros(m, dtype=bool)
    keep = []
    for i in range(m):
        near = tree.query(discs[i], predicate="intersects")
        if not taken[near].any():
            taken[i] = True
            keep.append(i)
            if len(keep) == n:
                break
    if len(keep) < n:
        raise ValueError(f"only {len(keep)} disjoint patches fit; lower n")
    idx = np.array(keep)
    return centres[idx], radii[idx], parts[idx]


def redline(n: int = 100_000, seed: int = 20261121) -> gpd.GeoDataFrame:
    """The synthetic red-line layer (EPSG:4326) with the attributes eco_redline expects."""
    rng = np.random.default_rng(seed)
    centres, radii, nparts = _disjoint(rng, n, _chongqing())
    counts = np.clip(rng.lognormal(math.log(40), 1.0, n), 10, 4000).astype(int)
    geoms = []
    for i in range(n):
        cx, cy = centres[i]
        parts = int(nparts[i])
        polys = []
        for p in range(parts):
            # parts sit on a line, each 2.2 radii apart: discs never touch
            ox = p * 2.2 * radii[i] / (M_PER_DEG_LAT * math.cos(math.radians(cy)))
            shell = _star(rng, cx + ox, cy, radii[i], max(counts[i] // parts, 8))
            holes = []
            if p == 0 and rng.random() < 0.15:
                holes = [_star(rng, cx + ox, cy, radii[i] * 0.3, max(counts[i] // 8, 8),
                               inner=0.6)[::-1]]
            polys.append(shapely.Polygon(shell, holes))
        geoms.append(polys[0] if parts == 1 else shapely.MultiPolygon(polys))
    return gpd.GeoDataFrame({
        "code": [f"SYN-{i:06d}" for i in range(n)],
        "name": [f"合成红线斑块{i}" for i in range(n)],
        "category": rng.choice(["生物多样性维护", "水源涵养", "水土保持"], n),
    }, geometry=geoms, crs="EPSG:4326")


def parcels(n: int = 10_000, seed: int = 7, *, broken_share: float = 0.002,
            industries: tuple[str, ...] = ("C2614", "C3011", "K7010", "C1391", "D4411"),
            adcodes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A FeatureCollection of ``n`` parcels inside Chongqing, or inside the given districts
    (GeoJSON dict, lon/lat)."""
    rng = np.random.default_rng(seed)
    centres = _centres(rng, n, _chongqing(adcodes))
    feats = []
    for i in range(n):
        cx, cy = centres[i]
        roll = rng.random()
        if roll < 0.05:
            geom: dict[str, Any] = {"type": "Point", "coordinates": [cx, cy]}
        elif roll < 0.08:
            kx = M_PER_DEG_LAT * math.cos(math.radians(cy))
            geom = {"type": "LineString", "coordinates": [
                [cx, cy], [cx + rng.uniform(200, 900) / kx, cy + rng.uniform(-400, 400) / M_PER_DEG_LAT]]}
        else:
            ring = _star(rng, cx, cy, rng.uniform(10, 150), int(rng.integers(4, 13)), inner=0.6)
            geom = mapping(shapely.Polygon(ring))
        if rng.random() < broken_share:
            if rng.random() < 0.5:
                geom = {"type": "Point", "coordinates": [cy, cx]}  # latitude first
            else:
                geom = {"type": "Polygon", "coordinates": [[[cx, cy], [cx + 0.01, cy + 0.01],
                                                            [cx + 0.01, cy], [cx, cy + 0.01],
                                                            [cx, cy]]]}  # bow tie
        feats.append({"type": "Feature", "geometry": json.loads(json.dumps(geom)),
                      "properties": {"id": f"P{i:07d}",
                                     "industry": str(rng.choice(industries)),
                                     "nature": "new" if rng.random() < 0.7 else "expansion"}})
    return {"type": "FeatureCollection", "features": feats}


def main(argv: list[str] | None = None) -> None:
    """Write a red-line GeoPackage or a parcel GeoJSON."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.stressdata")
    ap.add_argument("what", choices=("redline", "parcels"))
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args(argv)
    if a.what == "redline":
        gdf = redline(a.n or 100_000, **({"seed": a.seed} if a.seed is not None else {}))
        gdf.to_file(a.out, driver="GPKG", engine="pyogrio")
    else:
        fc = parcels(a.n or 10_000, **({"seed": a.seed} if a.seed is not None else {}))
        a.out.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
