"""Layer store: immutable layer versions as GeoPackage files plus a SQLite catalogue.

Layout of ``REDLINE_HOME``::

    catalog.sqlite              versions, active version per kind, audit log, screenings
    layers/<kind>/<version>.gpkg

A version id is the first 16 hex digits of the sha256 of the normalised content, so the
same content always gets the same id and a stored version can never change. Activation is a
single SQLite transaction; readers take the whole active set in one SELECT.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
import yaml

from spatial.errors import ConflictError, DataError, NotFoundError, StoreBusyError
from spatial.layerkinds import KINDS, LayerKind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layer_versions (
    kind TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL,
    feature_count INTEGER NOT NULL, bbox TEXT NOT NULL, meta TEXT NOT NULL,
    validation TEXT NOT NULL, path TEXT NOT NULL, loaded_by TEXT, loaded_at TEXT NOT NULL,
    PRIMARY KEY (kind, version));
CREATE TABLE IF NOT EXISTS active (
    kind TEXT PRIMARY KEY, version TEXT NOT NULL, activated_at TEXT NOT NULL,
    activated_by TEXT);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL,
    kind TEXT, version TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS screenings (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, request TEXT NOT NULL,
    result TEXT NOT NULL);
"""


@dataclass(frozen=True)
class SourceMeta:
    """Where a layer version came from and how far to trust its positions."""

    title: str
    publisher: str = ""
    date: str = ""
    licence: str = ""
    source_crs: str = ""
    accuracy_m: float = 0.0
    demo: bool = False
    coverage_adcodes: list[str] | None = None
    geometry_role: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class LayerVersion:
    """A stored, immutable layer version."""

    kind: str
    version: str
    sha256: str
    feature_count: int
    bbox: list[float]
    meta: SourceMeta
    validation: dict[str, Any]
    path: Path
    loaded_by: str | None
    loaded_at: str

    def public(self) -> dict[str, Any]:
        """JSON view for APIs and the CLI."""
        return {
            "kind": self.kind, "version": self.version, "sha256": self.sha256,
            "feature_count": self.feature_count, "bbox": self.bbox, **asdict(self.meta),
            "validation": self.validation, "loaded_by": self.loaded_by,
            "loaded_at": self.loaded_at,
        }


