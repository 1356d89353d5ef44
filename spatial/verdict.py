"""The verdict document's types: the one definition of what a screening answers (DESIGN §5).

The engine builds a ``Verdict`` of ``Finding``s, ``Gap``s (``not_evaluated``) and ``Nearest``
entries; ``Verdict.as_doc`` is its JSON document, which is what is stored, hashed and returned.
The service adds the id and time, the API the links (``VerdictDocument``), and the readers (report, map,
CLI, re-run) take a stored document back as a ``VerdictDocument`` with ``read_document``.
The HTTP API's response model and its OpenAPI schema are generated from these classes
(pydantic reads standard dataclasses).

Why standard dataclasses and not pydantic models: a batch builds about twenty of these per
parcel at thousands of parcels a second, and what it builds is already valid (the engine is
the only producer); a slotted dataclass costs a plain object's construction, where a pydantic
model validates every field again. Validation belongs where documents come from outside the
engine: reading a stored document back (``read_document``), which pydantic does on the same
classes. ``as_doc`` writes keys in the order of the fields and leaves out the optional keys a
document has only sometimes (``OMITTED_WHEN_NONE``), so documents keep the shape they always
had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter

VerdictName = Literal["forbid", "restrict", "pass", "indeterminate"]
FindingVerdict = Literal["forbid", "restrict", "advisory"]

VERDICT_ZH = {"forbid": "禁止", "restrict": "限制", "pass": "通过", "indeterminate": "无法判定",
              "advisory": "提示"}


@dataclass(slots=True, frozen=True)
class LayerRef:
    """The layer version a finding was decided on."""

    kind: str
    version: str

    def as_doc(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "version": self.version}


@dataclass(slots=True, frozen=True)
class ExceptionNote:
    """The exception of a rule that applied (it changed the verdict or added requirements)."""

    note_zh: str

    def as_doc(self) -> dict[str, Any]:
        """JSON form."""
        return {"note_zh": self.note_zh}


@dataclass(slots=True, kw_only=True)
class Finding:
    """One rule (or access-list requirement) that concerns the site, with why and by what."""

    rule_id: str
    verdict: FindingVerdict
    verdict_zh: str
    family: str
    title_zh: str
    title_en: str | None = None
    #: the legal basis as the rule cites it (document, issuer, clause, quote, source …)
    basis: dict[str, Any] = field(default_factory=dict)
    layer: LayerRef | None = None
    #: the deciding feature: its index, name and attributes
    feature: dict[str, Any] | None = None
    features_hit: int = 0
    #: measures in metres / square metres (distance_m, overlap_m2, share …)
    measure: dict[str, Any] = field(default_factory=dict)
    triggered: bool = True
    borderline: bool = False
    message_zh: str = ""
    requirements_zh: list[str] = field(default_factory=list)
    exception: ExceptionNote | None = None
    exception_refused_zh: list[str] = field(default_factory=list)
    interpretation_zh: str | None = None
    industry_categories: list[dict[str, Any]] = field(default_factory=list)
    #: a raster rule's picture of the cells under the site (PNG data URL) and its bounds
    thumbnail: str | None = None
    thumbnail_bounds: list[float] | None = None

    def as_doc(self) -> dict[str, Any]:
        """JSON form (``thumbnail`` keys only when there is one)."""
        doc: dict[str, Any] = {
            "rule_id": self.rule_id, "verdict": self.verdict, "verdict_zh": self.verdict_zh,
            "family": self.family, "title_zh": self.title_zh, "title_en": self.title_en,
            "basis": self.basis,
            "layer": self.layer.as_doc() if self.layer is not None else None,
            "feature": self.feature, "features_hit": self.features_hit,
            "measure": self.measure, "triggered": self.triggered, "borderline": self.borderline,
            "message_zh": self.message_zh, "requirements_zh": self.requirements_zh,
            "exception": self.exception.as_doc() if self.exception is not None else None,
            "exception_refused_zh": self.exception_refused_zh,
            "interpretation_zh": self.interpretation_zh,
            "industry_categories": self.industry_categories,
        }
        if self.thumbnail is not None:
            doc["thumbnail"] = self.thumbnail
            doc["thumbnail_bounds"] = self.thumbnail_bounds
        return doc


GapCode = Literal["layer_missing", "layer_tampered", "layer_incomplete", "layer_class_missing",
                  "outside_coverage", "attribute_missing"]


@dataclass(slots=True, frozen=True, kw_only=True)
class Gap:
    """Something the screening could not evaluate (``not_evaluated``): never a pass.

    Immutable, so the gaps a batch repeats for every parcel (a layer not covering it) are
    built once and shared.
    """

    rule_id: str | None
    code: GapCode
    reason: str
    reason_en: str
    #: attribute_missing: the project attributes the rule needs
    missing: tuple[str, ...] | None = None
    #: layer_class_missing: the layer and the classes it does not hold, by attribute
    layer: str | None = None
    missing_classes: dict[str, tuple[str, ...]] | None = None

    def as_doc(self) -> dict[str, Any]:
        """JSON form (the optional keys only where they apply)."""
        doc: dict[str, Any] = {"rule_id": self.rule_id, "code": self.code,
                               "reason": self.reason, "reason_en": self.reason_en}
        if self.missing is not None:
            doc["missing"] = list(self.missing)
        if self.layer is not None:
            doc["layer"] = self.layer
        if self.missing_classes is not None:
            doc["missing_classes"] = {a: list(v) for a, v in self.missing_classes.items()}
        return doc


@dataclass(slots=True, kw_only=True)
class Nearest:
    """How far the site is from the nearest feature of a constraint (not a rule)."""

    label_zh: str
    kind: str
    #: metres (0 = touching or inside; to the bank for a river with a stated width); None
    #: when none lies within ``within_m``
    distance_m: float | None
    within_m: float
    accuracy_m: float
    feature: dict[str, Any] | None = None
    distance_to_centreline_m: float | None = None
    half_width_m: float | None = None

    def as_doc(self) -> dict[str, Any]:
        """JSON form (feature and widths only when there is a nearest feature)."""
        doc: dict[str, Any] = {"label_zh": self.label_zh, "kind": self.kind,
                               "distance_m": self.distance_m, "within_m": self.within_m,
                               "accuracy_m": self.accuracy_m}
        if self.feature is not None:
            doc["feature"] = self.feature
        if self.distance_to_centreline_m is not None:
            doc["distance_to_centreline_m"] = self.distance_to_centreline_m
            doc["half_width_m"] = self.half_width_m
        return doc


@dataclass(slots=True, kw_only=True)
class Verdict:
    """A screening's answer, as the engine gives it (without id, time and links)."""

    verdict: VerdictName
    verdict_zh: str
    summary_zh: str
    #: the site as screened (area, centroid, input CRS and format, footprint, districts …)
    site: dict[str, Any]
    #: the project as submitted, with its industry resolved
    project: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    not_evaluated: list[Gap] = field(default_factory=list)
    #: the 环境管控单元 the site touches, largest share first
    control_units: list[dict[str, Any]] = field(default_factory=list)
    #: access-list rows the tool cannot check, verbatim (须逐条核对)
    checklist: list[dict[str, Any]] = field(default_factory=list)
    nearest: list[Nearest] = field(default_factory=list)
    #: the layer versions screened against (kind, version, sha256, demo, accuracy_m, title)
    layers: list[dict[str, Any]] = field(default_factory=list)
    rules_version: str = ""
    engine_version: str = ""

    def as_doc(self) -> dict[str, Any]:
        """The verdict document as stored and returned (before id, time and links)."""
        return {
            "verdict": self.verdict, "verdict_zh": self.verdict_zh,
            "summary_zh": self.summary_zh, "site": self.site, "project": self.project,
            "findings": [f.as_doc() for f in self.findings],
            "not_evaluated": [g.as_doc() for g in self.not_evaluated],
            "control_units": self.control_units, "checklist": self.checklist,
            "nearest": [n.as_doc() for n in self.nearest],
            "layers": self.layers, "rules_version": self.rules_version,
            "engine_version": self.engine_version,
        }


