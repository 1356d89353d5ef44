"""The PostGIS baselines: a throwaway PostgreSQL 15 + PostGIS 3 server, the layers loaded with
``ogr2ogr``, and two SQL formulations of one screening's layer questions.

*Straightforward* (:func:`straightforward_sql`): what most PostGIS users write first, tuned in
the usual way. The layers are ``ST_Subdivide``d to pieces of ≤ 256 vertices with GiST indexes on
``geom`` and on ``geom::geography``; overlaps are ``ST_Intersects`` +
``sum(ST_Area(ST_Intersection(..)::geography))``, distances ``ST_DWithin`` + ``min(ST_Distance)``
on geography, so every candidate within reach is measured on the ellipsoid.

*Expert* (:func:`expert_sql`), the formulation of issue 23:

- the layers subdivided to pieces of at most ``EXPERT_VERTICES`` vertices;
- a second geometry column ``geom_p``, every piece projected once into ``PROJECTION`` (a
  Lambert conformal conic for all of Chongqing; :func:`planar_error` measures its scale error
  against ``pyproj.Geod``), with a GiST index on it, and no index on the lon/lat column;
- overlaps: ``ST_Intersects`` on ``geom_p``; a piece that ``ST_Covers`` the site contributes
  the site's own geography area; otherwise the geography area of the lon/lat intersection.
  Where pieces of more than one feature meet the site, the area of the union of their parts
  (features of one layer may overlap each other, and the engine measures the union);
- distances: the ``KNN`` nearest pieces on ``geom_p`` (``ORDER BY geom_p <-> site LIMIT
  KNN_PIECES``); for those within the reach (planar distance, widened by the projection's
  scale error) the shortest line in the plane, taken back to lon/lat and measured on the
  ellipsoid (``ST_Length(..::geography)``) — the nearest points of a conformal projection are
  the nearest points on the ground to well under a millimetre at these distances, and only
  the length is measured;
- all questions of one screening in ONE statement, prepared once (psycopg ``prepare=True``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pyproj import Geod, Transformer

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEBIAN_PACKAGES = ["postgresql-15", "postgresql-15-postgis-3", "gdal-bin"]

#: the projection of the expert formulation's ``geom_p``: Lambert conformal conic for
#: Chongqing (28.16–32.20°N, 105.29–110.19°E), standard parallels a sixth of the latitude span
#: in from each edge, centred on the municipality
PROJECTION = ("+proj=lcc +lat_1=28.83 +lat_2=31.53 +lat_0=30.18 +lon_0=107.74 +x_0=0 +y_0=0 "
              "+datum=WGS84 +units=m +no_defs")
PROJECTED_SRID = 990_001
#: Chongqing's extent (lon/lat), where the projection's error is measured
EXTENT = (105.29, 28.16, 110.19, 32.20)
EXPERT_VERTICES = 64
STRAIGHT_VERTICES = 256
#: nearest pieces (by planar distance) measured on the ellipsoid per distance question
KNN_PIECES = 4

Question = tuple[str, float]
Answers = dict[Question, float | None]


def ensure_postgis() -> None:
    """Install PostgreSQL + PostGIS + ogr2ogr from Debian when missing (needs root); waits
    up to 10 minutes for another apt/dpkg run to release its lock instead of failing."""
    if (PG_BIN / "initdb").exists() and shutil.which("ogr2ogr") and Path(
            "/usr/share/postgresql/15/extension/postgis.control").exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    subprocess.run(["apt-get", *wait, "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", *wait, "install", "-y", "-q", *DEBIAN_PACKAGES], check=True,
                   env=env, capture_output=True)


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


def load(dsn: str, layers: dict[str, Path]) -> dict[str, float]:
    """Load each layer file (kind → path) as table ``kind`` and build both formulations'
    tables: ``kind_sub`` (straightforward) and ``kind_x`` (expert). Returns seconds taken."""
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        con.execute("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text) "
                    "VALUES (%s, 'redline', %s, %s) ON CONFLICT DO NOTHING",
                    (PROJECTED_SRID, PROJECTED_SRID, PROJECTION))
    for kind, path in layers.items():
        source_layer = str(pyogrio.list_layers(path)[0][0])
        subprocess.run(["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), source_layer,
                        "-nln", kind, "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid",
                        "-lco", "SPATIAL_INDEX=NONE", "-nlt", "PROMOTE_TO_MULTI",
                        "-t_srs", "EPSG:4326", "--config", "PG_USE_COPY", "YES"],
                       check=True, capture_output=True)
    t1 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        for kind in layers:
            con.execute(f"CREATE TABLE {kind}_sub AS SELECT fid, ST_Subdivide(geom, "
                        f"{STRAIGHT_VERTICES}) AS geom FROM {kind}")
            con.execute(f"CREATE INDEX ON {kind}_sub USING GIST (geom)")
            con.execute(f"CREATE INDEX ON {kind}_sub USING GIST ((geom::geography))")
            con.execute(f"ANALYZE {kind}_sub")
    t2 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        for kind in layers:
            con.execute(f"CREATE TABLE {kind}_x AS SELECT fid, geom, ST_Transform(geom, "
                        f"{PROJECTED_SRID}) AS geom_p FROM (SELECT fid, ST_Subdivide(geom, "
                        f"{EXPERT_VERTICES}) AS geom FROM {kind}) p")
            con.execute(f"CREATE INDEX ON {kind}_x USING GIST (geom_p)")
            con.execute(f"ANALYZE {kind}_x")
    t3 = time.perf_counter()
    return {"ogr2ogr_s": t1 - t0, "straightforward_tables_s": t2 - t1,
            "expert_tables_s": t3 - t2}


_SITE_CTE = ("WITH s AS MATERIALIZED (SELECT g, g::geography AS gg{extra} FROM (SELECT "
             "ST_SetSRID(ST_GeomFromGeoJSON(%(site)s::text), 4326) AS g) x) ")


def straightforward_sql(checks: list[Question]) -> str:
    """The straightforward statement (the one this suite used before issue 23): per question,
    (kind, reach, features found, overlap area sum or minimum distance)."""
    parts = []
    for kind, reach in checks:
        table = f"{kind}_sub"
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
    return _SITE_CTE.format(extra="") + "\nUNION ALL ".join(parts)


def expert_sql(checks: list[Question], scale_error: float) -> str:
    """The expert statement: per question (kind, reach, features found, answer).

    ``scale_error`` is the largest relative planar error of ``PROJECTION`` over Chongqing
    (``planar_error``); a piece is measured when its planar distance is within the reach
    widened by twice that, and 1 m."""
    widen = 1 + 2 * scale_error
    parts = []
    for kind, reach in checks:
        table = f"{kind}_x"
        if reach == 0:
            # per piece meeting the site (on the projected column): whether it covers the
            # site, then its part of the site and that part's area (the site's own when it
            # covers it); one feature: the sum over its pieces, more: the union's area.
            # OFFSET 0 keeps each level a subquery, so every expression is computed once.
            parts.append(
                f"SELECT '{kind}', 0.0, count(DISTINCT o.fid), CASE WHEN count(DISTINCT o.fid) "
                f"> 1 THEN ST_Area(ST_Union(array_agg(o.part))::geography) ELSE sum(CASE WHEN "
                f"o.cov THEN o.site_area ELSE ST_Area(o.part::geography) END) END FROM (SELECT "
                f"c.fid, c.cov, c.site_area, CASE WHEN c.cov THEN c.g ELSE ST_Intersection("
                f"c.geom, c.g) END AS part FROM (SELECT f.fid, f.geom, s.g, s.area AS site_area, "
                f"ST_Covers(f.geom, s.g) AS cov FROM {table} f, s WHERE ST_Intersects(f.geom_p, "
                f"s.p) OFFSET 0) c OFFSET 0) o WHERE NOT ST_IsEmpty(o.part)")
        else:
            parts.append(
                f"SELECT '{kind}', {reach}, count(DISTINCT k.fid), min(ST_Length(ST_Transform("
                f"ST_ShortestLine(s.p, k.geom_p), 4326)::geography)) FROM s CROSS JOIN "
                f"LATERAL (SELECT f.fid, f.geom_p, f.geom_p <-> s.p AS d FROM {table} f "
                f"ORDER BY f.geom_p <-> s.p LIMIT {KNN_PIECES}) k WHERE k.d <= {reach * widen + 1.0}")
    return (_SITE_CTE.format(extra=f", ST_Transform(g, {PROJECTED_SRID}) AS p, "
                                   "ST_Area(g::geography) AS area")
            + "\nUNION ALL ".join(parts))


def answers_of(rows: list[tuple[Any, ...]], checks: list[Question]) -> Answers:
    """The rows of either statement as answers: for reach 0 the overlap area in m² (None
    when no feature meets the site), else the nearest distance in metres (None when none is
    within the reach)."""
    out: Answers = {}
    for kind, reach, n, value in rows:
        q = (str(kind), float(reach))
        far = value is not None and q[1] > 0 and float(value) > q[1]
        out[q] = None if not n or value is None or far else float(value)
    return {q: out.get(q) for q in checks}


class Prepared:
    """One connection running one statement, prepared on the server, per site."""

    def __init__(self, dsn: str, sql: str, checks: list[Question]):
        import psycopg

        self.con = psycopg.connect(dsn, autocommit=True)
        self.sql = sql
        self.checks = checks

    def __call__(self, site: dict[str, Any]) -> Answers:
        """The answers for one site (GeoJSON geometry)."""
        rows = self.con.execute(self.sql, {"site": json.dumps(site)}, prepare=True).fetchall()
        return answers_of(rows, self.checks)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def planar_error(n: int = 20_000, seed: int = 1) -> dict[str, float]:
    """Relative error of planar distances in ``PROJECTION`` against ``pyproj.Geod`` (WGS84)
    over Chongqing's extent: ``n`` random pairs 100 m – 20 km apart. ``max_rel`` is the
    largest |planar / geodesic − 1|; ``local_spread`` the largest difference of that ratio
    between pairs within 20 km of each other, which is what could reorder the ``KNN`` pieces
    (an absolute scale error shifts all of them alike)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(EXTENT[0], EXTENT[2], n)
    lat = rng.uniform(EXTENT[1], EXTENT[3], n)
    az = rng.uniform(0, 360, n)
    dist = np.exp(rng.uniform(math.log(100), math.log(20_000), n))
    geod = Geod(ellps="WGS84")
    lon2, lat2, _ = geod.fwd(lon, lat, az, dist)
    fwd = Transformer.from_crs("EPSG:4326", PROJECTION, always_xy=True)
    x1, y1 = fwd.transform(lon, lat)
    x2, y2 = fwd.transform(lon2, lat2)
    ratio = np.hypot(x2 - x1, y2 - y1) / dist - 1
    # the scale factor's spread over 20 km: compare each pair with a second pair started 20 km
    # away in a random direction
    lon3, lat3, _ = geod.fwd(lon, lat, rng.uniform(0, 360, n), np.full(n, 20_000.0))
    lon4, lat4, _ = geod.fwd(lon3, lat3, az, dist)
    x3, y3 = fwd.transform(lon3, lat3)
    x4, y4 = fwd.transform(lon4, lat4)
    ratio2 = np.hypot(x4 - x3, y4 - y3) / dist - 1
    return {"min_rel": float(ratio.min()), "max_rel": float(np.abs(ratio).max()),
            "max_signed": float(ratio.max()), "local_spread": float(np.abs(ratio - ratio2).max()),
            "pairs": n}
