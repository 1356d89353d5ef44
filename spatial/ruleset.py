"""Rule files: schema (pydantic), loading with precise error locations, and the rule-set hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    computed_field,
    model_validator,
)

from spatial.errors import RuleFileError
from spatial.hanzi import to_simplified
from spatial.industries import SYNONYMS_FILE, IndustryCatalogue
from spatial.layers.kinds import KINDS, RASTER_KINDS
from spatial.predicate_specs import PARAMETERS, SPECS, PredicateName

Nature = Literal["new", "expansion", "rebuild", "relocation"]
ProjectType = Literal["project", "industrial_park", "chemical_park", "tailings_pond"]
Activity = Literal[
    "patrol_monitoring", "resident_livelihood", "archaeology", "forest_tending", "eco_tourism",
    "linear_infrastructure", "geological_survey", "eco_restoration", "border_works",
    "other_lawful",
]
Flag = Literal[
    "national_major", "heavy_metal_discharge", "high_noise", "vocs", "coal_boiler", "outfall",
    "coal_use", "independent_grinding", "toxic_discharge",
]
Scalar = str | int | float | bool
FilterValue = Scalar | list[Scalar]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(_Strict):
    """The legal or policy clause a rule rests on."""

    document: str
    issuer: str | None = None
    number: str | None = None
    date: str | None = None
    clause: str
    quote: str = Field(min_length=2)
    source: Annotated[str, Field(pattern=r"^(seed:[0-9A-Za-z_.-]+|law|regulation|local-draft)$")]
    catalogue: str | None = None
    lines: str | None = None
    # Whether the quote has been checked against a stored text: true by default exactly when it
    # comes from a seed with a line reference (tests/test_rules_schema.py checks the quote
    # against that line); false for statutes quoted without the text stored here. A rule may set
    # false on a seed quote whose words do not by themselves carry the verdict. Shown to the
    # reader as 依据待核实.
    verified: bool = False
    _quote_zh_hans: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _default_verified(cls, data: Any) -> Any:
        if isinstance(data, dict):
            seeded = str(data.get("source", "")).startswith("seed:") and bool(data.get("lines"))
            if "verified" not in data:
                data = {**data, "verified": seeded}
            elif data["verified"] is True and not seeded:
                raise ValueError("verified: true needs a seed source with a line reference "
                                 "(nothing else can be checked here)")
        return data

    def model_post_init(self, context: Any, /) -> None:
        """Convert the quote to simplified characters once, when the rule is loaded."""
        self._quote_zh_hans = to_simplified(self.quote)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quote_zh_hans(self) -> str:
        """The quote in simplified characters, for the reader; ``quote`` stays verbatim."""
        return self._quote_zh_hans


class ProjectFilter(_Strict):
    """Which projects a rule (or an exception) concerns; keys AND, values within a key OR."""

    industries: list[str] | None = None
    not_industries: list[str] | None = None
    nature: list[Nature] | None = None
    type: list[ProjectType] | None = None
    activity: list[Activity] | None = None
    flags: list[Flag] | None = None
    #: The project declares none of these flags (e.g. a cement plant not declared an
    #: independent grinding station).
    not_flags: list[Flag] | None = None
    #: The single meaning of ``nature`` (docs/rule-format.md "Nature"): a relocation
    #: (异地搬迁/迁建) is new construction at the new site, so ``nature: [new]`` also matches
    #: ``relocation``. A rule whose text treats relocation differently says so with ``false``.
    relocation_as_new: bool = True


class LayerRef(_Strict):
    """A layer kind with an attribute filter."""

    layer: str
    filter: dict[str, FilterValue] = Field(default_factory=dict)


class RasterCondition(_Strict):
    """Which cells count, e.g. ``{op: eq, value: 3}`` or ``{op: gt, value: 25}``."""

    op: Literal["eq", "ne", "gt", "ge", "lt", "le", "in"]
    value: float | list[float]


class Where(_Strict):
    """The spatial trigger of a rule."""

    predicate: PredicateName
    layer: str | None = None
    filter: dict[str, FilterValue] = Field(default_factory=dict)
    distance_m: float | None = Field(default=None, gt=0, le=100_000)
    min_overlap_m2: float | None = Field(default=None, ge=0)
    min_overlap_share: float | None = Field(default=None, ge=0, le=1)
    adcodes: list[Annotated[str, Field(pattern=r"^\d{6}$")]] | None = None
    minus: LayerRef | None = None
    districts: list[Annotated[str, Field(pattern=r"^\d{6}$")]] | None = None
    raster: str | None = None
    condition: RasterCondition | None = None
    min_share: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _parameters_fit_predicate(self) -> Where:
        # unset, empty or zero is not given (a zero minimum overlap asks nothing)
        given = {p for p in PARAMETERS if getattr(self, p) not in (None, {}, [], 0)}
        problems = SPECS[self.predicate].problems(given)
        if problems:
            raise ValueError("; ".join(problems))
        if self.raster is not None and self.raster not in RASTER_KINDS:
            raise ValueError(f"unknown raster kind {self.raster!r}; known: "
                             f"{', '.join(sorted(RASTER_KINDS))}")
        for ref in [LayerRef(layer=self.layer, filter=self.filter)] if self.layer else []:
            _check_layer_ref(ref)
        if self.minus:
            _check_layer_ref(self.minus)
        return self


def _check_layer_ref(ref: LayerRef) -> None:
    kind = KINDS.get(ref.layer)
    if kind is None:
        raise ValueError(f"unknown layer kind {ref.layer!r}; known: {', '.join(sorted(KINDS))}")
    for attr, value in ref.filter.items():
        schema = kind.attribute(attr)
        if schema is None:
            raise ValueError(f"layer {ref.layer} has no attribute {attr!r}")
        values = value if isinstance(value, list) else [value]
        if schema.domain is not None:
            bad = [v for v in values if v not in schema.domain]
            if bad:
                raise ValueError(f"{ref.layer}.{attr}: {bad} not in {list(schema.domain)}")


class RuleException(_Strict):
    """A project condition that downgrades the rule's verdict."""

    when: ProjectFilter
    verdict: Literal["restrict", "advisory"]
    note_zh: str
    requirements_zh: list[str] = Field(default_factory=list)


