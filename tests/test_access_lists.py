"""三线一单 access lists (issue 18 §1): import (GBK CSV, xlsx), validation, activation and
rollback through the API and the CLI; a site's units, checked requirements and checklist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from app.main import create_app
from app.settings import Settings
from app.state import open_runtime
from spatial.tokens import TokenStore

HEADER = ["环境管控单元编码", "单元名称", "区县", "管控单元类别", "管控维度", "管控要求",
          "判定", "适用行业", "建设性质", "项目类型", "项目标志"]
GENERAL = ("ZH50010630001", "沙坪坝区一般管控单元（示意）")
#: a point in the general control unit, far from every other demo constraint (housing_pass)
POINT = {"type": "Point", "coordinates": [106.332299, 29.557251]}


def row(text: str, dim: str = "空间布局约束", *cond: str, unit=GENERAL) -> list[str]:
    return [unit[0], unit[1], "沙坪坝区", "一般管控单元", dim, text, *cond,
            *[""] * (5 - len(cond))]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "gbk") -> Path:
    text = "\n".join(",".join(r) for r in [HEADER, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    sheet = wb.active
    for r in [HEADER, *rows]:
        sheet.append(r)
    wb.save(path)
    return path


@pytest.fixture
def home(fresh_home) -> Path:
    """A private, just-seeded demo home (activations here touch no other test)."""
    return fresh_home


@pytest.fixture
def api(home):
    app = create_app(Settings(home=home, anonymous_rate_per_minute=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        token, _ = TokenStore(open_runtime(Settings(home=home)).store).create(
            "清单管理员", "gis_admin", actor="tests")
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def upload(api: TestClient, path: Path, title: str = "测试清单", **fields: str):
    with open(path, "rb") as fh:
        return api.post("/api/v1/lists/versions", data={"title": title, **fields},
                        files={"file": (path.name, fh)})


def screen(api: TestClient, **project: str) -> dict:
    r = api.post("/api/v1/screenings", json={"site": POINT, "radius_m": 50, "project": project})
    assert r.status_code == 201, r.text
    return r.json()


def test_demo_list_is_active_and_recorded_in_the_verdict(client):
    """The shipped illustrative list is seeded: a site in the general unit lists the unit, its
    unchecked rows in the checklist, and the list's version and sha256 in `layers`."""
    doc = client.post("/api/v1/screenings", json={"site": POINT, "radius_m": 50,
                                                  "project": {"industry": "K7010",
                                                              "nature": "new"}}).json()
    assert [u["code"] for u in doc["control_units"]] == [GENERAL[0]]
    assert doc["control_units"][0]["share"] == 1.0
    assert {c["dimension"] for c in doc["checklist"]} == {"污染物排放管控", "资源开发效率要求"}
    lay = next(x for x in doc["layers"] if x["kind"] == "access_list")
    assert lay["demo"] is True and len(lay["sha256"]) == 64
    assert doc["verdict"] == "pass"  # the demo's unchecked rows hold no prohibition


def test_gbk_csv_imports_activates_and_a_checked_row_fires(api, home):
    """A GBK CSV with one checked prohibition (判定 禁止, 适用行业 real_estate) imports, reports
    the units it does not list, activates, and turns housing in that unit into forbid; the
    finding cites the unit code, the dimension and the row text. Rolling back restores it."""
    path = write_csv(home / "list.csv", [
        row("禁止新建房地产开发项目", "空间布局约束", "禁止", "real_estate", "新建"),
        row("新建项目须落实总量指标来源", "污染物排放管控"),
    ])
    r = upload(api, path)
    assert r.status_code == 201, r.text
    body = r.json()
    version = body["version"]["version"]
    warnings = body["version"]["validation"]["warnings"]
    assert any("ZH50010610001" in w and "没有准入清单条目" in w for w in warnings)
    assert screen(api, industry="K7010", nature="new")["verdict"] == "pass"  # not active yet
    assert api.post("/api/v1/lists/activate", json={"version": version}).status_code == 200
    doc = screen(api, industry="K7010", nature="new")
    f = next(f for f in doc["findings"] if f["family"] == "access_list")
    assert doc["verdict"] == "forbid" and f["verdict"] == "forbid"
    assert GENERAL[0] in f["basis"]["clause"] and "空间布局约束" in f["basis"]["clause"]
    assert f["basis"]["quote"] == "禁止新建房地产开发项目"
    assert [c["text"] for c in doc["checklist"]] == ["新建项目须落实总量指标来源"]
    assert screen(api, industry="I6513", nature="new")["verdict"] == "pass"  # not real estate
    api.post("/api/v1/lists/rollback")
    assert screen(api, industry="K7010", nature="new")["verdict"] == "pass"
    actions = [e["action"] for e in api.get("/api/v1/audit", params={"kind": "access_list"})
               .json()["entries"]]
    assert actions.count("activate") >= 2 and "import" in actions


