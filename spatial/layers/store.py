"""Layer store: immutable layer versions as GeoPackage files plus a SQLite catalogue.

Layout of ``REDLINE_HOME``::

    catalog.sqlite              versions, active version per kind, audit log, screenings
    layers/<kind>/<version>.gpkg

A version id is the first 16 hex digits of the sha256 of the normalised content, so the
same content always gets the same id and a stored version can never change. Activation is a
single SQLite transaction; readers take the whole active set in one SELECT.

The files are checked too: the sha256 of each version's file is recorded (``layer_files``) in
the transaction that enters the version, and every read of the file (indexing it, validating
against it) hashes it first and refuses it (``LayerTamperedError``) when it differs, so a file
edited in the data directory is never screened. The append-only tables (audit log, screenings,
file digests) and the version records refuse UPDATE, DELETE and INSERT OR REPLACE by trigger.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from spatial import catalogue
from spatial.errors import (
    ConflictError,
    DataError,
    LayerTamperedError,
    NotFoundError,
)
from spatial.layers.kinds import KINDS, LayerKind, is_raster
from spatial.layers.rasterfile import content_digest
from spatial.layers.validation import ValidationReport, compare, validate_frame

log = logging.getLogger(__name__)

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
    # The feature classes the version holds, per class attribute (e.g. river
    # ``{"class": ["mainstem", "important_tributary"]}``): a rule asking for a class the
    # version does not hold cannot be decided on it (engine: ``layer_class_missing``).
    # None at import = the distinct values found in the data (layerkinds.held_classes).
    holds: dict[str, list[str]] | None = None


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


@dataclass(frozen=True)
class LayerFile:
    """A layer file and its sha256 and size (a new one still under its temporary name)."""

    path: Path
    sha256: str
    size: int


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 and size of a file (read in blocks, never whole)."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        return digest.hexdigest(), fh.tell()


def now_iso() -> str:
    """UTC timestamp, seconds precision, ISO 8601."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class LayerStore:
    """The data directory: layer versions and the catalogue (also holds screenings)."""

    def __init__(self, home: Path):
        self.home = Path(home)
        (self.home / "layers").mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / "catalog.sqlite"
        catalogue.create(self.db_path)
        self._local = threading.local()
        self._record_missing_digests()

    def connect(self, *, write: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        """A catalogue connection in one transaction, committed on success
        (``catalogue.transaction``)."""
        return catalogue.transaction(self.db_path, write=write)

    # -- reading -------------------------------------------------------------------------

    def _version(self, row: tuple[Any, ...]) -> LayerVersion:
        return _row_to_version(row, self.home)

    def active_key(self) -> tuple[tuple[str, str], ...]:
        """The (kind, version) pairs active now: one indexed read, no connection set-up.

        Each thread keeps one read connection (reopened if the catalogue file was replaced by a
        restore); in WAL mode an autocommit SELECT always sees the latest committed activation.
        """
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = catalogue.Kept(self.db_path)
        return tuple(sorted(catalogue.active_pairs(reader.get())))

    def active_versions(self) -> dict[str, LayerVersion]:
        """The active version of every kind, read in one statement (a consistent set)."""
        with self.connect(write=False) as con:
            rows = catalogue.active_version_rows(con)
        return {r[0]: self._version(r) for r in rows}

    def get_version(self, kind: str, version: str) -> LayerVersion:
        """One stored version; NotFoundError when absent."""
        with self.connect(write=False) as con:
            row = catalogue.version_row(con, kind, version)
        if row is None:
            raise NotFoundError(f"图层版本不存在：{kind} {version}",
                                f"No such layer version: {kind} {version}",
                                code="layer.version_not_found")
        return self._version(row)

    def versions(self, kind: str) -> list[LayerVersion]:
        """All versions of a kind, oldest first."""
        with self.connect(write=False) as con:
            rows = catalogue.version_rows(con, kind)
        return [self._version(r) for r in rows]

    def read(self, lv: LayerVersion) -> gpd.GeoDataFrame:
        """The features of a stored version (EPSG:4326), once its file is verified."""
        self.verify(lv)
        try:
            return pyogrio.read_dataframe(lv.path)
        except Exception as exc:  # GDAL error types vary by driver
            raise DataError(f"图层文件损坏：{lv.path.name}", f"Layer file unreadable: {exc}",
                            code="layer.file_corrupt") from exc

    # -- file digests --------------------------------------------------------------------

    def verify(self, lv: LayerVersion) -> None:
        """Check a version's file against the sha256 recorded when it was stored (hashing it:
        about 1 ms a MB); LayerTamperedError when it differs, is missing or has no record.

        An in-place edit of the same size and mtime is caught as well as a deleted feature:
        the whole file is hashed, nothing is judged by size or time.
        """
        expected = self._recorded_digest(lv.kind, lv.version)
        try:
            found, size = file_sha256(lv.path)
        except OSError as exc:
            raise _tampered(lv, "缺失或无法读取", "its file is missing or unreadable") from exc
        if not expected:  # none recorded, or "" for a file refused when the store was upgraded
            raise _tampered(lv, "没有可核对的入库校验记录(升级时文件已与目录记录不符)",
                            "its file has no recorded digest (it did not match the catalogue "
                            "when the data directory was upgraded)")
        if found != expected:
            raise _tampered(lv, "与入库时记录的 sha256 不符(已被改动或损坏)",
                            "its file differs from the sha256 recorded when it was stored",
                            expected_sha256=expected, found_sha256=found, size=size)

    def file_verified(self, kind: str, version: str, path: Path) -> bool:
        """Whether ``path`` exists and matches the digest recorded for the version."""
        expected = self._recorded_digest(kind, version)
        return bool(expected) and path.is_file() and file_sha256(path)[0] == expected

    @staticmethod
    def stage(target: Path, write: Callable[[Path], object]) -> LayerFile:
        """Write a version's new file with ``write(path)`` under a private temporary name
        beside ``target`` (two processes importing at once must not collide; the rename in
        ``record_version`` is atomic, so a crash leaves no file or the whole file), flush it to
        disk and take its digest; a failed write leaves nothing behind."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}"
                               f"{target.suffix}")
        try:
            write(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            return LayerFile(tmp, *file_sha256(tmp))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _recorded_digest(self, kind: str, version: str) -> str | None:
        with self.connect(write=False) as con:
            return _latest_digest(con, kind, version)

    def _record_missing_digests(self) -> None:
        """Record the file digest of versions stored before digests were (a catalogue from an
        older version), each once its file is found to hold what the catalogue says: a
        raster's content hash, or a vector layer's feature count and, where it reproduces,
        its content hash. A file that does not match is recorded with an empty digest: it
        stays refused (``verify``) until it is imported again, and is not re-read each time."""
        with self.connect(write=False) as con:
            rows = catalogue.versions_without_digest(con)
        found = []
        for row in rows:
            lv = self._version(row)
            if lv.validation.get("errors") or not lv.path.is_file():
                continue  # a refused version has no file; a missing file stays refused
            digest, size = file_sha256(lv.path)
            how = _vouch(lv)
            if how is None:
                log.error("layer %s version %s: its file does not hold the content the "
                          "catalogue records; the version is refused", lv.kind, lv.version)
                digest, how = "", "mismatch"
            found.append((lv, LayerFile(lv.path, digest, size), how))
        if not found:
            return
        with self.connect() as con:
            for lv, file, how in found:
                if _latest_digest(con, lv.kind, lv.version) is None:
                    _record_file(con, lv.kind, lv.version, file, f"upgrade ({how})")
                    audit(con, "upgrade", "file_digest" if file.sha256 else "file_refused",
                          lv.kind, lv.version, {"sha256": file.sha256, "checked": how})

    def is_empty(self) -> bool:
        """True before the first layer is loaded."""
        with self.connect(write=False) as con:
            return catalogue.version_count(con) == 0

    # -- writing -------------------------------------------------------------------------

    def import_frame(self, kind: str, gdf: gpd.GeoDataFrame, meta: SourceMeta, *,
                     loaded_by: str, activate: bool = False) -> LayerVersion:
        """Validate, normalise and store a GeoDataFrame as a new, not yet active version.

        A version with validation errors is stored too (with its report, for the record) but
        can never be activated; DataError is raised with the version id and the report.
        """
        schema = KINDS.get(kind)
        if schema is None:
            raise NotFoundError(f"未知图层类型：{kind}", f"Unknown layer kind: {kind}",
                                code="layer.kind_unknown")
        active = self.active_versions()
        region = None
        if kind != "admin_district" and "admin_district" in active:
            region = shapely.union_all(self.read(active["admin_district"]).geometry.values)
        clean, report = validate_frame(schema, gdf, region=region)
        meta, holds_errors = declare_holds(schema, clean, meta)
        report.errors.extend(holds_errors)
        previous = active.get(kind)
        if not report.errors and previous is not None:
            try:
                report.comparison = compare(schema, clean, self.read(previous), previous.version)
            except LayerTamperedError as exc:  # the new version may be what replaces it
                report.warnings.append(f"未与启用版本 {previous.version} 比较：{exc.message_zh}")
        sha = _frame_hash(clean)
        version = sha[:16]
        target = self.home / "layers" / kind / f"{version}.gpkg"
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = None
        if not report.errors and not self.file_verified(kind, version, target):
            staged = self.stage(target, lambda tmp: pyogrio.write_dataframe(
                clean, tmp, driver="GPKG", layer=kind))
        bbox = [round(float(v), 7) for v in clean.total_bounds] if len(clean) else []
        return self.record_version(kind, version, sha, len(clean), bbox, meta, report, target,
                                   loaded_by=loaded_by, activate=activate,
                                   detail={"features": len(clean)}, what=("图层", "Layer"),
                                   staged=staged)

    def record_version(self, kind: str, version: str, sha: str, count: int, bbox: list[float],
                       meta: SourceMeta, report: ValidationReport, target: Path, *,
                       loaded_by: str, activate: bool, detail: dict[str, Any],
                       what: tuple[str, str], staged: LayerFile | None = None) -> LayerVersion:
        """Enter a written (or refused) version in the catalogue, audit it, optionally activate.

        Shared by vector and raster imports. Same content with other metadata is a conflict
        (versions are immutable); a version with errors is recorded and raises DataError.
        ``staged`` is the version's new file under its temporary name: it is renamed to
        ``target`` and its digest recorded in the same transaction, unless ``target`` already
        holds the recorded file (then it is dropped); a target that does not verify (edited,
        damaged, left by a crash) is replaced, and the rewrite audited.
        """
        try:
            with self.connect() as con:
                exists = catalogue.version_meta(con, kind, version)
                if exists and json.loads(exists) != json.loads(json.dumps(asdict(meta))):
                    raise ConflictError(
                        f"相同内容已存储为版本 {version}，但元数据不同；版本不可修改",
                        f"The same content is already stored as version {version} with other "
                        "metadata", code="layer.version_exists")
                if not exists:
                    catalogue.insert_version(
                        con, (kind, version, sha, count, json.dumps(bbox),
                         json.dumps(asdict(meta), ensure_ascii=False),
                         json.dumps(asdict(report), ensure_ascii=False),
                         target.relative_to(self.home).as_posix(), loaded_by, now_iso()),
                    )
                    action = "import_refused" if report.errors else "import"
                    audit(con, loaded_by, action, kind, version,
                          {**detail, "errors": report.errors[:5]})
                if staged is not None:
                    prior = _latest_digest(con, kind, version)
                    # checked again under the write lock: a concurrent import of the same
                    # content may have put the file in place meanwhile
                    if not prior or not (target.is_file() and file_sha256(target)[0] == prior):
                        os.replace(staged.path, target)
                        _record_file(con, kind, version, staged,
                                     "import" if prior is None else "rewrite")
                        if prior is not None:
                            audit(con, loaded_by, "file_rewritten", kind, version,
                                  {"sha256": staged.sha256, "previous_sha256": prior})
                if activate and not report.errors:
                    _activate(con, kind, version, loaded_by)
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)  # not renamed: refused, or not needed
        if report.errors:
            raise DataError(f"{what[0]}校验未通过：" + "；".join(report.errors[:5]),
                            f"{what[1]} validation failed: " + "; ".join(report.errors[:5]),
                            code="layer.validation_failed",
                            details={"version": version, "report": asdict(report)})
        return self.get_version(kind, version)

    def activate(self, kind: str, version: str, *, actor: str) -> LayerVersion:
        """Make a stored version the active one for its kind (atomic); also used to roll back."""
        lv = self.get_version(kind, version)
        if lv.validation.get("errors"):
            raise ConflictError("该版本校验未通过，不能启用", "This version failed validation",
                                code="layer.version_invalid")
        self.verify(lv)  # an edited file is refused here too, not only when it is indexed
        with self.connect() as con:
            _activate(con, kind, version, actor)
        return lv

    def rollback(self, kind: str, *, actor: str) -> LayerVersion:
        """Re-activate the version that was active before the current one."""
        current = self.active_versions().get(kind)
        with self.connect(write=False) as con:
            history = catalogue.activation_history(con, kind)
        earlier = [v for v in history if current is None or v != current.version]
        if not earlier:
            raise ConflictError("没有可回滚的早期版本", "No earlier version to roll back to",
                                code="layer.no_previous_version")
        return self.activate(kind, earlier[0], actor=actor)

    def audit_log(self, kind: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Audit entries, newest first (optionally for one kind)."""
        with self.connect(write=False) as con:
            rows = catalogue.audit_rows(con, kind, limit)
        return [{"id": r[0], "at": r[1], "actor": r[2], "action": r[3], "kind": r[4],
                 "version": r[5], "detail": json.loads(r[6]) if r[6] else None} for r in rows]


def declare_holds(schema: LayerKind, gdf: gpd.GeoDataFrame,
                  meta: SourceMeta) -> tuple[SourceMeta, list[str]]:
    """The metadata with the feature classes the version holds (``holds``), and errors.

    Undeclared class attributes of the kind (``LayerKind.classes``, e.g. river ``class``)
    default to the distinct values found in the data. A declaration may name a value the data
    lacks (the version then vouches that no such feature exists where it is complete), but
    must name every value the data holds, and only values of the attribute's domain.
    """
    def found(name: str) -> list[str]:
        return sorted({str(v) for v in gdf[name].dropna()}) if name in gdf.columns else []

    errors: list[str] = []
    holds: dict[str, list[str]] = {}
    for name, values in (meta.holds or {}).items():
        attr = schema.attribute(name)
        if attr is None or attr.domain is None or not isinstance(values, list):
            errors.append(f"holds：{name} 不是图层类型 {schema.name} 的分类属性(或取值不是列表)")
            continue
        declared = sorted({str(v) for v in values})
        unknown = [v for v in declared if v not in attr.domain]
        if unknown:
            errors.append(f"holds：{name} 的取值 {'、'.join(unknown)} 不在允许值 "
                          f"{'、'.join(map(str, attr.domain))} 之内")
        undeclared = [v for v in found(name) if v not in declared]
        if undeclared:
            errors.append(f"holds：数据含有未声明的 {name} 取值 {'、'.join(undeclared)}")
        holds[name] = declared
    for name in schema.classes:
        holds.setdefault(name, found(name))
    return (replace(meta, holds=holds) if holds else meta), errors


def _activate(con: sqlite3.Connection, kind: str, version: str, actor: str | None) -> None:
    catalogue.set_active(con, kind, version, now_iso(), actor)
    audit(con, actor, "activate", kind, version, None)


def audit(con: sqlite3.Connection, actor: str | None, action: str, kind: str | None,
          version: str | None, detail: dict[str, Any] | None) -> None:
    """Append one entry to the audit log (inside the caller's transaction)."""
    catalogue.insert_audit(con, now_iso(), actor, action, kind, version,
                           json.dumps(detail, ensure_ascii=False) if detail else None)


def _latest_digest(con: sqlite3.Connection, kind: str, version: str) -> str | None:
    return catalogue.latest_digest(con, kind, version)


def _record_file(con: sqlite3.Connection, kind: str, version: str, file: LayerFile,
                 how: str) -> None:
    catalogue.insert_file(con, kind, version, file.sha256, file.size, now_iso(), how)


def _tampered(lv: LayerVersion, why_zh: str, why_en: str, **details: Any) -> LayerTamperedError:
    return LayerTamperedError(
        f"图层 {lv.kind} 版本 {lv.version} 的数据文件{why_zh}，该版本已拒用、不参与筛查；"
        "请从备份恢复该文件，或重新导入该图层",
        f"Layer {lv.kind} version {lv.version} is refused and not screened: {why_en}; restore "
        "the file from a backup or import the layer again",
        code="layer.tampered", details={"kind": lv.kind, "version": lv.version, **details})


def _vouch(lv: LayerVersion) -> str | None:
    """How a file without a recorded digest was found to hold its version's content
    (``content``: its content hash; ``feature_count``: a vector file's normalised content does
    not always hash the same once written to a GeoPackage, so its feature count must do), or
    None when it does not."""
    try:
        if is_raster(lv.kind):
            return "content" if content_digest(lv.path)[0] == lv.sha256 else None
        gdf = pyogrio.read_dataframe(lv.path)
    except Exception:  # unreadable (GDAL error types vary by driver), or too large
        return None
    if len(gdf) != lv.feature_count:
        return None
    return "content" if _frame_hash(gdf) == lv.sha256 else "feature_count"


def _frame_hash(gdf: gpd.GeoDataFrame) -> str:
    return content_hash(gdf) if len(gdf) else hashlib.sha256(b"empty").hexdigest()


def _row_to_version(row: tuple[Any, ...], home: Path) -> LayerVersion:
    kind, version, sha, count, bbox, meta, validation, path, by, at = row
    # paths are stored relative to the data directory, so a restored copy works anywhere
    return LayerVersion(kind, version, sha, count, json.loads(bbox),
                        SourceMeta(**json.loads(meta)), json.loads(validation), home / path, by, at)


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
    """A JSON-friendly Python value from a pandas/numpy cell (NaN/NaT → None, times → ISO)."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v
