"""Rule files are validated at load time; errors name the file, the rule id and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.cli import main
from spatial.errors import InputError, RuleFileError
from spatial.ruleset import load_ruleset

RULES = Path(__file__).resolve().parents[1] / "rules"


def test_shipped_rules_load_and_cite_their_clause():
    rs = load_ruleset(RULES)
    assert len(rs.rules) >= 30
    for r in rs.rules:
        assert r.basis.quote and r.basis.clause and r.basis.document
        if r.basis.source.startswith("seed:"):
            seed = Path(__file__).resolve().parents[2] / "shared" / "seeds" / r.basis.source[5:]
            if seed.exists():  # the seeds live beside the repository, not in it
                assert r.basis.quote in seed.read_text(encoding="utf-8"), r.id


def test_rule_set_hash_is_stable_and_content_sensitive(tmp_path):
    a = load_ruleset(RULES).sha256
    assert a == load_ruleset(RULES).sha256
    shutil.copytree(RULES, tmp_path / "r")
    p = next(p for p in (tmp_path / "r").glob("*.yaml") if p.name != "industries.yaml")
    p.write_text(p.read_text(encoding="utf-8") + "\n# comment\n", encoding="utf-8")
    assert load_ruleset(tmp_path / "r").sha256 != a


def _broken(tmp_path: Path, mutate) -> list[str]:
    shutil.copytree(RULES, tmp_path / "r")
    path = tmp_path / "r" / "jialing.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(doc["rules"][0])
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleFileError) as exc:
        load_ruleset(tmp_path / "r")
    return exc.value.problems


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda r: r["where"].pop("distance_m"), "where"),
    (lambda r: r.update(verdict="maybe"), "verdict"),
    (lambda r: r["where"].update(layer="no_such_layer"), "where"),
    (lambda r: r["basis"].update(source="blog"), "basis.source"),
    (lambda r: r.update(colour="red"), "colour"),
    (lambda r: r["applies_to"].update(industries=["unobtainium"]), "applies_to.industries"),
])
def test_bad_rule_is_reported_with_file_rule_and_field(tmp_path, mutate, field):
    problems = _broken(tmp_path, mutate)
    rid = yaml.safe_load((RULES / "jialing.yaml").read_text(encoding="utf-8"))["rules"][0]["id"]
    assert any(p.startswith("jialing.yaml: rule ") and rid in p and field in p for p in problems), \
        problems


def test_rules_check_cli_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REDLINE_RULES_DIR", str(RULES))
    assert main(["rules", "check"]) == 0
    assert "规则校验通过" in capsys.readouterr().out
    _broken(tmp_path, lambda r: r.update(verdict="maybe"))
    monkeypatch.setenv("REDLINE_RULES_DIR", str(tmp_path / "r"))
    assert main(["rules", "check"]) == 1
    err = capsys.readouterr().err
    assert "rules.invalid" in err and "jialing.yaml" in err and "Traceback" not in err


def test_industry_lookup_and_suggestions():
    cat = load_ruleset(RULES).catalogue
    chem = cat.resolve("C2614")
    assert chem.name_zh == "有机化学原料制造" and "chemical" in chem.categories
    assert "cement" in cat.resolve("3011").categories
    assert "pulp" in cat.resolve("c2211").categories
    with pytest.raises(InputError) as exc:
        cat.resolve("C9999")
    assert exc.value.code == "industry.unknown" and exc.value.details["suggestions"]
    with pytest.raises(InputError):
        cat.resolve("化工")
