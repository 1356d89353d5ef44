"""Distances and areas in metres agree with pyproj.Geod (DESIGN §4 tolerances)."""

import math

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from spatial.geodesy import geodesic_area, local_frame, nearest_distance
from spatial.sites.site import build_site

GEOD = Geod(ellps="GRS80")


@pytest.mark.parametrize("azimuth", [0, 37, 90, 145, 200, 270, 333])
@pytest.mark.parametrize("lonlat", [(105.4, 28.3), (106.5, 29.56), (109.9, 31.8)])
def test_point_distance_at_10km_matches_geod(lonlat, azimuth):
    """A point 10 km away along a geodesic is reported 10 000 m ± 0.5 m."""
    lon2, lat2, _ = GEOD.fwd(lonlat[0], lonlat[1], azimuth, 10_000)
    site = Point(lonlat)
    frame = local_frame(site)
    d, _, _ = nearest_distance(frame, frame.to_local(site), Point(lon2, lat2))
    assert d == pytest.approx(10_000, abs=0.5)


def test_distance_to_line_matches_dense_geodesic_minimum():
    """Distance from a point to a N–S line ~10 km east equals the densely sampled Geod minimum."""
    site = Point(106.5, 29.5)
    east, _, _ = GEOD.fwd(106.5, 29.5, 90, 10_000)
    line = LineString([(east, 29.3), (east, 29.7)])
    frame = local_frame(site)
    d, _, _ = nearest_distance(frame, frame.to_local(site), line)
    lats = [29.45 + i * 1e-5 for i in range(10_001)]
    _, _, dists = GEOD.inv([106.5] * len(lats), [29.5] * len(lats), [east] * len(lats), lats)
    assert d == pytest.approx(min(dists), abs=0.5)


def test_polygon_area_matches_geod_within_0_1_percent():
    """A 0.1° × 0.1° cell's area equals Geod's polygon area (the same ellipsoid)."""
    cell = box(106.4, 29.5, 106.5, 29.6)
    lons, lats = cell.exterior.xy
    expected, _ = GEOD.polygon_area_perimeter(lons, lats)
    assert geodesic_area(cell) == pytest.approx(abs(expected), rel=1e-3)


def _ring_area(ring) -> float:
    lons, lats = zip(*ring.coords, strict=True)
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0])


@pytest.mark.parametrize("ccw", [True, False])
def test_area_does_not_depend_on_ring_orientation(ccw):
    """Parts drawn in opposite directions and holes of either orientation never cancel."""
    outer = box(106.40, 29.50, 106.45, 29.55, ccw=ccw)
    hole = box(106.41, 29.51, 106.42, 29.52, ccw=ccw)  # same direction as its exterior
    other = box(106.50, 29.50, 106.52, 29.52, ccw=not ccw)
    with_hole = shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])
    multi = shapely.MultiPolygon([with_hole, other])
    expected = _ring_area(outer.exterior) - _ring_area(hole.exterior) + _ring_area(other.exterior)
    assert geodesic_area(multi) == pytest.approx(expected, rel=1e-9)
    assert geodesic_area(shapely.LineString([(106.4, 29.5), (106.5, 29.6)])) == 0.0


@pytest.mark.parametrize("radius", [10.0, 500.0, 5_000.0])
def test_point_site_disc_area_is_pi_r_squared(radius):
    """A point site with radius r gets a disc footprint of area π r² (± 0.1 %)."""
    site = build_site(Point(106.45, 29.58), radius_m=radius)
    assert site.area_m2 == pytest.approx(math.pi * radius**2, rel=1e-3)


def test_corridor_area_is_length_times_width():
    """A 10 km straight line with a 40 m corridor covers ≈ 10 000 × 40 m² (+ round caps)."""
    lon2, lat2, _ = GEOD.fwd(106.4, 29.6, 60, 10_000)
    site = build_site(LineString([(106.4, 29.6), (lon2, lat2)]), corridor_width_m=40)
    expected = 10_000 * 40 + math.pi * 20**2
    assert site.area_m2 == pytest.approx(expected, rel=1e-3)
    assert site.as_dict()["length_m"] == pytest.approx(10_000, abs=0.5)


def test_overlap_area_of_half_covered_square():
    """Intersecting a 1 km square with its own western half gives half its Geod area."""
    frame = local_frame(Point(106.4, 29.6))
    sq = frame.to_lonlat(box(-500, -500, 500, 500))
    half = frame.to_lonlat(box(-600, -600, 0, 600))
    full = geodesic_area(sq)
    assert full == pytest.approx(1e6, rel=1e-4)
    assert geodesic_area(shapely.intersection(sq, half)) == pytest.approx(full / 2, rel=1e-3)



@pytest.mark.parametrize("lat", [28.2, 30.3, 32.2])
def test_nearest_pruning_slack_covers_how_far_edges_bend(lat):
    """A feature's edge straight in lon/lat and the same edge straight in the site's frame
    part by less than ``edge_slack_m`` anywhere in the window features are clipped to."""

    from spatial.geodesy import degree_margin
    from spatial.screening.nearest import REACH_M, edge_slack_m

    site = box(106.5, lat, 106.503, lat + 0.003)
    margin = degree_margin(REACH_M + 200, lat + 0.003)
    frame = local_frame(site)
    minx, miny, maxx, maxy = site.bounds
    a, b = (minx - margin, miny - margin), (maxx + margin, maxy + margin)  # the diagonal
    mid = Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)  # on the edge taken straight in lon/lat
    chord = LineString([frame.to_local(Point(a)).coords[0], frame.to_local(Point(b)).coords[0]])
    bend = chord.distance(frame.to_local(mid))
    assert 5 < bend < edge_slack_m(site, margin, lat + 0.003)