@dataclass
class ValidationReport:
    """What the loader found in a layer file before storing it."""

    feature_count: int = 0
    source_crs: str | None = None
    repaired: int = 0
    dropped_empty: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def now_iso() -> str:
    """UTC timestamp, seconds precision, ISO 8601."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class LayerStore:
    """The data directory: layer versions and the catalogue (also holds screenings)."""

    def __init__(self, home: Path):
        self.home = Path(home)
        (self.home / "layers").mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "catalog.sqlite"
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)  # executescript manages its own transaction
        finally:
            con.close()

    @contextmanager
    def connect(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A WAL connection in one transaction, committed on success.

        Writers take the write lock up front (IMMEDIATE) with synchronous commits; readers use
        a deferred transaction, which in WAL mode never waits for a writer and sees one
        consistent snapshot.
        """
        try:
            con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            con.execute("PRAGMA synchronous=FULL")
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreBusyError("数据目录繁忙或不可写，请稍后重试", f"Data store unavailable: {exc}",
                                 code="store.busy") from exc
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # -- reading -------------------------------------------------------------------------

    def active_versions(self) -> dict[str, LayerVersion]:
        """The active version of every kind, read in one statement (a consistent set)."""
        with self.connect(write=False) as con:
            rows = con.execute(
                "SELECT v.* FROM active a JOIN layer_versions v "
                "ON v.kind = a.kind AND v.version = a.version"
            ).fetchall()
        return {r[0]: _row_to_version(r) for r in rows}

    def get_version(self, kind: str, version: str) -> LayerVersion:
        """One stored version; NotFoundError when absent."""
        with self.connect(write=False) as con:
            row = con.execute(
                "SELECT * FROM layer_versions WHERE kind = ? AND version = ?", (kind, version)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"图层版本不存在：{kind} {version}",
                                f"No such layer version: {kind} {version}",
                                code="layer.version_not_found")
        return _row_to_version(row)

    def versions(self, kind: str) -> list[LayerVersion]:
        """All versions of a kind, oldest first."""
        with self.connect(write=False) as con:
            rows = con.execute(
                "SELECT * FROM layer_versions WHERE kind = ? ORDER BY loaded_at, version", (kind,)
            ).fetchall()
        return [_row_to_version(r) for r in rows]

    def read(self, lv: LayerVersion) -> gpd.GeoDataFrame:
        """The features of a stored version (EPSG:4326)."""
        try:
            return pyogrio.read_dataframe(lv.path)
        except Exception as exc:  # GDAL error types vary by driver
            raise DataError(f"图层文件损坏：{lv.path.name}", f"Layer file unreadable: {exc}",
                            code="layer.file_corrupt") from exc

    def is_empty(self) -> bool:
        """True before the first layer is loaded."""
        with self.connect(write=False) as con:
            return con.execute("SELECT COUNT(*) FROM layer_versions").fetchone()[0] == 0

    # -- writing -------------------------------------------------------------------------

    def import_file(self, kind: str, path: Path, meta: SourceMeta, *, loaded_by: str,
                    activate: bool = False) -> LayerVersion:
        """Read a vector file with GDAL, validate, normalise and store it as a new version."""
        try:
            gdf = pyogrio.read_dataframe(path)
        except Exception as exc:  # GDAL error types vary by driver
            raise DataError(f"无法读取图层文件：{path.name}", f"Cannot read layer file: {exc}",
                            code="layer.file_unreadable") from exc
        return self.import_frame(kind, gdf, meta, loaded_by=loaded_by, activate=activate)

    def import_frame(self, kind: str, gdf: gpd.GeoDataFrame, meta: SourceMeta, *,
                     loaded_by: str, activate: bool = False) -> LayerVersion:
        """Validate, normalise and store a GeoDataFrame as a version of ``kind``."""
        schema = KINDS.get(kind)
        if schema is None:
            raise NotFoundError(f"未知图层类型：{kind}", f"Unknown layer kind: {kind}",
                                code="layer.kind_unknown")
        clean, report = validate_frame(schema, gdf)
        if report.errors:
            raise DataError("图层校验未通过：" + ";".join(report.errors[:5]),
                            "Layer validation failed: " + "; ".join(report.errors[:5]),
                            code="layer.validation_failed", details=asdict(report))
        sha = content_hash(clean)
        version = sha[:16]
        target = self.home / "layers" / kind / f"{version}.gpkg"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            # A private temporary name: two processes seeding at once must not collide.
            tmp = target.with_name(f".{version}.{os.getpid()}.{secrets.token_hex(4)}.gpkg")
            pyogrio.write_dataframe(clean, tmp, driver="GPKG", layer=kind)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        bbox = [round(float(v), 7) for v in clean.total_bounds]
        with self.connect() as con:
            exists = con.execute("SELECT meta FROM layer_versions WHERE kind=? AND version=?",
                                 (kind, version)).fetchone()
            if exists and json.loads(exists[0]) != json.loads(json.dumps(asdict(meta))):
                raise ConflictError(
                    f"相同内容已存储为版本 {version}，但元数据不同；版本不可修改，如需更正元数据请联系管理员",
                    f"The same content is already stored as version {version} with other metadata",
                    code="layer.version_exists")
            if not exists:
                con.execute(
                    "INSERT INTO layer_versions VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (kind, version, sha, len(clean), json.dumps(bbox),
                     json.dumps(asdict(meta), ensure_ascii=False),
                     json.dumps(asdict(report), ensure_ascii=False), str(target), loaded_by,
                     now_iso()),
                )
                _audit(con, loaded_by, "import", kind, version, {"features": len(clean)})
            if activate:
                _activate(con, kind, version, loaded_by)
        return self.get_version(kind, version)

    def activate(self, kind: str, version: str, *, actor: str) -> LayerVersion:
        """Make a stored version the active one for its kind (atomic)."""
        lv = self.get_version(kind, version)
        if lv.validation.get("errors"):
            raise ConflictError("该版本校验未通过，不能启用", "This version failed validation",
                                code="layer.version_invalid")
        with self.connect() as con:
            _activate(con, kind, version, actor)
        return lv

    def seed_from_manifest(self, manifest: Path, *, actor: str = "seed") -> list[LayerVersion]:
        """Load and activate every layer listed in the shipped ``data/layers.yaml``."""
        entries = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        out = []
        for entry in entries["layers"]:
            fields = {k: entry[k] for k in SourceMeta.__dataclass_fields__ if k in entry}
            meta = SourceMeta(**fields)
            path = manifest.parent / entry["file"]
            out.append(self.import_file(entry["kind"], path, meta, loaded_by=actor, activate=True))
        return out


def _activate(con: sqlite3.Connection, kind: str, version: str, actor: str | None) -> None:
    con.execute(
        "INSERT INTO active(kind, version, activated_at, activated_by) VALUES (?,?,?,?) "
        "ON CONFLICT(kind) DO UPDATE SET version=excluded.version, "
        "activated_at=excluded.activated_at, activated_by=excluded.activated_by",
        (kind, version, now_iso(), actor),
    )
    _audit(con, actor, "activate", kind, version, None)


def _audit(con: sqlite3.Connection, actor: str | None, action: str, kind: str | None,
           version: str | None, detail: dict[str, Any] | None) -> None:
    con.execute(
        "INSERT INTO audit(at, actor, action, kind, version, detail) VALUES (?,?,?,?,?,?)",
        (now_iso(), actor, action, kind, version,
         json.dumps(detail, ensure_ascii=False) if detail else None),
    )


