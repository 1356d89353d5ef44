"""Shared GDAL file handling for sites, batches and layers: pick the dataset inside an archive,
detect the encoding of a shapefile's ``.dbf``, list and read layers, safely.

Uploaded files are untrusted. GDAL, asked to open a file, tries every driver it has, and some
drivers read *other* files or URLs named inside the file (a VRT document naming
``CSV:/etc/passwd`` or ``/vsicurl/http://…``, a GeoPackage whose SQL reaches elsewhere). So a
file is opened only

* after its first bytes are checked to be the format its extension declares (``check_magic``),
* with exactly the GDAL driver that format allows (``DRIVERS``; fiona passes the list to
  ``GDALOpenEx`` as its allowed drivers: a VRT named ``site.kml`` is refused by the KML
  driver and never reaches the VRT driver), and
* with GDAL's network access turned off (``OFFLINE``).

pyogrio, used elsewhere for the store's own files, cannot restrict the drivers of an open, so
uploads are read with fiona.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd

from spatial.archive import extract_zip
from spatial.errors import InputError

#: the one GDAL driver that may open each declared format (by file extension)
DRIVERS: dict[str, str] = {
    ".kml": "KML",
    ".gpkg": "GPKG",
    ".dxf": "DXF",
    ".shp": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
}

#: GDAL settings while an upload is open: no network, no guessing at sibling files
OFFLINE: dict[str, str] = {
    # /vsicurl/ treats every URL whose name does not end so as missing: it sends nothing
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".redline-offline",
    # any other HTTP request GDAL might make goes to a closed local port (discard, 9)
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "LIBKML_RESOLVE_STYLE": "NO",
    "OGR_SQLITE_LIST_VIRTUAL_OGR": "NO",
    "PROJ_NETWORK": "OFF",
}

_GPKG_IDS = {b"GPKG", b"GP10", b"GP11"}
_XML_PROLOGUE = re.compile(rb"^(\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.S)


def check_magic(path: Path) -> None:
    """Refuse a file whose content is not the format its extension declares.

    Every member of an unpacked archive that GDAL may read is checked too (a zipped
    shapefile's ``.shx`` and ``.dbf``).
    """
    ext = path.suffix.lower()
    if ext not in DRIVERS:
        raise InputError(f"不支持的文件类型：{ext or '(无扩展名)'}", f"Unsupported file type: {ext}",
                         code="upload.unsupported_format")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    ok = {".kml": _is_kml, ".gpkg": _is_gpkg, ".dxf": _is_dxf, ".shp": _is_shape,
          ".geojson": _is_json, ".json": _is_json}[ext](head)
    if ok and ext == ".shp":
        ok = _shapefile_siblings_ok(path)
    if not ok:
        raise InputError(f"文件内容与扩展名 {ext} 声明的格式不符，已拒绝",
                         f"The file's content is not the {ext} format its name declares",
                         code="upload.format_mismatch")


def _is_kml(head: bytes) -> bool:
    body = head.removeprefix(b"\xef\xbb\xbf")
    m = _XML_PROLOGUE.match(body)
    rest = body[m.end() if m else 0:]
    # the root element is <kml …> (or a prefixed kml:kml); a DOCTYPE (entities) is refused
    return re.match(rb"<(\w+:)?kml[\s>]", rest) is not None


def _is_gpkg(head: bytes) -> bool:
    return head.startswith(b"SQLite format 3\x00") and head[68:72] in _GPKG_IDS


def _is_dxf(head: bytes) -> bool:
    if head.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00"):
        return True
    lines = [ln.strip() for ln in head.removeprefix(b"\xef\xbb\xbf").splitlines()]
    while len(lines) >= 2 and lines[0] == b"999":  # comment pairs before the first section
        lines = lines[2:]
    return lines[:2] == [b"0", b"SECTION"]


def _is_shape(head: bytes) -> bool:
    return len(head) >= 100 and head[:4] == b"\x00\x00\x27\x0a"  # file code 9994, big-endian


def _is_json(head: bytes) -> bool:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")


def _shapefile_siblings_ok(shp: Path) -> bool:
    for ext in (".shx", ".dbf"):
        sibling = next((p for p in (shp.with_suffix(ext), shp.with_suffix(ext.upper()))
                        if p.exists()), None)
        if sibling is None:
            continue  # a missing member is reported by main_member with its own code
        with open(sibling, "rb") as fh:
            head = fh.read(32)
        if ext == ".shx" and not _is_shape(head + b"\x00" * 100):
            return False
        # dBase: a version byte (III, IV, with or without memo) and a plausible header
        if ext == ".dbf" and (len(head) < 32 or head[0] not in (0x02, 0x03, 0x04, 0x05, 0x30,
                                                                 0x31, 0x43, 0x83, 0x8B, 0x8E,
                                                                 0xCB, 0xF5)):
            return False
    return True


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
    """Names of the layers with geometry in an uploaded file (checked, allowed driver only)."""
    import fiona

    driver = _driver(path)
    if driver == "GPKG":
        return _gpkg_layers(path)
    names: list[str] = []
    # one layer per KML folder; the others have one. fiona opens layer 0 when given None
    # (its ``layer=0`` means the file's stem), so the layers are walked by index from None
    for index in [None, *range(1, 1000 if driver == "KML" else 1)]:
        try:
            with fiona.Env(**OFFLINE), fiona.open(path, driver=driver, layer=index,
                                                  allow_unsupported_drivers=True) as src:
                if src.schema.get("geometry") not in (None, "None"):
                    names.append(str(src.name))
        except ValueError:  # no layer at that index: the end of the list
            if index is None and driver == "KML":
                _check_xml(path)  # a KML that is not even XML is unreadable, not empty
            break
        except fiona.errors.FionaError as exc:
            raise InputError("无法读取文件(格式不支持或文件损坏)",
                             "Cannot read the file (unsupported or corrupt)",
                             code="file.unreadable") from exc
    return names


def _gpkg_layers(path: Path) -> list[str]:
    """The feature tables a GeoPackage lists (``gpkg_contents``), read with SQLite read-only."""
    import sqlite3

    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
        try:
            rows = con.execute("SELECT table_name FROM gpkg_contents "
                               "WHERE data_type = 'features' ORDER BY rowid").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InputError("无法读取 GeoPackage(文件损坏或不是 GeoPackage)",
                         "Cannot read the GeoPackage", code="file.unreadable") from exc
    return [str(r[0]) for r in rows]


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None
                ) -> gpd.GeoDataFrame:
    """Read one layer of an uploaded file with its format's driver only, offline; driver
    errors become InputError without internal paths."""
    import fiona

    driver = _driver(path)
    kwargs: dict[str, Any] = {"encoding": encoding} if encoding else {}
    if encoding and driver == "ESRI Shapefile":
        _check_dbf_decodes(path, encoding)  # GDAL would give None for what does not decode
    if layer is not None:
        kwargs["layer"] = layer
    try:
        with fiona.Env(**OFFLINE):
            return gpd.read_file(path, engine="fiona", driver=driver,
                                 allow_unsupported_drivers=True, **kwargs)
    except InputError:
        raise
    except Exception as exc:  # GDAL raises driver-specific errors
        if encoding and ("decode" in str(exc).lower() or "encoding" in str(exc).lower()):
            raise InputError(f"按编码 {encoding} 无法解码属性，请检查编码", f"Cannot decode as {encoding}",
                             code="file.encoding") from exc
        raise InputError("无法读取文件(格式不支持或文件损坏)",
                         "Cannot read the file (unsupported or corrupt)",
                         code="file.unreadable") from exc


@dataclass
class VectorFile:
    """A vector upload made ready to read: the file GDAL opens (an archive's main member), the
    text encoding (a shapefile's: stated, ``.cpg`` or detected) and how it was decided."""

    path: Path
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    @cached_property
    def layers(self) -> list[str]:
        """The file's spatial layers; ``file.unreadable`` when GDAL cannot list them (a refused
        format keeps its own code, ``upload.format_mismatch``)."""
        try:
            return spatial_layers(self.path)
        except InputError:
            raise
        except Exception as exc:  # GDAL raises driver-specific errors
            raise InputError("无法读取文件(格式不支持或文件损坏)",
                             "Cannot read the file (unsupported or corrupt)",
                             code="file.unreadable") from exc

    def read(self, layer: str | None = None) -> gpd.GeoDataFrame:
        """One layer's features (default: the first), with the file's own driver."""
        return read_vector(self.path, layer=layer, encoding=self.encoding)


def open_vector(path: Path, tmp: Path, *, encoding: str | None = None) -> VectorFile:
    """The one way uploads are opened for reading (sites, layers, parcel inventories): a
    ``.zip``/``.kmz`` is unpacked into ``tmp`` (checked: spatial.archive) and its main member
    chosen; a shapefile's encoding is settled (``encoding``, when stated, wins)."""
    suffix = path.suffix.lower()
    target = main_member(extract_zip(path, tmp), suffix) if suffix in (".zip", ".kmz") else path
    notes: list[str] = []
    if target.suffix.lower() == ".shp":
        encoding, notes = shapefile_encoding(target, encoding)
    return VectorFile(target, encoding, notes)


def _check_xml(path: Path) -> None:
    """Refuse a file that is not well-formed XML, or that declares a DOCTYPE (entities)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def no_doctype(*_: object) -> None:
        raise InputError("KML 不得包含 DOCTYPE 声明", "KML must not declare a DOCTYPE",
                         code="upload.format_mismatch")

    parser.StartDoctypeDeclHandler = no_doctype
    try:
        with open(path, "rb") as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as exc:
        raise InputError("无法读取文件(格式不支持或文件损坏)",
                         "Cannot read the file (unsupported or corrupt)",
                         code="file.unreadable") from exc


def _check_dbf_decodes(shp: Path, encoding: str) -> None:
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return
    try:
        dbf.read_bytes()[32:].decode(encoding)
    except LookupError as exc:
        raise InputError(f"未知编码：{encoding}", f"Unknown encoding: {encoding}",
                         code="file.encoding") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"按编码 {encoding} 无法解码属性，请检查编码", f"Cannot decode as {encoding}",
                         code="file.encoding") from exc


def _driver(path: Path) -> str:
    """The allowed driver of a checked file; refuses what fiona's GDAL lacks (an unknown
    driver name would silently lift the restriction)."""
    import fiona

    check_magic(path)
    driver = DRIVERS[path.suffix.lower()]
    with fiona.Env() as env:
        if driver not in env.drivers():
            raise InputError(f"本服务的 GDAL 不支持 {driver} 格式", f"GDAL here lacks the {driver} driver",
                             code="upload.unsupported_format")
    return driver
