"""Online backup and restore: a restored data directory reproduces stored screenings."""

from __future__ import annotations

import pytest

from app.cli import main
from app.settings import Settings
from app.state import open_engine
from spatial.service import ScreeningRequest

REQ = ScreeningRequest(site={"type": "Point", "coordinates": [106.451142, 29.618444]},
                       radius_m=50, project={"industry": "C2614", "nature": "new"})


def test_backup_restore_round_trip_via_cli(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    engine = open_engine(Settings(home=home))
    doc = engine.service.screen(REQ)
    monkeypatch.setenv("REDLINE_HOME", str(home))
    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert "1 条筛查记录" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "bk")]) == 1  # never overwrite a backup
    capsys.readouterr()

    restored = tmp_path / "elsewhere"
    monkeypatch.setenv("REDLINE_HOME", str(restored))
    assert main(["restore", str(tmp_path / "bk")]) == 0
    again = open_engine(Settings(home=restored, seed_demo=False))
    assert again.service.get(doc["id"])["verdict"] == "forbid"
    rerun = again.service.rerun(doc["id"])
    assert rerun["same_verdict"] and rerun["changes"] == []
    assert again.store.active_versions().keys() == engine.store.active_versions().keys()
    assert main(["restore", str(tmp_path / "bk")]) == 1  # a non-empty home needs --force
    assert main(["restore", str(tmp_path / "bk"), "--force"]) == 0


def test_corrupt_backup_is_refused(tmp_path, monkeypatch):
    from spatial.backup import backup, restore
    from spatial.errors import InputError

    engine = open_engine(Settings(home=tmp_path / "home"))
    backup(engine.store, tmp_path / "bk")
    with open(tmp_path / "bk" / "catalog.sqlite", "r+b") as fh:
        fh.seek(200)
        fh.write(b"garbage")
    with pytest.raises(InputError):
        restore(tmp_path / "bk", tmp_path / "new")
