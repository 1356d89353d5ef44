"""The benchmark baselines answer the engine's layer questions as the engine does (agreement,
not timing): a handful of demo sites, every question."""

from __future__ import annotations

from benchmarks import baselines, inprocess

SITES = inprocess.sites_100()
FEW = SITES[:4] + SITES[100:102]  # four in 沙坪坝, where every demo layer has data; two elsewhere


def _agreeing(service, contender) -> tuple[int, int]:
    checks = baselines.questions(service)
    good = total = 0
    for site in FEW:
        ours = baselines.engine_answers(service, checks, site)
        theirs = contender(site)
        for q in checks:
            total += 1
            good += baselines.agree(q, ours[q], theirs.get(q))
    return good, total


def test_questions_have_answers_of_both_kinds(runtime):
    service = runtime.service
    checks = baselines.questions(service)
    assert any(r == 0 for _, r in checks) and any(r > 0 for _, r in checks)
    ours = baselines.engine_answers(service, checks, SITES[0])
    assert set(ours) == set(checks)
    assert any(v is not None and v > 0 for (_, r), v in ours.items() if r == 0)  # an overlap
    assert any(v is not None for (_, r), v in ours.items() if r > 0)  # a distance


def test_competent_geopandas_agrees(runtime):
    service = runtime.service
    contender = baselines.Geopandas(service, service.layers(), baselines.questions(service))
    good, total = _agreeing(service, contender)
    assert good == total


def test_agreement_tolerances():
    assert baselines.agree(("river", 100.0), 50.0, 50.9)
    assert not baselines.agree(("river", 100.0), 50.0, 51.5)
    assert baselines.agree(("river", 100.0), None, 99.5)  # at the edge of the reach
    assert not baselines.agree(("river", 100.0), None, 50.0)
    assert baselines.agree(("eco_redline", 0.0), 100_000.0, 100_090.0)  # 0.09 %
    assert not baselines.agree(("eco_redline", 0.0), 100_000.0, 100_200.0)
    assert not baselines.agree(("eco_redline", 0.0), None, 0.0)  # meets vs meets nothing


def test_expert_postgis_sql_is_one_statement():
    checks = [("eco_redline", 0.0), ("eco_redline", 10.0), ("river", 2600.0)]
    sql = baselines.postgis.expert_sql(checks, 4e-4)
    assert sql.count("UNION ALL") == len(checks) - 1
    assert "ST_Subdivide" not in sql and "eco_redline_x" in sql  # the subdivided tables
    assert "<->" in sql and "ST_Covers" in sql and "geom_p" in sql
    rows = [("eco_redline", 0.0, 0, None), ("eco_redline", 10.0, 1, 12.5),
            ("river", 2600.0, 2, 1800.0)]
    assert baselines.postgis.answers_of(rows, checks) == {
        ("eco_redline", 0.0): None, ("eco_redline", 10.0): None, ("river", 2600.0): 1800.0}
