"""P11: distances to a centreline. 长江保护法 第二十六条第二款 measures 一公里 from the bank (岸线),
which is nearer than the centreline. On a layer declared as centrelines
(``geometry_role: centreline``) a feature's ``half_width_m`` is subtracted from the distance
to the centreline (floor 0) and the borderline band is the accuracy around that bank distance;
a centreline without a width makes the band reach ``ASSUMED_MAX_HALF_WIDTH_M`` farther out."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import LineString

from spatial.layers.layerset import ASSUMED_MAX_HALF_WIDTH_M
from tests import synth
from tests.legal.world import ZONE_X, finding, near_river, run

CHEM = {"industry": "C2614", "nature": "new"}
BAN = "yangtze-1km-chemical-project-ban"
GEOD = Geod(ellps="WGS84")


def yangtze(half_width_m=None, role="centreline", accuracy_m=0.0):
    attrs = {"name": "长江", "class": "mainstem"}
    if half_width_m is not None:
        attrs["half_width_m"] = half_width_m
    return synth.layer("river", [(LineString([(ZONE_X, -20_000), (ZONE_X, 20_000)]), attrs)],
                       geometry_role=role, accuracy_m=accuracy_m)


def geod_m(x0: float, x1: float) -> float:
    """pyproj.Geod distance between two points of the metre frame on y = 0."""
    a, b = synth.ll(LineString([(x0, 0), (x1, 0)])).coords
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_site_1200m_from_the_centreline_of_a_600m_wide_river_is_within_1km_of_the_bank():
    """长江保护法 第二十六条第二款: 1 200 m from the centreline, half-width 300 m → 900 m from the
    bank → forbid; the measure reports both distances and the half-width (checked against
    pyproj.Geod)."""
    doc = run(["yangtze"], near_river(1_200), yangtze(300.0), **CHEM)
    f = finding(doc, BAN)
    assert f is not None and f["verdict"] == "forbid" and not f["borderline"]
    m = f["measure"]
    centre = geod_m(ZONE_X, ZONE_X + 1_200)
    assert m["distance_to_centreline_m"] == pytest.approx(centre, abs=0.5)
    assert m["half_width_m"] == 300.0
    assert m["distance_m"] == pytest.approx(centre - 300.0, abs=0.5)
    assert doc["verdict"] == "forbid"


def test_site_1400m_from_the_centreline_is_1100m_from_the_bank():
    """长江保护法 第二十六条第二款: 1 400 m from the centreline, half-width 300 m → 1 100 m from the
    bank, exact layer → no finding, pass."""
    doc = run(["yangtze"], near_river(1_400), yangtze(300.0), **CHEM)
    assert finding(doc, BAN) is None and doc["verdict"] == "pass"


def test_the_bank_distance_floors_at_zero():
    """A site inside the channel (100 m from the centreline, half-width 300 m) is 0 m from the bank."""
    doc = run(["yangtze"], near_river(100), yangtze(300.0), **CHEM)
    f = finding(doc, BAN)
    assert f is not None and f["measure"]["distance_m"] == 0.0 and f["verdict"] == "forbid"


def test_band_is_the_accuracy_around_the_bank_distance():
    """长江保护法 第二十六条第二款: accuracy 100 m; bank distance 1 050 m → borderline → restrict
    (never pass); bank distance 1 150 m → silent."""
    doc = run(["yangtze"], near_river(1_350), yangtze(300.0, accuracy_m=100.0), **CHEM)
    f = finding(doc, BAN)
    assert f is not None and f["borderline"] and f["verdict"] == "restrict"
    assert f["measure"]["distance_m"] == pytest.approx(geod_m(ZONE_X, ZONE_X + 1_350) - 300, abs=0.5)
    assert finding(run(["yangtze"], near_river(1_450), yangtze(300.0, accuracy_m=100.0),
                       **CHEM), BAN) is None


def test_without_a_width_the_band_reaches_the_assumed_half_width_beyond_the_threshold():
    """长江保护法 第二十六条第二款: no width stated; 1 300 m from the centreline the bank may be
    within 1 km → borderline restrict, not pass; 700 m → certain forbid; beyond
    1 000 + ASSUMED_MAX_HALF_WIDTH_M → silent."""
    near = finding(run(["yangtze"], near_river(1_300), yangtze(), **CHEM), BAN)
    assert near is not None and near["borderline"] and not near["triggered"]
    assert near["verdict"] == "restrict"
    assert near["measure"]["half_width_m"] is None
    assert near["measure"]["distance_m"] == near["measure"]["distance_to_centreline_m"]
    assert near["measure"]["bank_distance_min_m"] == pytest.approx(
        near["measure"]["distance_m"] - ASSUMED_MAX_HALF_WIDTH_M, abs=0.1)
    inside = finding(run(["yangtze"], near_river(700), yangtze(), **CHEM), BAN)
    assert inside is not None and inside["verdict"] == "forbid" and not inside["borderline"]
    far = run(["yangtze"], near_river(1_000 + ASSUMED_MAX_HALF_WIDTH_M + 10), yangtze(), **CHEM)
    assert finding(far, BAN) is None and far["verdict"] == "pass"


def test_a_line_layer_declared_as_banks_is_measured_as_drawn():
    """A river layer declared as another role (e.g. ``shoreline``) keeps the plain distance:
    1 300 m → silent, and no centreline fields in the measure at 900 m. A river layer that
    declares no role is taken as centrelines (the safe reading): 1 300 m from a centreline of
    unknown width is borderline, not a pass."""
    assert finding(run(["yangtze"], near_river(1_300), yangtze(role="shoreline"), **CHEM),
                   BAN) is None
    undeclared = finding(run(["yangtze"], near_river(1_300), yangtze(role=None), **CHEM), BAN)
    assert undeclared is not None and undeclared["borderline"]
    f = finding(run(["yangtze"], near_river(900), yangtze(300.0, role="shoreline"), **CHEM), BAN)
    assert f is not None and "distance_to_centreline_m" not in f["measure"]
    assert f["measure"]["distance_m"] == pytest.approx(geod_m(ZONE_X, ZONE_X + 900), abs=0.5)