class Rule(_Strict):
    """One declarative screening rule."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    family: str
    title_zh: str
    title_en: str
    basis: Basis
    applies_to: ProjectFilter = Field(default_factory=ProjectFilter)
    where: Where
    verdict: Literal["forbid", "restrict", "advisory"]
    exceptions: list[RuleException] = Field(default_factory=list)
    message_zh: str
    requirements_zh: list[str] = Field(default_factory=list)
    #: How the tool reads the clause where it goes beyond the published text (an open "等",
    #: a presumption such as "industrial projects discharge pollutants", a scope chosen for
    #: codes); shown to the user in every finding of the rule.
    interpretation_zh: str | None = None


class _RuleFile(_Strict):
    rules: list[Rule]


class ActivityFit(_Strict):
    """Which projects can plausibly be a declared 自然资发〔2022〕142号 activity."""

    title_zh: str
    industries: list[str] | None = None   # categories / GB/T 4754 codes or prefixes; None: any
    not_industries: list[str] | None = None   # industries that can never be the activity
    types: list[ProjectType] = Field(default_factory=lambda: list[ProjectType](["project"]))
    basis_zh: str = ""


class _ActivityFile(_Strict):
    note_zh: str = ""
    activities: dict[Activity, ActivityFit]


@dataclass(frozen=True)
class RuleSet:
    """All rules plus the industry catalogue, with a content hash recorded in every verdict."""

    rules: tuple[Rule, ...]
    catalogue: IndustryCatalogue
    sha256: str
    files: tuple[str, ...]
    #: activity → which industries and project types can be that activity (activities.yaml)
    activities: dict[str, ActivityFit] = dataclasses.field(default_factory=dict)


CATALOGUE_FILE = "industries.yaml"
ACTIVITIES_FILE = "activities.yaml"
_DATA_FILES = (CATALOGUE_FILE, ACTIVITIES_FILE, SYNONYMS_FILE)


def load_ruleset(rules_dir: Path) -> RuleSet:
    """Load and validate every rule file; raise RuleFileError listing all problems found."""
    catalogue = IndustryCatalogue.load(rules_dir / CATALOGUE_FILE)
    problems: list[str] = []
    rules: list[Rule] = []
    digest = hashlib.sha256()
    files = sorted(p for p in rules_dir.glob("*.yaml") if p.name not in _DATA_FILES)
    if not files:
        raise RuleFileError([f"{rules_dir}: no rule files (*.yaml)"])
    act_path = rules_dir / ACTIVITIES_FILE
    extra = [act_path] if act_path.exists() else []
    for path in [*catalogue.source_paths, *extra, *files]:  # the GB/T table and synonyms too
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    activities = _load_activities(act_path, catalogue, problems) if extra else {}
    for path in files:
        rules.extend(_load_file(path, problems))
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{rule.family}: rule {rule.id}: id: duplicate (also in {seen[rule.id]})")
        seen[rule.id] = rule.family
        problems.extend(_check_industries(rule, catalogue))
    if problems:
        raise RuleFileError(problems)
    return RuleSet(tuple(rules), catalogue, digest.hexdigest(), tuple(p.name for p in files),
                   activities)


def _load_activities(path: Path, catalogue: IndustryCatalogue,
                     problems: list[str]) -> dict[str, ActivityFit]:
    """The activity plausibility table (docs/rule-format.md "Declared activities")."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        table = _ActivityFile.model_validate(raw).activities
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot parse: {exc}")
        return {}
    except ValidationError as exc:
        problems.extend(f"{path.name}: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                        for e in exc.errors())
        return {}
    for name, fit in table.items():
        for token in [*(fit.industries or []), *(fit.not_industries or [])]:
            if not _is_industry_token(token, catalogue):
                problems.append(f"{path.name}: activities.{name}.industries: unknown industry "
                                f"category or code {token!r}")
    return {str(k): v for k, v in table.items()}


def _is_industry_token(token: str, catalogue: IndustryCatalogue) -> bool:
    """A category name or a GB/T 4754-2017 code (the catalogue carries the complete table, so a
    well-formed code that is not in it, e.g. C2219, is an error)."""
    return catalogue.is_reference(token)


def _load_file(path: Path, problems: list[str]) -> list[Rule]:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: cannot parse: {exc}")
        return []
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        problems.append(f"{path.name}: top level must be a mapping with a `rules:` list")
        return []
    try:
        return _RuleFile.model_validate(raw).rules
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            rule_id = "?"
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                entry = raw["rules"][loc[1]]
                rule_id = entry.get("id", f"#{loc[1]}") if isinstance(entry, dict) else "?"
                loc = loc[2:]
            field = ".".join(str(x) for x in loc) or "(rule)"
            problems.append(f"{path.name}: rule {rule_id}: {field}: {err['msg']}")
        return []


def _check_industries(rule: Rule, catalogue: IndustryCatalogue) -> list[str]:
    out = []
    filters = [("applies_to", rule.applies_to)] + [
        (f"exceptions.{i}.when", e.when) for i, e in enumerate(rule.exceptions)
    ]
    for where, flt in filters:
        for key in ("industries", "not_industries"):
            for token in getattr(flt, key) or []:
                if not _is_industry_token(token, catalogue):
                    out.append(
                        f"{rule.family}.yaml: rule {rule.id}: {where}.{key}: unknown industry "
                        f"category or code {token!r}"
                    )
    return out


def rules_summary(ruleset: RuleSet) -> list[dict[str, Any]]:
    """Public JSON view of the rules (for ``GET /api/v1/rules``)."""
    return [json.loads(r.model_dump_json(exclude_none=True)) for r in ruleset.rules]