def test_xlsx_with_an_unchecked_prohibition_is_never_a_plain_pass(api, home):
    """An xlsx list whose unit has a prohibition without a condition: housing there is at least
    restrict (access-list-unchecked-prohibitions), the item is in the checklist, flagged."""
    path = write_xlsx(home / "list.xlsx", [row("禁止建设高尔夫球场", "空间布局约束")])
    version = upload(api, path).json()["version"]["version"]
    api.post("/api/v1/lists/activate", json={"version": version})
    doc = screen(api, industry="K7010", nature="new")
    assert doc["verdict"] == "restrict"
    f = next(f for f in doc["findings"] if f["rule_id"] == "access-list-unchecked-prohibitions")
    assert any("禁止建设高尔夫球场" in r for r in f["requirements_zh"])
    assert doc["checklist"] == [{"unit_code": GENERAL[0], "unit_name": GENERAL[1],
                                 "dimension": "空间布局约束", "text": "禁止建设高尔夫球场",
                                 "prohibitive": True, "key": doc["checklist"][0]["key"]}]


def test_validation_refuses_bad_lists_with_a_report(api, home):
    """Unknown unit codes, an unknown dimension, an empty requirement and a bad condition are
    errors (422, version recorded but not activatable); duplicates are warnings."""
    bad = write_csv(home / "bad.csv", [
        row("要求一", unit=("ZH99999999999", "不存在的单元")),
        row("要求二", "生态保护"),
        row(""),
        row("要求三", "环境风险防控", "禁止", "C9999"),
    ])
    r = upload(api, bad)
    assert r.status_code == 422 and r.json()["code"] == "layer.validation_failed"
    errors = r.json()["details"]["report"]["errors"]
    assert any("ZH99999999999" in e for e in errors)
    assert any("生态保护" in e for e in errors)
    assert any("管控要求为空" in e for e in errors)
    assert any("C9999" in e for e in errors)
    dup = write_csv(home / "dup.csv", [row("同一要求"), row("同一要求")], encoding="utf-8")
    r = upload(api, dup)
    assert r.status_code == 201
    assert any("重复" in w for w in r.json()["version"]["validation"]["warnings"])
    report = api.get(f"/api/v1/lists/versions/{r.json()['version']['version']}/report")
    assert report.status_code == 200 and "重复" in report.text


def test_list_changes_need_a_gis_admin_and_bad_files_are_4xx(api, home):
    """Anonymous uploads are 401; a file that is not a table, or lacks columns, is a 4xx with
    a stable code."""
    path = write_csv(home / "ok.csv", [row("要求")])
    with open(path, "rb") as fh:
        anon = TestClient(api.app).post("/api/v1/lists/versions", data={"title": "t"},
                                        files={"file": ("ok.csv", fh)})
    assert anon.status_code == 401
    fake = home / "fake.xlsx"
    fake.write_bytes(b"not a zip at all")
    assert upload(api, fake).json()["code"] == "upload.format_mismatch"
    short = home / "short.csv"
    short.write_text("单元编码,管控要求\nZH1,x\n", encoding="utf-8")
    r = upload(api, short)
    assert r.status_code == 422 and r.json()["code"] == "list.columns_missing"
    assert upload(api, home / "ok.csv", title="").json()["code"] == "layer.title_required"


@pytest.mark.slow
def test_cli_lists_import_activate_history_rollback(home, tmp_path):
    """`redline lists import|activate|history|rollback` on a GBK CSV."""
    path = write_csv(tmp_path / "cli.csv", [row("禁止新建房地产开发项目", "空间布局约束",
                                                 "禁止", "real_estate", "新建")])
    env = {**os.environ, "REDLINE_HOME": str(home)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    out = cli("lists", "import", str(path), "--title", "命令行清单", "--activate")
    assert out.returncode == 0, out.stderr
    version = json.loads(out.stdout)["version"]
    hist = cli("lists", "history")
    assert f"* {version}" in hist.stdout
    assert cli("lists", "rollback").returncode == 0
    assert f"* {version}" not in cli("lists", "history").stdout
    assert cli("lists", "activate", version).returncode == 0
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps(POINT))
    table = cli("screen", str(site), "--industry", "K7010", "--nature", "new",
                "--format", "table")
    assert "禁止新建房地产开发项目" in table.stdout and GENERAL[0] in table.stdout
