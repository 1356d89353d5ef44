"""P5 — what 化工, 纸浆/造纸, 钢铁, 建材 and “两高” mean, stated once in the category notes.

化工项目 (长江保护法 Art. 26; 沙坪坝 district-wide ban, seed 004 L809; Jialing 1 km ban) is the
single category ``chemical``: C251 refining, C2521–C2523 coking and coal chemicals, C2529,
all of C26, C2710 chemical APIs and C28 chemical fibres; not C2524 briquettes, C2720
formulations or C29 rubber/plastic products.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial.ruleset import load_ruleset

CAT = load_ruleset(Path(__file__).resolve().parents[2] / "rules").catalogue


def _in(category: str, code: str) -> bool:
    return category in CAT.resolve(code).categories


@pytest.mark.parametrize("code", ["C2614", "C2511", "C2521", "C2522", "C2523", "C2631", "C2710",
                                  "C2812", "C2822", "C2831"])
def test_chemical_includes_refining_coal_chemicals_apis_and_fibres(code):
    """P5 positive (长江保护法 Art. 26 “化工项目”): refining, coking/coal chemicals, C26, chemical
    APIs (C2710) and chemical fibres (C28) are 化工."""
    assert _in("chemical", code)


@pytest.mark.parametrize("code", ["C2524", "C2530", "C2720", "C2740", "C2761", "C2922", "K7010"])
def test_chemical_excludes_briquettes_formulations_and_plastic_products(code):
    """P5 negative: briquettes (C2524), nuclear fuel (C2530), drug formulations (C2720), 中成药,
    biological drugs and plastic products (C29) are not 化工项目."""
    assert not _in("chemical", code)


def test_the_chemical_note_states_the_interpretation():
    """P5: the category's note (shown to users as the interpretation) names the clause and each
    choice (C2710, C28, C2524)."""
    note = CAT.categories["chemical"].note_zh
    assert "长江保护法" in note and "C2710" in note and "C28" in note and "C2524" in note


def test_narrow_chemical_categories_are_subsets_of_chemical():
    """P5: petrochemical, coking and coal_chemical only narrow chemical, so a rule listing them
    with chemical means the same as chemical alone; chemical_broad is gone."""
    assert "chemical_broad" not in CAT.categories
    for name in ("petrochemical", "coking", "coal_chemical"):
        for code in CAT.classes():
            if CAT.categories[name].contains(code):
                assert CAT.categories["chemical"].contains(code), (name, code)


def test_pulp_is_not_paper():
    """P5 (Jialing 1 km ban “纸浆制造”): pulp is C2211/C2212 only; a paper mill on bought pulp
    (C2221) is paper, not pulp."""
    assert _in("pulp", "C2211") and _in("pulp", "C2212")
    assert not _in("pulp", "C2221") and _in("paper", "C2221")
    assert not _in("paper", "C2211") and not _in("paper", "C2231")


def test_steel_and_nonferrous_both_exclude_rolling():
    """P5: 钢铁 and 有色 mean smelting for both metals: C3110/C3120/C3140 and C321–C324 are in,
    rolling (C3130 钢压延加工, C3251 铜压延加工) is in neither."""
    assert all(_in("steel", c) for c in ("C3110", "C3120", "C3140"))
    assert _in("nonferrous", "C3211") and _in("nonferrous", "C3240")
    assert not _in("steel", "C3130") and not _in("nonferrous", "C3251")


def test_precast_concrete_is_not_a_two_high_building_material():
    """P5 (环环评〔2021〕45号 “建材”): kiln-fired cement, lime, bricks, flat glass and ceramics are
    building_materials and two_high; precast concrete (C3022) and cement products (C3021) are
    neither."""
    for code in ("C3011", "C3012", "C3031", "C3041", "C3071"):
        assert _in("building_materials", code) and _in("two_high", code)
    for code in ("C3021", "C3022", "C3032"):
        assert not _in("building_materials", code) and not _in("two_high", code)
        assert not _in("yangtze_high_polluting", code) and not _in("heavy_polluting", code)


def test_two_high_chemicals_follow_the_statistical_category():
    """P5: “两高” 化工 is counted by 行业类别 (45号文): C26 and coal chemicals are two_high;
    chemical APIs and fibres, though 化工项目 for siting bans, are not."""
    assert _in("two_high", "C2614") and _in("two_high", "C2523")
    assert not _in("two_high", "C2710") and not _in("two_high", "C2822")


JIALING_600M = (106.451142, 29.618444)  # 沙坪坝, ~600 m from the Jialing (tests/test_scenarios.py)


def _screen(runtime, industry: str) -> dict:
    from spatial.service import ScreeningRequest

    site = {"type": "Point", "coordinates": list(JIALING_600M)}
    return runtime.service.evaluate(ScreeningRequest(
        site=site, project={"industry": industry, "nature": "new"}, radius_m=50))


def test_a_chemical_api_plant_in_shapingba_is_a_chemical_project_with_the_interpretation(runtime):
    """P5 positive (沙坪坝 district-wide ban, seed 004 L809): a new C2710 API plant is 化工项目 —
    the shapingba ban forbids it and the finding shows the chemical category's interpretation."""
    doc = _screen(runtime, "C2710")
    f = next(f for f in doc["findings"] if f["rule_id"] == "shapingba-no-new-chemical-cement-brick")
    assert f["verdict"] == "forbid"
    cats = {c["category"]: c for c in f["industry_categories"]}
    assert "chemical" in cats and "C2710" in cats["chemical"]["interpretation_zh"]


def test_a_drug_formulation_plant_is_not_a_chemical_project(runtime):
    """P5 negative: a new C2720 formulation plant at the same site is not 化工项目 — the
    district-wide chemical ban does not fire."""
    doc = _screen(runtime, "C2720")
    assert "shapingba-no-new-chemical-cement-brick" not in {f["rule_id"] for f in doc["findings"]}
