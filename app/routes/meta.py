"""Read-only endpoints: rules, industry catalogue, layers, health and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from app.deps import RuntimeDep
from app.schemas import problem_responses
from spatial.layers.kinds import KINDS
from spatial.ruleset import rules_summary

router = APIRouter(responses=problem_responses())


@router.get("/api/v1/rules", tags=["rules"], summary="规则清单 / Rules")
def list_rules(runtime: RuntimeDep) -> dict[str, Any]:
    """Every rule with its citation, plus the rule-set hash recorded in verdicts."""
    return {"rules_version": runtime.rules.sha256, "files": list(runtime.rules.files),
            "rules": rules_summary(runtime.rules)}


@router.get("/api/v1/industries", tags=["rules"], summary="行业代码查询 / Industry codes")
def industries(runtime: RuntimeDep, q: str = Query("", max_length=50),
               limit: int = Query(20, ge=1, le=500)) -> dict[str, Any]:
    """GB/T 4754-2017 codes named by an everyday word (化工, 养猪, 加油站 — the reviewed synonym
    list rules/industry-synonyms.yaml), or whose code starts with, or whose official Chinese
    name contains, ``q``; and every named category with its interpretation (note_zh)."""
    cat = runtime.rules.catalogue
    return {"q": q, "items": cat.search(q, limit),
            "categories": {n: {"name_zh": c.name_zh, "name_en": c.name_en, "codes": list(c.codes),
                               "exclude": list(c.exclude), "interpretation_zh": c.note_zh}
                           for n, c in cat.categories.items()}}


@router.get("/healthz", tags=["health"], summary="存活检查 / Liveness")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], summary="就绪检查 / Readiness")
def readyz(runtime: RuntimeDep) -> dict[str, Any]:
    """Rules loaded and the active layer set indexed; reports what is active."""
    layers = runtime.service.cache.active()
    missing = sorted(set(KINDS) - set(layers.layers))
    return {"status": "ready", "rules_version": runtime.rules.sha256,
            "rules": len(runtime.rules.rules), "layers": len(layers.layers),
            "missing_layer_kinds": missing,
            # active versions whose file failed verification: not screened, rules need them
            "refused_layers": layers.refused_public()}