def _row_to_version(row: tuple[Any, ...]) -> LayerVersion:
    kind, version, sha, count, bbox, meta, validation, path, by, at = row
    return LayerVersion(kind, version, sha, count, json.loads(bbox),
                        SourceMeta(**json.loads(meta)), json.loads(validation), Path(path), by, at)


def validate_frame(schema: LayerKind, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame,
                                                                       ValidationReport]:
    """Check a frame against its kind; return the cleaned EPSG:4326 frame and a report."""
    report = ValidationReport(feature_count=len(gdf))
    if gdf.crs is None:
        report.errors.append("文件没有坐标系信息 (no CRS)")
        return gdf, report
    report.source_crs = gdf.crs.to_string()
    gdf = gdf.to_crs("EPSG:4326") if gdf.crs.to_epsg() != 4326 else gdf
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    report.dropped_empty = int((~keep).sum())
    gdf = gdf[keep].copy()
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        report.repaired = int(invalid.sum())
        fixed = shapely.make_valid(gdf.geometry[invalid].values)
        if all(t.endswith("Polygon") for t in schema.geometry):
            # make_valid may return a collection with slivers of lower dimension: keep the area
            fixed = [shapely.union_all([p for p in shapely.get_parts(g)
                                        if p.geom_type.endswith("Polygon")]) for g in fixed]
        gdf.loc[invalid, "geometry"] = fixed
        report.warnings.append(f"{report.repaired} 个无效几何已用 make_valid 修复")
    types = set(gdf.geometry.geom_type)
    if not types <= set(schema.geometry):
        report.errors.append(f"几何类型 {sorted(types)} 不符合 {schema.name} 要求 {schema.geometry}")
    for attr in schema.attributes:
        if attr.name not in gdf.columns:
            report.errors.append(f"缺少必需字段 {attr.name}")
            continue
        converted, bad_values = _coerce(gdf[attr.name], attr.type)
        if bad_values:
            report.errors.append(f"字段 {attr.name} 的取值 {bad_values[:5]} 无法转换为{_TYPE_ZH[attr.type]}")
            continue
        gdf[attr.name] = converted
        if attr.pattern and (bad := sorted({v for v in converted.dropna()
                                            if not re.fullmatch(attr.pattern, v)})):
            report.errors.append(f"字段 {attr.name} 的取值 {bad[:5]} 格式不符")
        values = gdf[attr.name]
        if not attr.nullable and values.isna().any():
            report.errors.append(f"字段 {attr.name} 有 {int(values.isna().sum())} 个空值")
        if attr.domain is not None:
            bad = sorted({str(v) for v in values.dropna() if v not in attr.domain})
            if bad:
                report.errors.append(f"字段 {attr.name} 的取值 {bad} 不在允许范围 {list(attr.domain)}")
    if len(gdf) == 0:
        report.errors.append("图层没有有效要素")
    gdf = gdf.set_geometry(shapely.normalize(shapely.set_precision(gdf.geometry.values, 1e-8)))
    gdf = gdf.iloc[sorted(range(len(gdf)), key=lambda i: gdf.geometry.iloc[i].wkb_hex)]
    return gdf.reset_index(drop=True), report


_TYPE_ZH = {bool: "布尔值", str: "文本"}
_TRUE = {True, "1", "true", "t", "yes", "y", "是"}
_FALSE = {False, "0", "false", "f", "no", "n", "否"}


def _coerce(values: pd.Series, kind: type) -> tuple[pd.Series, list[str]]:
    """Convert a column to the schema type; returns the column and unconvertible values."""
    bad: list[str] = []

    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if kind is bool:
            key = v.strip().lower() if isinstance(v, str) else v
            if key in _TRUE:
                return True
            if key in _FALSE:
                return False
            bad.append(str(v))
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))  # e.g. adcode 500106 read as a number
        return str(v)

    items = [one(v) for v in values]
    # a plain bool column is written to GeoPackage as a boolean field, object as text
    dtype = bool if kind is bool and None not in items else object
    return pd.Series(items, index=values.index, dtype=dtype), sorted(set(bad))


def content_hash(gdf: gpd.GeoDataFrame) -> str:
    """sha256 of the normalised features (geometry WKB + sorted attributes), order-stable."""
    digest = hashlib.sha256()
    cols = sorted(c for c in gdf.columns if c != gdf.geometry.name)
    records = gdf[cols].to_dict("records")
    for geom, rec in zip(gdf.geometry.values, records, strict=True):
        digest.update(geom.wkb)
        attrs = {c: plain_value(rec[c]) for c in cols}
        digest.update(json.dumps(attrs, ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def plain_value(v: Any) -> Any:
    """A JSON-friendly Python value from a pandas/numpy cell (NaN → None)."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v
