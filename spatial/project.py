"""Project attributes as submitted, validated, and matched against rule filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from spatial.errors import InputError
from spatial.identity import IdentityCache
from spatial.industries import Industry, IndustryCatalogue
from spatial.ruleset import Activity, ActivityFit, Flag, Nature, ProjectFilter, ProjectType

NATURES: tuple[str, ...] = get_args(Nature)
TYPES: tuple[str, ...] = get_args(ProjectType)
ACTIVITIES: tuple[str, ...] = get_args(Activity)
FLAGS: tuple[str, ...] = get_args(Flag)

#: Flags that follow from the industry: an electroplating plant discharges heavy metals whether
#: or not the applicant ticks the box.
IMPLIED_FLAGS = {"heavy_metal_key": "heavy_metal_discharge", "vocs_key": "vocs"}
#: Flags that follow from other flags: a coal-fired boiler burns coal (000 L91 「新建耗煤项目」).
FLAG_IMPLIES = {"coal_boiler": "coal_use"}

NATURE_ZH = {"new": "新建", "expansion": "扩建", "rebuild": "改建", "relocation": "搬迁"}


def nature_matches(project_nature: str, flt: ProjectFilter) -> bool:
    """The one meaning of a rule's ``nature`` list, for every rule and exception.

    A relocation (异地搬迁、迁建) is new construction at the site screened: a filter naming
    ``new`` matches ``relocation`` too, unless it sets ``relocation_as_new: false``. A rebuild
    (改建) matches only where ``rebuild`` is listed; expansion only where ``expansion`` is.
    """
    assert flt.nature is not None
    if project_nature in flt.nature:
        return True
    return project_nature == "relocation" and flt.relocation_as_new and "new" in flt.nature


@dataclass(frozen=True)
class Project:
    """A project's attributes; ``industry`` and ``nature`` may be unknown (None)."""

    industry: Industry | None
    nature: str | None
    type: str = "project"
    activity: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    name: str | None = None
    submitted: dict[str, Any] = field(default_factory=dict)
    implied_flags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None, catalogue: IndustryCatalogue) -> Project:
        """Validate submitted attributes; bad values raise InputError with a stable code."""
        raw = dict(raw or {})
        unknown = set(raw) - {"industry", "nature", "type", "activity", "flags", "name"}
        if unknown:
            raise InputError(
                f"未知的项目属性：{', '.join(sorted(unknown))}",
                f"Unknown project attributes: {', '.join(sorted(unknown))}",
                code="project.unknown_field",
            )
        industry = None
        code = raw.get("industry")
        if code not in (None, ""):
            if not isinstance(code, str):
                raise InputError("行业代码必须是字符串", "industry must be a string",
                                 code="project.industry_invalid")
            industry = catalogue.resolve(code)
        nature = raw.get("nature") or None
        _check_choice("nature", nature, NATURES, "建设性质")
        ptype = raw.get("type") or "project"
        _check_choice("type", ptype, TYPES, "项目类型")
        activity = _as_tuple(raw.get("activity"), "activity")
        flags = _as_tuple(raw.get("flags"), "flags")
        for a in activity:
            _check_choice("activity", a, ACTIVITIES, "活动类型")
        for f in flags:
            _check_choice("flags", f, FLAGS, "项目标志")
        implied = tuple(f for cat, f in IMPLIED_FLAGS.items()
                        if industry is not None and cat in industry.categories and f not in flags)
        flags = (*flags, *implied)
        implied += tuple(dict.fromkeys(v for k, v in FLAG_IMPLIES.items()
                                       if k in flags and v not in flags))
        flags = tuple(dict.fromkeys((*flags, *implied)))
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            raise InputError("项目名称必须是字符串", "name must be a string",
                             code="project.name_invalid")
        return cls(industry, nature, ptype, activity, flags, name, raw, implied)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the verdict document: as submitted plus resolved industry."""
        return {
            "name": self.name,
            "industry": self.industry.as_dict() if self.industry else None,
            "nature": self.nature,
            "type": self.type,
            "activity": list(self.activity),
            "flags": list(self.flags),
            "flags_implied": list(self.implied_flags),
        }


def _as_tuple(value: Any, field_name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(f"{field_name} 必须是字符串列表", f"{field_name} must be a list of strings",
                     code=f"project.{field_name}_invalid")


def _check_choice(name: str, value: str | None, allowed: tuple[str, ...], label: str) -> None:
    if value is not None and value not in allowed:
        raise InputError(
            f"{label}取值无效：{value!r},可选：{', '.join(allowed)}",
            f"Invalid {name}: {value!r}; allowed: {', '.join(allowed)}",
            code=f"project.{name}_invalid",
            details={"allowed": list(allowed)},
        )


def match(flt: ProjectFilter, project: Project, catalogue: IndustryCatalogue) -> bool | None:
    """Does the project meet the filter? None when a needed attribute is missing.

    A definite mismatch on any key wins over a missing attribute on another key, so a rule
    that clearly does not concern the project is never reported as "not evaluated".
    """
    missing = False
    checks: list[bool | None] = []
    if flt.industries is not None or flt.not_industries is not None:
        if project.industry is None and project.type != "project":
            # A park or tailings-pond proposal without an industry code is judged by its type:
            # a rule that names its type in `type` binds it whatever its industry list (a ban
            # on chemical enterprises reaches the chemical park planned for them); otherwise an
            # industry list does not concern it, and an industry exclusion does not spare it.
            named = flt.type is not None and project.type in flt.type
            checks.append(named or flt.industries is None)
        elif project.industry is None:
            missing = True
        else:
            ind = project.industry
            if flt.industries is not None:
                hit = _any_hit(flt.industries, ind, catalogue)
                if hit is None:
                    missing = True
                else:
                    checks.append(hit)
            if flt.not_industries is not None:
                excluded = _any_hit(flt.not_industries, ind, catalogue)
                if excluded is None:
                    missing = True
                else:
                    checks.append(not excluded)
    if flt.nature is not None:
        if project.nature is None:
            missing = True
        else:
            checks.append(nature_matches(project.nature, flt))
    if flt.type is not None:
        checks.append(project.type in flt.type)
    if flt.activity is not None:
        checks.append(any(a in flt.activity for a in project.activity))
    if flt.flags is not None:
        checks.append(any(f in flt.flags for f in project.flags))
    if flt.not_flags is not None:
        checks.append(not any(f in flt.not_flags for f in project.flags))
    if not all(checks):
        return False
    return None if missing else True


def missing_attributes(flt: ProjectFilter, project: Project,
                       catalogue: IndustryCatalogue) -> list[str]:
    """Names of project attributes the filter needs but the project did not give."""
    out = ["industry_detail"] if coarse_industry(flt, project, catalogue) else []
    needs_industry = flt.industries is not None or flt.not_industries is not None
    if needs_industry and project.industry is None and project.type == "project":
        out.append("industry")
    if flt.nature is not None and project.nature is None:
        out.append("nature")
    return out


def _any_hit(tokens: list[str], industry: Industry, catalogue: IndustryCatalogue) -> bool | None:
    """True if the industry falls under a token; None if its code is too coarse to tell."""
    hits = [_industry_hit(t, industry, catalogue) for t in tokens]
    if any(h is True for h in hits):
        return True
    return None if any(h is None for h in hits) else False


_HITS: IdentityCache[bool | None] = IdentityCache(100_000)


def _industry_hit(token: str, industry: Industry, catalogue: IndustryCatalogue) -> bool | None:
    # The answer depends only on the token, the code and the catalogue: cached, because every
    # rule asks it of every site of a batch.
    hit = _HITS.get(catalogue, (token, industry.code))
    if hit is not None:
        return hit[0]
    return _HITS.put(catalogue, _industry_hit_uncached(token, industry, catalogue),
                     (token, industry.code))


def _industry_hit_uncached(token: str, industry: Industry, catalogue: IndustryCatalogue
                           ) -> bool | None:
    prefixes = catalogue.categories[token].codes if token in catalogue.categories else (token,)
    if token in industry.categories or any(industry.code.startswith(p) for p in prefixes):
        return True
    # A section or division code (C, C17) may or may not contain a narrower prefix (C1713).
    if any(p.startswith(industry.code) and len(p) > len(industry.code) for p in prefixes):
        return None
    return False


def coarse_industry(flt: ProjectFilter, project: Project, catalogue: IndustryCatalogue) -> bool:
    """True when the filter cannot be decided because the industry code is too coarse."""
    if project.industry is None:
        return False
    tokens = [*(flt.industries or []), *(flt.not_industries or [])]
    return _any_hit(tokens, project.industry, catalogue) is None


def activity_fits(activity: str, project: Project, fits: dict[str, ActivityFit],
                  catalogue: IndustryCatalogue) -> bool | None:
    """Can the project be the declared activity (rules/activities.yaml)? None: the industry
    is not given or too coarse to tell. An activity without an entry is not restricted."""
    fit = fits.get(activity)
    if fit is None:
        return True
    if project.type not in fit.types:
        return False
    if fit.industries is None and fit.not_industries is None:
        return True
    if project.industry is None:
        return None
    checks = []
    if fit.industries is not None:
        checks.append(_any_hit(fit.industries, project.industry, catalogue))
    if fit.not_industries is not None:
        excluded = _any_hit(fit.not_industries, project.industry, catalogue)
        checks.append(None if excluded is None else not excluded)
    if any(c is False for c in checks):
        return False
    return None if any(c is None for c in checks) else True
