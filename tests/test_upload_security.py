"""Uploads cannot make GDAL read other files or fetch URLs (issue: anonymous file read and
SSRF through a VRT document named ``site.kml``).

Every accepted extension of the three upload routes (site, batch, layer) gets documents of
the GDAL formats that can reference other files or URLs — OGR VRT, GML with xlink and a
remote schema, a KML network link — disguised under that extension. None may be opened by
another driver than the extension's own, none may leak ``/etc/passwd``, and the local HTTP
server they name must receive no request at all.
"""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from spatial.errors import InputError
from spatial.vectorfiles import check_magic, read_vector, spatial_layers

SITE_EXTS = [".kml", ".kmz", ".zip", ".gpkg", ".dxf"]
BATCH_EXTS = [".zip", ".gpkg", ".kml", ".kmz"]
LAYER_EXTS = [".geojson", ".json", ".zip", ".gpkg", ".kml", ".kmz"]


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Hits.hits.append(self.path)
        body = b"WKT,name\n\"POINT (106.5 29.5)\",x\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def trap() -> Iterator[str]:
    """A local HTTP server that records every request it receives."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _hostile(url: str) -> dict[str, bytes]:
    """Documents of formats that make GDAL open other sources."""
    vrt_file = (b"<OGRVRTDataSource><OGRVRTLayer name=\"passwd\">"
                b"<SrcDataSource>CSV:/etc/passwd</SrcDataSource>"
                b"<GeometryType>wkbPoint</GeometryType></OGRVRTLayer></OGRVRTDataSource>")
    vrt_url = (f"<OGRVRTDataSource><OGRVRTLayer name=\"x\"><SrcDataSource>/vsicurl/{url}/vrt.csv"
               f"</SrcDataSource><GeometryField encoding=\"WKT\" field=\"WKT\"/></OGRVRTLayer>"
               f"</OGRVRTDataSource>").encode()
    gml = (f"<?xml version=\"1.0\"?><ogr:FeatureCollection xmlns:ogr=\"http://ogr.maptools.org/\" "
           f"xmlns:gml=\"http://www.opengis.net/gml\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
           f"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
           f"xsi:schemaLocation=\"http://ogr.maptools.org/ {url}/schema.xsd\">"
           f"<gml:featureMember><ogr:x><ogr:geometryProperty xlink:href=\"{url}/geom.gml#g\"/>"
           f"</ogr:x></gml:featureMember></ogr:FeatureCollection>").encode()
    kml_link = (f"<?xml version=\"1.0\"?><kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>"
                f"<NetworkLink><Link><href>{url}/link.kml</href></Link></NetworkLink>"
                f"<Placemark><name>p</name><Point><coordinates>106.5,29.5</coordinates></Point>"
                f"</Placemark></Document></kml>").encode()
    kml_vrt = (b"<?xml version=\"1.0\"?><!-- <OGRVRTDataSource> --><kml>" + vrt_file[18:] +
               b"</kml>")
    return {"vrt_file": vrt_file, "vrt_url": vrt_url, "gml": gml, "kml_link": kml_link,
            "kml_with_vrt": kml_vrt}


def _disguise(doc: bytes, ext: str) -> tuple[str, bytes]:
    """The document under ``ext``: as the file itself, or inside the archive that ext names."""
    if ext == ".kmz":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("doc.kml", doc)
        return "site.kmz", buf.getvalue()
    if ext == ".zip":  # a "shapefile" whose members are the document
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for member in ("site.shp", "site.shx", "site.dbf"):
                zf.writestr(member, doc)
        return "site.zip", buf.getvalue()
    return f"site{ext}", doc


def _assert_refused(r, trap_hits_before: int, name: str, ext: str) -> None:
    """Refused with a 4xx problem, nothing leaked, nothing fetched. A genuine KML with a
    network link is read as KML (screened, or refused by layer validation), but the link is
    never followed."""
    assert "root:" not in r.text and "/bin/" not in r.text
    assert len(_Hits.hits) == trap_hits_before, _Hits.hits
    if name == "kml_link" and ext in (".kml", ".kmz"):  # read as the KML it is
        assert r.status_code < 500, r.text
        return
    assert 400 <= r.status_code < 500, (name, ext, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    if ext not in (".kmz", ".zip"):  # archives may fail on their members' own checks first
        assert r.json()["code"] in ("upload.format_mismatch", "file.unreadable"), r.json()
    if name.startswith("vrt") and ext in (".kml", ".gpkg", ".dxf"):
        assert r.json()["code"] == "upload.format_mismatch", (name, ext, r.json())


PROJECT_FIELD = {"project": '{"industry": "K7010", "nature": "new"}'}
ROUTES = {  # route → (accepted extensions, form fields, role)
    "/api/v1/screenings": (SITE_EXTS, PROJECT_FIELD, None),
    "/api/v1/screenings/batch": (BATCH_EXTS, PROJECT_FIELD, "reviewer"),
    "/api/v1/layers/eco_redline/versions": (LAYER_EXTS, {"accuracy_m": "5", "title": "恶意图层"},
                                        "admin"),
}


@pytest.mark.parametrize(("route", "ext"), [(route, ext) for route, (exts, _, _) in ROUTES.items()
                                            for ext in exts])
def test_uploads_open_only_with_their_own_driver(client, admin_headers, reviewer_headers, trap,
                                                 route, ext):
    _, fields, role = ROUTES[route]
    headers = {"admin": admin_headers, "reviewer": reviewer_headers}.get(role or "", {})
    for name, doc in _hostile(trap).items():
        fname, data = _disguise(doc, ext)
        before = len(_Hits.hits)
        r = client.post(route, files={"file": (fname, data)}, data=fields, headers=headers)
        _assert_refused(r, before, name, ext)


def test_a_real_kml_with_a_network_link_is_read_without_fetching_it(trap, tmp_path):
    path = tmp_path / "site.kml"
    path.write_bytes(_hostile(trap)["kml_link"])
    before = len(_Hits.hits)
    gdf = read_vector(path, layer=spatial_layers(path)[0])
    assert len(gdf) == 1
    assert len(_Hits.hits) == before


def test_the_magic_check_names_the_declared_format(tmp_path):
    cases = {
        "a.kml": b"<OGRVRTDataSource/>", "b.gpkg": b"SQLite format 3\x00" + b"\x00" * 100,
        "c.dxf": b"<OGRVRTDataSource/>", "d.geojson": b"<OGRVRTDataSource/>",
        "e.shp": b"<OGRVRTDataSource/>" + b" " * 100,
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError) as err:
            check_magic(path)
        assert err.value.code == "upload.format_mismatch", name


def test_the_sandbox_has_no_network_through_gdal(trap, tmp_path):
    """Even a /vsicurl/ path given to GDAL directly sends nothing with the upload settings."""
    import fiona

    from spatial.vectorfiles import OFFLINE

    before = len(_Hits.hits)
    with (fiona.Env(**OFFLINE), pytest.raises(Exception),  # noqa: B017 - any driver error
          fiona.open(f"/vsicurl/{trap}/remote.geojson", driver="GeoJSON",
                     allow_unsupported_drivers=True)):
        pass
    assert len(_Hits.hits) == before


def test_uploads_are_kept_apart_from_the_data_directory(tmp_path):
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError):
        Settings(home=tmp_path, upload_dir=tmp_path / "uploads")
    assert Settings(home=tmp_path / "home").upload_dir != tmp_path / "home"


def test_a_geopackage_upload_is_read_and_a_sqlite_db_is_not(tmp_path):
    import sqlite3

    import geopandas as gpd
    from shapely.geometry import Point

    good = tmp_path / "ok.gpkg"
    gpd.GeoDataFrame({"name": ["场址"]}, geometry=[Point(106.5, 29.5)], crs="EPSG:4326").to_file(
        good, driver="GPKG", layer="sites")
    assert spatial_layers(good) == ["sites"]
    plain = tmp_path / "plain.gpkg"  # a SQLite file that is no GeoPackage (e.g. a catalogue)
    con = sqlite3.connect(plain)
    con.execute("CREATE TABLE tokens (hash TEXT)")
    con.commit()
    con.close()
    with pytest.raises(InputError) as err:
        spatial_layers(plain)
    assert err.value.code == "upload.format_mismatch"


def test_a_vrt_named_kml_would_be_read_by_unrestricted_gdal(tmp_path):
    """The attack is real: without the allowlist, GDAL opens the document as VRT."""
    import pyogrio

    path = tmp_path / "site.kml"
    path.write_bytes(_hostile("http://127.0.0.1:9")["vrt_file"])
    leaked = pyogrio.read_dataframe(path, layer="passwd", read_geometry=False)
    assert "root:x:0:0" in leaked.to_csv()  # the header line of /etc/passwd, and the rest
    with pytest.raises(InputError):
        spatial_layers(path)


def test_existing_site_files_still_read(tmp_path: Path):
    """The allowlist keeps what users bring working (KML with folders)."""
    path = tmp_path / "two.kml"
    path.write_text("<?xml version=\"1.0\" encoding=\"UTF-8\"?><kml xmlns=\"http://www.opengis.net/"
                    "kml/2.2\"><Document><Folder><name>甲</name><Placemark><Point><coordinates>"
                    "106.45,29.61</coordinates></Point></Placemark></Folder><Folder><name>乙"
                    "</name><Placemark><Point><coordinates>106.46,29.61</coordinates></Point>"
                    "</Placemark></Folder></Document></kml>", encoding="utf-8")
    assert spatial_layers(path) == ["甲", "乙"]