@dataclass(slots=True, kw_only=True)
class VerdictDocument(Verdict):
    """A stored screening: the verdict with its id, creation time and links."""

    id: str
    created_at: str
    links: dict[str, str] = field(default_factory=dict)


def finding_changes(before: Verdict, after: Verdict) -> list[dict[str, str | None]]:
    """The rules whose finding appeared, disappeared or changed verdict between two
    screenings of one site, by rule id: ``{"rule_id", "before", "after"}``."""
    was = {f.rule_id: f.verdict for f in before.findings}
    now = {f.rule_id: f.verdict for f in after.findings}
    return [{"rule_id": r, "before": was.get(r), "after": now.get(r)}
            for r in sorted(set(was) | set(now)) if was.get(r) != now.get(r)]


_READER: TypeAdapter[VerdictDocument] = TypeAdapter(VerdictDocument)
_VERDICT_READER: TypeAdapter[Verdict] = TypeAdapter(Verdict)


def read_verdict(doc: dict[str, Any]) -> Verdict:
    """A verdict document without id, time and links (``ScreeningService.evaluate``, a sandbox
    worker's answer) as its type; ``pydantic.ValidationError`` if it is not one."""
    return _VERDICT_READER.validate_python(doc)


def read_document(doc: dict[str, Any]) -> VerdictDocument:
    """A stored (or returned) verdict document as its type; documents of earlier versions,
    without the blocks added since (control units, checklist, nearest), read with them empty.
    Raises ``pydantic.ValidationError`` for a document that is not one."""
    return _READER.validate_python(doc)


def document_schema() -> dict[str, Any]:
    """JSON Schema of the verdict document (what the OpenAPI's response model is)."""
    return _READER.json_schema()
