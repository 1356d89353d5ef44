"""Shared GDAL file handling for sites and layers: pick the dataset inside an archive, detect
the encoding of a shapefile's ``.dbf``, list and read layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd

from spatial.errors import InputError


def main_member(members: list[Path], suffix: str) -> Path:
    """The dataset inside an unpacked archive: the KML of a KMZ, else the one shapefile,
    else a single GeoPackage or GeoJSON."""
    by_ext: dict[str, list[Path]] = {}
    for m in members:
        by_ext.setdefault(m.suffix.lower(), []).append(m)
    if suffix == ".kmz" or (".kml" in by_ext and ".shp" not in by_ext):
        if ".kml" not in by_ext:
            raise InputError("KMZ 中没有 .kml 文件", "No .kml inside the KMZ", code="archive.no_kml")
        return by_ext[".kml"][0]
    shps = by_ext.get(".shp", [])
    if len(shps) == 1:
        shp = shps[0]
        for need in (".shx", ".dbf"):
            if not shp.with_suffix(need).exists() and not shp.with_suffix(need.upper()).exists():
                raise InputError(f"shapefile 缺少 {need} 文件", f"Shapefile is missing its {need}",
                                 code="archive.shapefile_incomplete")
        return shp
    for ext in (".gpkg", ".geojson", ".json"):
        if len(by_ext.get(ext, [])) == 1:
            return by_ext[ext][0]
    raise InputError("zip 中应恰好包含一个 .shp 文件", "The zip must hold exactly one .shp",
                     code="archive.no_shapefile")


def shapefile_encoding(shp: Path, stated: str | None = None) -> tuple[str | None, list[str]]:
    """The encoding to read a shapefile's attributes with, and a note for the user.

    A stated encoding wins; a ``.cpg`` is honoured by GDAL itself; otherwise the ``.dbf`` is
    read as UTF-8 when its bytes decode as UTF-8, else as GBK (the usual Chinese default).
    """
    if stated:
        return stated, [f"属性按指定编码 {stated} 读取"]
    if shp.with_suffix(".cpg").exists():
        return None, []
    data = shp.with_suffix(".dbf").read_bytes()
    try:
        data[32:].decode("utf-8")
        enc = "UTF-8"
    except UnicodeDecodeError:
        try:
            data[32:].decode("gbk")
        except UnicodeDecodeError as exc:
            raise InputError(".dbf 属性编码既不是 UTF-8 也不是 GBK，请附 .cpg 文件或指定编码",
                             "The .dbf is neither UTF-8 nor GBK; add a .cpg or state the encoding",
                             code="file.encoding") from exc
        enc = "GBK"
    return enc, [f"shapefile 无 .cpg 编码文件，属性按 {enc} 读取"]


def spatial_layers(path: Path) -> list[str]:
    """Names of the layers with geometry in a GDAL dataset."""
    import pyogrio

    return [str(name) for name, gtype in pyogrio.list_layers(path) if gtype is not None]


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None
                ) -> gpd.GeoDataFrame:
    """Read one layer with GDAL; driver errors become InputError without internal paths."""
    import pyogrio

    kwargs: dict[str, Any] = {"encoding": encoding} if encoding else {}
    try:
        return pyogrio.read_dataframe(path, layer=layer, **kwargs)
    except Exception as exc:  # GDAL raises driver-specific errors
        if encoding and ("decode" in str(exc).lower() or "encoding" in str(exc).lower()):
            raise InputError(f"按编码 {encoding} 无法解码属性，请检查编码", f"Cannot decode as {encoding}",
                             code="file.encoding") from exc
        raise InputError("无法读取文件(格式不支持或文件损坏)",
                         "Cannot read the file (unsupported or corrupt)",
                         code="file.unreadable") from exc
