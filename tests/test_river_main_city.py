"""Issue 22: on the shipped demo data, the main-city reaches of the Yangtze and the Jialing (the
district borders, measured accuracy in data/README.md) decide the 1 km chemical rules for
certain: a plant 400 m from the bank is a certain forbid, one 1 600 m away a certain non-finding.

Sites are placed from the shipped layer itself: perpendicular to the main-city reach, the stated
half-width plus 400 m (or 1 600 m) from it, and checked against every feature of the layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape

from spatial.service import ScreeningRequest

RIVER = Path(__file__).resolve().parents[1] / "data" / "redlines" / "river.geojson"
_TO_M = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
_TO_LL = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
CHEM_NEW = {"industry": "C2614", "nature": "new"}
# 长江保护法 Art. 26 (mainstem and important tributaries); the seed-004 Jialing 1 km rule
# covers 沙坪坝 only and is tested in test_scenarios
RULE = "yangtze-1km-chemical-project-ban"


def _features() -> list[dict[str, Any]]:
    return json.loads(RIVER.read_text(encoding="utf-8"))["features"]


def _m(geom):
    return shapely.transform(geom, lambda c: np.column_stack(_TO_M.transform(c[:, 0], c[:, 1])))


def sites(name: str, bank_m: float) -> list[tuple[float, float]]:
    """Points ``bank_m`` from the bank of the main-city reach of ``name`` (on either side), whose
    nearest feature of the whole layer is that reach, at that distance (±30 m)."""
    feats = _features()
    reach = next(f for f in feats if f["properties"]["name"] == name
                 and f["properties"]["method"] == "district_border")
    hw = reach["properties"]["half_width_m"]
    line = _m(shape(reach["geometry"]))
    others = [_m(shape(f["geometry"])) for f in feats if f is not reach]
    out = []
    for frac in (0.2, 0.35, 0.5, 0.65, 0.8):
        at = line.length * frac
        p, q = line.interpolate(at - 50), line.interpolate(at + 50)
        dx, dy = q.x - p.x, q.y - p.y
        norm = (dx * dx + dy * dy) ** 0.5
        c = line.interpolate(at)
        for side in (1, -1):
            off = side * (hw + bank_m)
            pt = Point(c.x - dy / norm * off, c.y + dx / norm * off)
            if abs(pt.distance(line) - (hw + bank_m)) > 30:
                continue
            if any(o.distance(pt) < hw + bank_m + 2500 for o in others):
                continue
            out.append(tuple(_TO_LL.transform(pt.x, pt.y)))
    return out


def screen(runtime, lonlat) -> dict[str, Any]:
    site = {"type": "Point", "coordinates": list(lonlat)}
    return runtime.service.evaluate(ScreeningRequest(site=site, project=CHEM_NEW, radius_m=10))


def test_main_city_reaches_state_method_and_measured_accuracy():
    for f in _features():
        p = f["properties"]
        assert p["method"] in ("district_border", "wdb2") and p["accuracy_m"] > 0
        if p["method"] == "district_border":
            assert p["name"] in ("长江", "嘉陵江") and p["accuracy_m"] <= 150
            assert p["half_width_m"] > 0


@pytest.mark.parametrize("name", ["长江", "嘉陵江"])
def test_chemical_plant_400m_from_the_main_city_river_is_a_certain_forbid(runtime, name):
    pts = sites(name, 400.0)
    assert len(pts) >= 3
    for lonlat in pts:
        doc = screen(runtime, lonlat)
        f = next(f for f in doc["findings"] if f["rule_id"] == RULE)
        assert f["verdict"] == "forbid" and not f["borderline"], (lonlat, f["measure"])
        assert f["measure"]["distance_m"] == pytest.approx(400.0, abs=40)
        assert doc["verdict"] == "forbid"


@pytest.mark.parametrize("name", ["长江", "嘉陵江"])
def test_chemical_plant_1600m_from_the_main_city_river_is_a_certain_non_finding(runtime, name):
    pts = sites(name, 1600.0)
    assert len(pts) >= 2
    for lonlat in pts:
        doc = screen(runtime, lonlat)
        assert RULE not in {f["rule_id"] for f in doc["findings"]}, lonlat
