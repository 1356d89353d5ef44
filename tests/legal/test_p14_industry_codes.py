"""P14 — every industry code is real: the catalogue is the complete GB/T 4754-2017 table.

A code outside the table (E4810, C2219, C3019, C9999) is refused with 422 ``industry.unknown``
and suggestions; a real code at any level (C2614, C26, A0313, C3110) is accepted with its
official name. Search understands everyday words through the reviewed synonym list.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from spatial.errors import InputError, RuleFileError
from spatial.industries import IndustryCatalogue, category_table_markdown
from spatial.ruleset import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
CAT = load_ruleset(RULES).catalogue
SQUARE = {"type": "Polygon", "coordinates": [[[106.33, 29.55], [106.331, 29.55], [106.331, 29.551],
                                              [106.33, 29.551], [106.33, 29.55]]]}


def test_the_table_has_the_standard_counts():
    """GB/T 4754-2017 (incl. amendment No.1): 20 门类, 97 大类, 473 中类, 1 381 小类 — all carried."""
    levels = [v["level"] for v in CAT.codes.values()]
    assert (levels.count("section"), levels.count("division"), levels.count("group"),
            levels.count("class")) == (20, 97, 473, 1381)


@pytest.mark.parametrize("code,name", [
    ("C2614", "有机化学原料制造"), ("C3011", "水泥制造"), ("D4411", "火力发电"),
    ("K7010", "房地产开发经营"), ("A0311", "牛的饲养"), ("A0313", "猪的饲养"),
    ("C2710", "化学药品原料药制造"), ("F5265", "机动车燃油零售"), ("G5941", "油气仓储"),
    ("D4620", "污水处理及其再生利用"), ("D4420", "电力供应"), ("N7724", "危险废物治理"),
    ("N7820", "环境卫生管理"), ("C3022", "砼结构构件制造"), ("C3110", "炼铁"), ("C311", "炼铁"),
    ("E4812", "公路工程建筑"), ("C26", "化学原料和化学制品制造业"), ("C", "制造业"),
])
def test_real_codes_resolve_to_their_official_names(code, name):
    """P14 positive: a real code (any level; a one-class 中类 derived) is accepted, named as in the
    standard."""
    ind = CAT.resolve(code)
    assert ind.name_zh == name and ind.known_exactly


@pytest.mark.parametrize("code", ["E4810", "C2219", "C3019", "C9999", "E4711", "C2790", "N7710"])
def test_codes_outside_the_table_are_unknown_with_suggestions(code):
    """P14 negative: a well-formed code that is not in GB/T 4754-2017 (formerly accepted “by its
    division”) raises industry.unknown with suggestions of real codes."""
    with pytest.raises(InputError) as exc:
        CAT.resolve(code)
    assert exc.value.code == "industry.unknown"
    suggestions = exc.value.details["suggestions"]
    assert suggestions and all(s["code"] in CAT.codes for s in suggestions)


def test_api_refuses_e4810_with_422_and_accepts_c2614(client):
    """P14 via HTTP: E4810 → 422 industry.unknown with suggestions; C2614 → 201 with its name."""
    r = client.post("/api/v1/screenings", json={"site": SQUARE, "project": {"industry": "E4810"}})
    assert r.status_code == 422 and r.json()["code"] == "industry.unknown"
    assert r.json()["details"]["suggestions"]
    r = client.post("/api/v1/screenings", json={"site": SQUARE,
                                                "project": {"industry": "C2614", "nature": "new"}})
    assert r.status_code == 201, r.text
    assert r.json()["project"]["industry"]["name_zh"] == "有机化学原料制造"


@pytest.mark.parametrize("word,code", [
    ("化工", "C26"), ("住宅", "K7010"), ("公路", "E4812"), ("输变电", "D4420"), ("养猪", "A0313"),
    ("垃圾", "N7820"), ("加油站", "F5265"), ("养猪场", "A0313"), ("污水处理厂", "D4620"),
    ("油库", "G5941"), ("危废", "N7724"),
])
def test_everyday_words_find_their_codes(client, word, code):
    """P14 search positive: GET /api/v1/industries?q=<everyday word> finds the code through the
    reviewed synonym list (养猪 → A0313 猪的饲养), marked with the synonym."""
    items = client.get("/api/v1/industries", params={"q": word}).json()["items"]
    hit = next(i for i in items if i["code"] == code)
    assert hit["synonym"]


def test_a_word_with_no_synonym_and_no_name_finds_nothing():
    """P14 search negative: a word neither a synonym nor in any official name finds no code, and a
    synonym never makes an everyday word a valid project code (化工 is not a code)."""
    assert CAT.search("飞碟制造") == []
    with pytest.raises(InputError):
        CAT.resolve("化工")


def test_every_synonym_has_a_note_and_real_codes():
    """P14: the synonym list is reviewed — every entry names real codes and says why."""
    assert len(CAT.synonyms) >= 40
    assert all(s.note_zh and s.codes and all(c in CAT.codes for c in s.codes) for s in CAT.synonyms)


def test_a_category_listing_a_code_outside_the_table_is_refused(tmp_path):
    """P14 / rules check: a category code not in GB/T 4754-2017 (C3019) makes loading fail,
    naming the category."""
    for p in RULES.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    path = tmp_path / "industries.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "codes: [C3011, C3012, C3031, C3041, C3071, C3072]",
        "codes: [C3011, C3012, C3019]", 1), encoding="utf-8")
    with pytest.raises(RuleFileError) as exc:
        IndustryCatalogue.load(path)
    assert any("building_materials" in p and "C3019" in p for p in exc.value.problems)


def test_rules_check_reports_the_table_and_passes(capsys):
    """P14: ``redline rules check`` succeeds on the shipped rules and reports the 1 381 小类 and
    how many fall in no category."""
    from app.cli import main

    assert main(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert "1381 个小类" in out and "不属于任何类别" in out


def test_the_category_table_lists_every_class_and_is_current():
    """P14: docs/industry-categories.md lists every 小类 with its categories or 无, and is what
    scripts/industry_table.py generates from the shipped files."""
    doc = (ROOT / "docs" / "industry-categories.md").read_text(encoding="utf-8")
    assert doc == category_table_markdown(CAT)
    with (RULES / "gbt4754-2017.csv").open(encoding="utf-8") as fh:
        classes = [r["code"] for r in csv.DictReader(fh) if r["level"] == "4"]
    assert all(f"\n| {c} | " in doc for c in classes)
    assert "| A0313 | 猪的饲养 | `discharges_pollutants`, `livestock` |" in doc
    assert "| 无 |" in doc


def test_a_rule_naming_a_code_outside_the_table_is_refused(tmp_path):
    """P14 / rules check: a rule whose applies_to.industries names C2219 (well-formed, under a real
    division, but not a GB/T 4754-2017 code) fails to load, naming the rule; C2221 loads."""
    import yaml

    for p in RULES.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    path = tmp_path / "jialing.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["rules"][0].setdefault("applies_to", {})["industries"] = ["C2221"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    load_ruleset(tmp_path)
    doc["rules"][0]["applies_to"]["industries"] = ["C2219"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleFileError) as exc:
        load_ruleset(tmp_path)
    assert any("C2219" in p and doc["rules"][0]["id"] in p for p in exc.value.problems)
