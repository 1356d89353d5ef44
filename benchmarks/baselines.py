"""Baselines measured in the same run: the same spatial checks done the way a GIS team would
otherwise do them.

The checks are exactly the questions our engine asks of the layers for one site
(``spatial.bulk.plan``: every layer a rule uses, at every reach a rule or the ``nearest``
block needs): overlap area for reach 0, nearest distance for reach > 0. Both baselines answer
only these questions — no rule logic, no verdict document — which flatters them.

(a) naive geopandas: per request, ``sjoin`` of the site against each layer's GeoDataFrame
    (spatial index built once and reused), overlaps by ``overlay`` and distances in the site's
    UTM zone;
(b) PostGIS: PostgreSQL 15 + PostGIS 3 from Debian, a throwaway cluster, layers loaded with
    ``ogr2ogr``, GiST indexes on ``geom`` and on ``geom::geography``, all checks in one SQL
    statement (``ST_Intersects`` + ``ST_Area(ST_Intersection(..)::geography)``,
    ``ST_DWithin``/``ST_Distance`` on geography), prepared, over a local socket; timed on the
    tables as loaded and on ``ST_Subdivide``d copies (≤ 256 vertices a piece, the usual tuning),
    and the faster of the two is the baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely

from benchmarks.inprocess import percentiles
from spatial.bulk import plan
from spatial.service import ScreeningService

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEBIAN_PACKAGES = ["postgresql-15", "postgresql-15-postgis-3", "gdal-bin"]


def questions(service: ScreeningService) -> list[tuple[str, float]]:
    """The (layer, reach) checks one screening makes (site accuracy 0)."""
    layers = service.layers()
    return sorted(plan(service.ruleset.rules, layers, 0.0))


# -- (a) naive geopandas ----------------------------------------------------------------------

def naive_geopandas(service: ScreeningService, sites: list[dict[str, Any]],
                    rounds: int = 1) -> dict[str, Any]:
    """Per-request sjoin/overlay against each layer (layers read once, indexes built once)."""
    layers = service.layers()
    frames = {kind: service.store.read(lay.version) for kind, lay in layers.layers.items()}
    for f in frames.values():
        _ = f.sindex  # built once, as a long-running script would keep it
    checks = questions(service)
    times = []
    for _ in range(rounds):
        for geom in sites:
            t0 = time.perf_counter()
            _naive_one(frames, checks, shapely.geometry.shape(geom))
            times.append((time.perf_counter() - t0) * 1000)
    return percentiles(times)


def _naive_one(frames: dict[str, gpd.GeoDataFrame], checks: list[tuple[str, float]],
               site_ll: shapely.Geometry) -> dict[tuple[str, float], float | None]:
    site = gpd.GeoDataFrame(geometry=[site_ll], crs="EPSG:4326")
    utm = site.estimate_utm_crs()
    site_m = site.to_crs(utm)
    out: dict[tuple[str, float], float | None] = {}
    for kind, reach in checks:
        layer = frames[kind]
        if reach == 0:
            hits = gpd.sjoin(layer, site, predicate="intersects")
            out[(kind, reach)] = float(gpd.overlay(
                site_m, hits.drop(columns="index_right").to_crs(utm), how="intersection",
                keep_geom_type=False).area.sum()) if len(hits) else 0.0
        else:
            zone = gpd.GeoDataFrame(geometry=site_m.buffer(reach).to_crs("EPSG:4326"))
            hits = gpd.sjoin(layer, zone, predicate="intersects")
            out[(kind, reach)] = (float(hits.to_crs(utm).distance(site_m.geometry.iloc[0]).min())
                                  if len(hits) else None)
    return out


# -- (b) PostGIS ---------------------------------------------------------------------------

def ensure_postgis() -> None:
    """Install PostgreSQL + PostGIS + ogr2ogr from Debian when missing (needs root)."""
    if (PG_BIN / "initdb").exists() and shutil.which("ogr2ogr") and Path(
            "/usr/share/postgresql/15/extension/postgis.control").exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", *DEBIAN_PACKAGES], check=True, env=env,
                   capture_output=True)


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a Unix socket; yields a libpq connection string."""
    ensure_postgis()
    root = Path(tempfile.mkdtemp(prefix="redline-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "postgres", "--no-sync"], check=True, capture_output=True)
    opts = f"-c listen_addresses='' -k {sock} -c shared_buffers=512MB -c fsync=off " \
           "-c work_mem=64MB -c jit=off"
    subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l",
                    str(root / "log"), "start"], check=True, capture_output=True)
    dsn = f"host={sock} user=postgres dbname=postgres"
    try:
        yield dsn
    finally:
        subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def postgis(service: ScreeningService, sites: list[dict[str, Any]], rounds: int = 1
            ) -> dict[str, Any]:
    """Load the active layers into PostGIS and time the same checks per site."""
    import psycopg

    layers = service.layers()
    checks = questions(service)
    with postgres() as dsn:
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        t0 = time.perf_counter()
        for kind, lay in layers.layers.items():
            _load(dsn, kind, lay.version.path)
        with psycopg.connect(dsn, autocommit=True) as con:
            for kind in layers.layers:
                con.execute(f"CREATE INDEX ON {kind} USING GIST ((geom::geography))")
                # the usual PostGIS tuning for large polygons and long rivers: pieces of at
                # most 256 vertices, so index hits and distance/area work stay small
                con.execute(f"CREATE TABLE {kind}_sub AS SELECT fid, ST_Subdivide(geom, 256) "
                            f"AS geom FROM {kind}")
                con.execute(f"CREATE INDEX ON {kind}_sub USING GIST (geom)")
                con.execute(f"CREATE INDEX ON {kind}_sub USING GIST ((geom::geography))")
                con.execute(f"ANALYZE {kind}")
                con.execute(f"ANALYZE {kind}_sub")
        out: dict[str, Any] = {"load_s": time.perf_counter() - t0, "checks": len(checks)}
        for variant, suffix in (("plain", ""), ("subdivided", "_sub")):
            out[variant] = _time(dsn, _sql(checks, suffix), sites, rounds)
    best = min(("plain", "subdivided"), key=lambda v: out[v]["p50_ms"])
    out.update({k: out[best][k] for k in ("p50_ms", "p99_ms", "n")}, best=best)
    return out


