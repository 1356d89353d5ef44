"""三线一单 生态环境准入清单: each control unit's requirements as a versioned table.

The authorities publish the lists as tables (xlsx, or CSV in GBK or UTF-8), one row per
requirement: 环境管控单元编码, 单元名称, 区县, 管控单元类别, 管控维度, 管控要求. A version is
stored, activated, rolled back and audited like a layer (kind ``access_list``, the catalogue's
``record_version``); its file is canonical JSON, so its sha256 is the content's.

A row may also carry a condition in the rule language (columns 判定, 适用行业, 建设性质,
项目类型, 项目标志): it is then *checked*, and gives a finding citing the unit, the dimension and
the row's text when the project meets it. Every other row of a unit the site touches goes,
verbatim, into the verdict's ``checklist`` (须逐条核对); an unchecked prohibition (禁止, 不得 …)
keeps the verdict from a plain ``pass`` (see ``screen_units``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from spatial.errors import InputError
from spatial.industries import IndustryCatalogue
from spatial.ruleset import ProjectFilter
from spatial.verdict import FindingVerdict

if TYPE_CHECKING:  # the store builds on this module's neighbours; only its types are needed
    from spatial.layers.store import LayerStore, LayerVersion, SourceMeta

KIND = "access_list"
TITLE_ZH = "生态环境准入清单"
SUFFIXES = (".csv", ".xlsx")
MAX_ROWS = 100_000

#: the four dimensions of an access list, as the lists name them
DIMENSIONS = ("空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求")
_DIMENSION_ALIASES = {"资源利用效率要求": "资源开发效率要求", "资源利用效率": "资源开发效率要求",
                      "资源开发效率": "资源开发效率要求"}

#: published header → field; English field names are accepted as headers too
HEADERS = {
    "环境管控单元编码": "unit_code", "管控单元编码": "unit_code", "单元编码": "unit_code",
    "环境管控单元名称": "unit_name", "管控单元名称": "unit_name", "单元名称": "unit_name",
    "区县": "district", "所属区县": "district",
    "管控单元类别": "unit_class", "单元类别": "unit_class", "管控类别": "unit_class",
    "管控维度": "dimension", "管控要求": "text", "准入要求": "text",
    "判定": "verdict", "适用行业": "industries", "建设性质": "nature", "项目类型": "types",
    "项目标志": "flags",
}
REQUIRED = ("unit_code", "unit_name", "district", "unit_class", "dimension", "text")
CONDITIONS = ("verdict", "industries", "nature", "types", "flags")
_VERDICTS: dict[str, FindingVerdict] = {"禁止": "forbid", "限制": "restrict", "提示": "advisory",
                                         "forbid": "forbid", "restrict": "restrict",
                                         "advisory": "advisory"}
_NATURES = {"新建": "new", "扩建": "expansion", "改建": "rebuild", "搬迁": "relocation"}
_TYPES = {"建设项目": "project", "工业园区": "industrial_park", "化工园区": "chemical_park",
          "尾矿库": "tailings_pond"}
#: words that make a requirement a prohibition (an unchecked one bars a plain pass)
PROHIBITIVE = re.compile("禁止|不得|严禁|不予|不准|杜绝|不允许")
_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class Requirement:
    """One row of an access list."""

    row: int
    unit_code: str
    unit_name: str
    district: str
    unit_class: str
    dimension: str
    text: str
    verdict: FindingVerdict | None = None
    when: ProjectFilter | None = None

    @property
    def prohibitive(self) -> bool:
        """A 禁止/不得 … requirement."""
        return bool(PROHIBITIVE.search(self.text))

    @property
    def key(self) -> str:
        """A stable id: the same unit, dimension and text in any version give the same key."""
        raw = "\0".join((self.unit_code, self.dimension, self.text)).encode()
        return hashlib.sha256(raw).hexdigest()[:10]

    def as_json(self) -> dict[str, Any]:
        """The stored form (conditions in the rule language)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("row", *REQUIRED)}
        if self.when is not None:
            out["verdict"] = self.verdict
            out["when"] = self.when.model_dump(exclude_none=True, exclude_defaults=True)
        return out

    def checklist_item(self) -> dict[str, Any]:
        """The verdict's ``checklist`` entry for an unchecked requirement."""
        return {"unit_code": self.unit_code, "unit_name": self.unit_name,
                "dimension": self.dimension, "text": self.text,
                "prohibitive": self.prohibitive, "key": self.key}


@dataclass
class ListReport:
    """What validation found, in the shape of a layer's ValidationReport."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def by_dimension(checklist: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A verdict's checklist grouped by dimension, in the lists' order of the dimensions."""
    return [(d, [c for c in checklist if c["dimension"] == d]) for d in DIMENSIONS
            if any(c["dimension"] == d for c in checklist)]


# -- reading ------------------------------------------------------------------------------------

