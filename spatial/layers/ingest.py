"""Importing a layer file as a new version: the one place that decides raster or vector.

The upload route, the CLI and the demo seeding all call ``import_layer``: a raster kind takes a
GeoTIFF (spatial.layers.raster), any other kind a vector file read as an upload is read
(spatial.layers.load: its own GDAL driver, encoding, table, CRS and field map). A declared
``holds`` is checked against the kind before anything is read or stored (a typo must not be
recorded as a refused version whose content then cannot be imported again with the right
declaration); that the data holds no undeclared value is checked by the validation.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import yaml

from spatial.errors import DataError, InputError
from spatial.layers.kinds import KINDS, is_raster
from spatial.layers.load import LayerSource, read_layer
from spatial.layers.raster import import_raster
from spatial.layers.store import LayerStore, LayerVersion, SourceMeta, declare_holds

RASTER_SUFFIXES = (".tif", ".tiff")


def import_layer(store: LayerStore, kind: str, path: Path, meta: SourceMeta, *,
                 loaded_by: str, activate: bool = False, source: LayerSource | None = None
                 ) -> tuple[LayerVersion, list[str]]:
    """Validate the file at ``path`` and store it as a new version of ``kind`` (activated if
    asked and valid); also the notes from reading it. ``source`` says how to read a vector
    file (default: as it is)."""
    check_declared_holds(kind, meta)
    if is_raster(kind):
        if path.suffix.lower() not in RASTER_SUFFIXES:
            raise InputError("栅格图层请上传 GeoTIFF(.tif)", "Raster layers must be GeoTIFF",
                             code="upload.unsupported_format")
        return import_raster(store, kind, path, meta, loaded_by=loaded_by,
                             activate=activate), []
    gdf, notes = read_layer(source if source is not None else LayerSource(path))
    try:
        return store.import_frame(kind, gdf, meta, loaded_by=loaded_by, activate=activate), notes
    except DataError as exc:
        exc.details["notes"] = notes
        raise


def check_declared_holds(kind: str, meta: SourceMeta) -> None:
    """Refuse (4xx ``layer.holds_invalid``) a ``holds`` declaration naming an attribute that is
    not a class attribute of the kind, or a value outside its domain, before anything is read."""
    if not meta.holds:
        return
    if is_raster(kind):
        raise InputError("栅格图层没有要素分类，不能声明 holds", "Raster layers take no holds",
                         code="layer.holds_invalid")
    schema = KINDS.get(kind)  # an unknown kind is refused by the import itself
    errors = declare_holds(schema, gpd.GeoDataFrame(), meta)[1] if schema is not None else []
    if errors:
        raise InputError("；".join(errors), "holds names an attribute that is not a class "
                         "attribute of the kind, or a value outside its domain",
                         code="layer.holds_invalid")


def seed_demo(store: LayerStore, manifest: Path, *, actor: str = "seed") -> list[LayerVersion]:
    """Load and activate every layer listed in the shipped ``data/layers.yaml`` (and the
    rasters ``scripts/build_demo_rasters.py`` lists in ``rasters.yaml`` beside it)."""
    entries = yaml.safe_load(manifest.read_text(encoding="utf-8"))["layers"]
    rasters = manifest.parent / "rasters.yaml"
    if rasters.exists():
        entries += yaml.safe_load(rasters.read_text(encoding="utf-8"))["layers"]
    out = []
    for entry in entries:
        meta = SourceMeta(**{k: entry[k] for k in SourceMeta.__dataclass_fields__ if k in entry})
        out.append(import_layer(store, entry["kind"], manifest.parent / entry["file"], meta,
                                loaded_by=actor, activate=True)[0])
    return out
