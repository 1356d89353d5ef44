"""P2/P3 (catalogue side) — categories for pollution-source rules, each with a stated scope.

livestock (畜禽规模养殖污染防治条例 Art. 11), waste_disposal, hazardous_waste, fuel_depot,
sewage_treatment, discharges_pollutants (水污染防治法 “排放污染物的建设项目”), industrial
(B/C/D) and non_polluting_utility (输变电, 电信) — the names rules use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial.ruleset import load_ruleset

CAT = load_ruleset(Path(__file__).resolve().parents[2] / "rules").catalogue
NAMES = ["livestock", "waste_disposal", "hazardous_waste", "fuel_depot", "sewage_treatment",
         "discharges_pollutants", "industrial", "non_polluting_utility", "chemical"]


def _cats(code: str) -> tuple[str, ...]:
    return CAT.resolve(code).categories


def test_the_agreed_category_names_exist_with_notes():
    """P2/P3: every category name the rules will use exists and says what it holds."""
    for name in NAMES:
        assert len(CAT.categories[name].note_zh) > 40, name


@pytest.mark.parametrize("code,category", [
    ("A0313", "livestock"), ("A0321", "livestock"), ("A0311", "livestock"),
    ("N7820", "waste_disposal"), ("N7723", "waste_disposal"), ("N7724", "hazardous_waste"),
    ("F5265", "fuel_depot"), ("F5266", "fuel_depot"), ("G5941", "fuel_depot"),
    ("D4620", "sewage_treatment"), ("D4420", "non_polluting_utility"),
    ("I6312", "non_polluting_utility"), ("C2614", "industrial"), ("B0610", "industrial"),
])
def test_codes_fall_in_their_category(code, category):
    """P2/P3 positive: pig farms are livestock, landfills waste_disposal, gas stations fuel_depot,
    sewage plants sewage_treatment, power lines non_polluting_utility."""
    assert category in _cats(code)


@pytest.mark.parametrize("code,category", [
    ("A0392", "livestock"), ("A0411", "livestock"), ("N7723", "hazardous_waste"),
    ("G5942", "fuel_depot"), ("F5267", "fuel_depot"), ("N7721", "sewage_treatment"),
    ("G5720", "non_polluting_utility"), ("D4411", "non_polluting_utility"),
    ("A0313", "industrial"), ("N7820", "industrial"),
])
def test_codes_outside_their_category(code, category):
    """P2/P3 negative: bees are not 畜禽养殖, chemical warehouses are not fuel depots, oil
    pipelines are not non-polluting utilities, a pig farm is not industrial."""
    assert category not in _cats(code)


@pytest.mark.parametrize("code", ["C2614", "C3011", "B0610", "D4411", "A0313", "N7820", "N7724",
                                  "D4620", "F5265", "Q8411"])
def test_discharges_pollutants_covers_industry_and_non_industrial_sources(code):
    """P2/P3 positive (水污染防治法 “排放污染物的建设项目”): industry and livestock, waste,
    sewage, fuel stations and hospitals are presumed to discharge pollutants."""
    assert "discharges_pollutants" in _cats(code)


@pytest.mark.parametrize("code", ["D4420", "D4415", "D4416", "D4413", "K7010", "E4812", "I6312",
                                  "P8331"])
def test_discharges_pollutants_leaves_out_clean_utilities_and_non_industrial_projects(code):
    """P2/P3 negative: power lines, wind, solar and hydro power, housing, roads, telecom and
    schools are not presumed to discharge pollutants."""
    assert "discharges_pollutants" not in _cats(code)


def test_industrial_and_discharges_pollutants_are_distinct():
    """P2/P3: industrial is B/C/D only; a power line is industrial but discharges nothing, a pig
    farm discharges but is not industrial."""
    assert CAT.categories["industrial"].codes == ("B", "C", "D")
    assert {"industrial", "non_polluting_utility"} <= set(_cats("D4420"))
    assert "discharges_pollutants" not in _cats("D4420")
    assert "discharges_pollutants" in _cats("A0313") and "industrial" not in _cats("A0313")