def read_table(path: Path, *, encoding: str | None = None) -> list[list[str]]:
    """The cells of the first sheet of an xlsx, or of a CSV (UTF-8, with or without BOM, else
    GBK/GB18030 unless ``encoding`` says), as rows of strings."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix != ".csv":
        raise InputError(f"准入清单请上传 xlsx 或 csv 文件(收到 {suffix or '无扩展名'})",
                         "An access list must be an .xlsx or .csv file",
                         code="upload.unsupported_format")
    data = path.read_bytes()
    if b"\0" in data[:65536] or data[:4] == b"PK\x03\x04":
        raise InputError("文件内容不是 CSV 文本", "The file is not CSV text",
                         code="upload.format_mismatch")
    encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in encodings:
        try:
            text = data.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    else:
        raise InputError("CSV 文件编码无法识别(请使用 UTF-8 或 GBK)",
                         "CSV encoding not recognised (use UTF-8 or GBK)",
                         code="list.encoding_invalid")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


MAX_XLSX_UNPACKED = 256 << 20  # an xlsx is a zip: refuse one that unpacks to more


def _read_xlsx(path: Path) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                raise zipfile.BadZipFile("not a zip")
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError("文件内容不是 xlsx 工作簿", "The file is not an xlsx workbook",
                         code="upload.format_mismatch") from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise InputError("xlsx 解压后过大", "The xlsx unpacks to too much data",
                         code="list.too_large")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError("无法读取 xlsx 文件", "Cannot read the xlsx file",
                         code="upload.format_mismatch") from exc
    try:
        sheet = wb.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(["" if v is None else str(v).strip() for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        wb.close()


def _columns(header: list[str], field_map: dict[str, str]) -> dict[str, int]:
    """field → column index, from the header (published names, English names, field_map)."""
    known = {**HEADERS, **{f: f for f in (*REQUIRED, *CONDITIONS)}, **field_map}
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        target = known.get(name.strip())
        if target in (*REQUIRED, *CONDITIONS) and target not in out:
            out[target] = i
    missing = [f for f in REQUIRED if f not in out]
    if missing:
        names = {v: k for k, v in reversed(list(HEADERS.items()))}
        raise InputError(
            "准入清单缺少列：" + "、".join(names.get(f, f) for f in missing)
            + "(可用 field_map 把源表头映射到这些列)",
            "Access list lacks columns: " + ", ".join(missing),
            code="list.columns_missing", details={"missing": missing, "header": header})
    return out


# -- validating ---------------------------------------------------------------------------------

def parse_rows(cells: list[list[str]], catalogue: IndustryCatalogue, *,
               field_map: dict[str, str] | None = None,
               units: dict[str, str] | None = None) -> tuple[list[Requirement], ListReport]:
    """Requirements from table cells, with a report: unknown unit codes (``units``: the active
    control_unit layer's code → name), unknown dimensions, bad conditions and empty rows are
    errors; duplicates and units without a list are warnings."""
    if not cells or not any(cells[0]):
        raise InputError("准入清单为空", "The access list is empty", code="list.empty")
    if len(cells) > MAX_ROWS + 1:
        raise InputError(f"准入清单超过 {MAX_ROWS} 行", f"More than {MAX_ROWS} rows",
                         code="list.too_large")
    cols = _columns(cells[0], field_map or {})
    report = ListReport()
    rows: list[Requirement] = []
    seen: dict[tuple[str, str, str], int] = {}
    for n, raw in enumerate(cells[1:], start=2):
        values = {f: (raw[i] if i < len(raw) else "").strip() for f, i in cols.items()}
        if not any(values.values()):
            continue  # a blank line
        where = f"第 {n} 行"
        if not values["text"]:
            report.errors.append(f"{where}：管控要求为空")
            continue
        if not values["unit_code"]:
            report.errors.append(f"{where}：环境管控单元编码为空")
            continue
        dim = _DIMENSION_ALIASES.get(values["dimension"], values["dimension"])
        if dim not in DIMENSIONS:
            report.errors.append(f"{where}：管控维度“{values['dimension']}”不是"
                                 f"{'、'.join(DIMENSIONS)}之一")
            continue
        if units is not None and values["unit_code"] not in units:
            report.errors.append(f"{where}：单元编码 {values['unit_code']} 不在启用的环境管控单元图层中")
            continue
        try:
            verdict, when = _condition(values, catalogue)
        except ValueError as exc:
            report.errors.append(f"{where}：{exc}")
            continue
        dup = (values["unit_code"], dim, values["text"])
        if dup in seen:
            report.warnings.append(f"{where}：与第 {seen[dup]} 行重复(同一单元、维度和要求)，已合并")
            continue
        seen[dup] = n
        rows.append(Requirement(n, values["unit_code"], values["unit_name"], values["district"],
                                values["unit_class"], dim, values["text"], verdict, when))
    if not rows and not report.errors:
        report.errors.append("准入清单没有任何要求")
    if units is not None:
        listed = {r.unit_code for r in rows}
        for code, name in sorted(units.items()):
            if code not in listed:
                report.warnings.append(f"环境管控单元 {code}({name})没有准入清单条目")
    return rows, report


def _condition(values: dict[str, str], catalogue: IndustryCatalogue
               ) -> tuple[FindingVerdict | None, ProjectFilter | None]:
    """The row's verdict and project filter, or (None, None) when it carries no condition."""
    given = {k: values.get(k, "") for k in CONDITIONS if values.get(k, "")}
    if not given:
        return None, None
    verdict = _VERDICTS.get(given.pop("verdict", ""))
    if verdict is None:
        raise ValueError("带判定条件的要求须在“判定”列写明 禁止、限制 或 提示")
    if not given:
        raise ValueError("“判定”须配合适用行业、建设性质、项目类型或项目标志之一")
    spec: dict[str, Any] = {}
    if "industries" in given:
        tokens = [t for t in _SPLIT.split(given["industries"]) if t]
        bad = [t for t in tokens if not catalogue.is_reference(t)]
        if bad:
            raise ValueError(f"适用行业 {'、'.join(bad)} 不是行业类别或 GB/T 4754-2017 代码")
        spec["industries"] = tokens
    for key, table, target in (("nature", _NATURES, "nature"), ("types", _TYPES, "type")):
        if key in given:
            spec[target] = [table.get(t, t) for t in _SPLIT.split(given[key]) if t]
    if "flags" in given:
        spec["flags"] = [t for t in _SPLIT.split(given["flags"]) if t]
    try:
        return verdict, ProjectFilter.model_validate(spec)
    except ValidationError as exc:
        raise ValueError("条件无效：" + "；".join(str(e["msg"]) for e in exc.errors())) from exc


# -- storing and loading ------------------------------------------------------------------------

def canonical_bytes(rows: Iterable[Requirement]) -> bytes:
    """The stored file: canonical JSON (its sha256 identifies the content)."""
    doc = {"kind": KIND, "requirements": [r.as_json() for r in rows]}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def load_rows(path: Path) -> tuple[Requirement, ...]:
    """The requirements of a stored version file."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for r in doc["requirements"]:
        when = ProjectFilter.model_validate(r["when"]) if "when" in r else None
        out.append(Requirement(r["row"], r["unit_code"], r["unit_name"], r["district"],
                               r["unit_class"], r["dimension"], r["text"], r.get("verdict"),
                               when))
    return tuple(out)


@dataclass
class AccessList:
    """An active (or pinned) access-list version, indexed by unit code."""

    version: Any  # store.LayerVersion (kept untyped: store builds on this module)
    rows: tuple[Requirement, ...]
    coverage: Any = None

    def __post_init__(self) -> None:
        self.by_unit: dict[str, list[Requirement]] = {}
        for r in self.rows:
            self.by_unit.setdefault(r.unit_code, []).append(r)

    @property
    def kind(self) -> str:
        """Always ``access_list``."""
        return KIND

    @property
    def accuracy_m(self) -> float:
        """A table has no positions (0)."""
        return 0.0


# -- importing ----------------------------------------------------------------------------------

def import_access_list(store: LayerStore, path: Path, meta: SourceMeta,
                       catalogue: IndustryCatalogue, *, loaded_by: str, activate: bool = False,
                       encoding: str | None = None,
                       field_map: dict[str, str] | None = None) -> LayerVersion:
    """Read, validate and store an access list as a new version of kind ``access_list``
    (activated only when asked and valid); a list with errors is recorded, with its report,
    and raises DataError like a layer (``LayerStore.record_version``)."""
    from spatial.layers.validation import ValidationReport

    cells = read_table(path, encoding=encoding)
    units = None
    cu = store.active_versions().get("control_unit")
    if cu is not None:
        gdf = store.read(cu)
        units = {str(c): str(n) for c, n in zip(gdf["code"], gdf["name"], strict=True)}
    rows, found = parse_rows(cells, catalogue, field_map=field_map, units=units)
    if units is None:
        found.warnings.append("没有启用的环境管控单元图层，单元编码未核对")
    report = ValidationReport(feature_count=len(rows), errors=found.errors,
                              warnings=found.warnings)
    data = canonical_bytes(rows)
    sha = hashlib.sha256(data).hexdigest()
    version = sha[:16]
    target = store.home / "layers" / KIND / f"{version}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = None
    if not report.errors and not store.file_verified(KIND, version, target):
        staged = store.stage(target, lambda tmp: tmp.write_bytes(data))
    return store.record_version(KIND, version, sha, len(rows), [], meta, report, target,
                                loaded_by=loaded_by, activate=activate,
                                detail={"requirements": len(rows)},
                                what=("准入清单", "Access list"), staged=staged)


def seed_access_lists(store: LayerStore, manifest: Path, catalogue: IndustryCatalogue, *,
                      actor: str = "seed") -> list[LayerVersion]:
    """Import and activate the lists of the shipped ``data/access_lists.yaml`` (if any)."""
    import yaml

    from spatial.layers.store import SourceMeta

    if not manifest.exists():
        return []
    out = []
    for entry in yaml.safe_load(manifest.read_text(encoding="utf-8"))["lists"]:
        fields = {k: entry[k] for k in SourceMeta.__dataclass_fields__ if k in entry}
        out.append(import_access_list(store, manifest.parent / entry["file"],
                                      SourceMeta(**fields), catalogue, loaded_by=actor,
                                      activate=True, field_map=entry.get("field_map")))
    return out
