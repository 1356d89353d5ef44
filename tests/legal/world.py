"""Tiny hand-made worlds for the legal scenario tests: one district (沙坪坝 500106, x < 0,
neighbour 500107 east), a few features in metres, and the shipped rules of some families.

Screening uses only the rule families a test names, so layers the test does not build are
never asked for; layer accuracy is 0 (no borderline band) unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry

from spatial.project import Project
from spatial.ruleset import load_ruleset
from spatial.screening.evaluation import screen
from spatial.sites.site import build_site
from tests import synth

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rules")
CAT = RULESET.catalogue

ZONE_X = -15_000.0  # centre of every polygon feature (m)
HALF = 1_000.0
INSIDE = synth.square(ZONE_X, 0, 100)  # a 200 m square well inside a feature
OUTSIDE = box(ZONE_X + HALF + 10, -100, ZONE_X + HALF + 210, 100)  # 10 m east of it


def zone(kind: str, **attrs: Any):
    """One 2 km square feature of ``kind`` centred at ZONE_X."""
    return synth.layer(kind, [(synth.square(ZONE_X, 0, HALF), attrs)])


def river(name: str, cls: str):
    """A north–south river centreline at x = ZONE_X."""
    return synth.layer("river", [(LineString([(ZONE_X, -20_000), (ZONE_X, 20_000)]),
                                  {"name": name, "class": cls})])


def near_river(distance_m: float) -> BaseGeometry:
    """A 100 m square whose west edge lies ``distance_m`` east of the river centreline."""
    return box(ZONE_X + distance_m, -50, ZONE_X + distance_m + 100, 50)


def run(families: list[str], site_m: BaseGeometry, *layers, district: str = "500106",
        **project: Any) -> dict[str, Any]:
    """Screen a site (metres) for a project against the shipped rules of ``families``; the
    west district (x < 0) is ``district`` (default 沙坪坝 500106), the east one 500107."""
    rules = tuple(r for r in RULESET.rules if r.family in families)
    rs = dataclasses.replace(RULESET, rules=rules)
    proj = Project.from_dict(project, CAT)
    return screen(build_site(synth.ll(site_m)), proj,
                  synth.layerset(synth.district_layer(district), *layers), rs).as_doc()


def finding(doc: dict[str, Any], rule_id: str) -> dict[str, Any] | None:
    """The finding of one rule, if any."""
    return next((f for f in doc["findings"] if f["rule_id"] == rule_id), None)


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    """rule id → verdict of every finding."""
    return {f["rule_id"]: f["verdict"] for f in doc["findings"]}