def _time(dsn: str, sql: str, sites: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    import psycopg

    times = []
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=0) as con:
        for geom in sites[:10]:
            con.execute(sql, {"site": json.dumps(geom)}).fetchall()  # warm, prepare
        for _ in range(rounds):
            for geom in sites:
                t0 = time.perf_counter()
                con.execute(sql, {"site": json.dumps(geom)}).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
    return percentiles(times)


def _load(dsn: str, kind: str, path: Path) -> None:
    source_layer = str(pyogrio.list_layers(path)[0][0])
    subprocess.run(["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), source_layer,
                    "-nln", kind, "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid",
                    "-lco", "SPATIAL_INDEX=GIST", "-nlt", "PROMOTE_TO_MULTI", "-t_srs", "EPSG:4326",
                    "--config", "PG_USE_COPY", "YES"], check=True, capture_output=True)


def _sql(checks: list[tuple[str, float]], suffix: str = "") -> str:
    """One statement answering every check; ``suffix`` "_sub" uses the subdivided tables
    (counts are of distinct features, sums and minima are unchanged by subdividing)."""
    parts = []
    for kind, reach in checks:
        table = f"{kind}{suffix}"
        if reach == 0:
            parts.append(
                f"SELECT '{kind}', 0.0, count(DISTINCT f.fid), "
                f"sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) "
                f"FROM {table} f, s WHERE ST_Intersects(f.geom, s.g)")
        else:
            parts.append(
                f"SELECT '{kind}', {reach}, count(DISTINCT f.fid), "
                f"min(ST_Distance(f.geom::geography, s.gg)) "
                f"FROM {table} f, s WHERE ST_DWithin(f.geom::geography, s.gg, {reach})")
    return ("WITH s AS (SELECT g, g::geography AS gg FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON("
            "%(site)s), 4326) AS g) x) " + " UNION ALL ".join(parts))
