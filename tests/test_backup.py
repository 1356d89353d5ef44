"""Online backup and restore: a restored data directory reproduces stored screenings."""

from __future__ import annotations

import pytest

from app.cli import main
from app.settings import Settings
from app.state import open_runtime
from spatial.service import ScreeningRequest

REQ = ScreeningRequest(site={"type": "Point", "coordinates": [106.451142, 29.618444]},
                       radius_m=50, project={"industry": "C2614", "nature": "new"})


@pytest.mark.slow
def test_backup_restore_round_trip_via_cli(fresh_home, tmp_path, monkeypatch, capsys):
    home = fresh_home
    runtime = open_runtime(Settings(home=home))
    doc = runtime.service.screen(REQ)
    monkeypatch.setenv("REDLINE_HOME", str(home))
    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert "1 条筛查记录" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "bk")]) == 1  # never overwrite a backup
    capsys.readouterr()

    restored = tmp_path / "elsewhere"
    monkeypatch.setenv("REDLINE_HOME", str(restored))
    assert main(["restore", str(tmp_path / "bk")]) == 0
    again = open_runtime(Settings(home=restored, seed_demo=False))
    assert again.service.get(doc["id"])["verdict"] == "forbid"
    rerun = again.service.rerun(doc["id"])
    assert rerun["same_verdict"] and rerun["changes"] == []
    assert again.store.active_versions().keys() == runtime.store.active_versions().keys()
    assert main(["restore", str(tmp_path / "bk")]) == 1  # a non-empty home needs --force
    assert main(["restore", str(tmp_path / "bk"), "--force"]) == 0


def test_corrupt_backup_is_refused(fresh_home, tmp_path, monkeypatch):
    from spatial.backup import backup, restore
    from spatial.errors import InputError

    runtime = open_runtime(Settings(home=tmp_path / "home"))
    backup(runtime.store, tmp_path / "bk")
    with open(tmp_path / "bk" / "catalog.sqlite", "r+b") as fh:
        fh.seek(200)
        fh.write(b"garbage")
    with pytest.raises(InputError):
        restore(tmp_path / "bk", tmp_path / "new")


def test_backup_with_a_damaged_layer_file_is_refused_and_home_untouched(fresh_home, tmp_path):
    from spatial.backup import backup, restore
    from spatial.errors import InputError

    runtime = open_runtime(Settings(home=tmp_path / "home"))
    backup(runtime.store, tmp_path / "bk")
    victim = next((tmp_path / "bk" / "layers").rglob("*.gpkg"))
    victim.write_bytes(victim.read_bytes()[:100])
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    with pytest.raises(InputError) as exc:
        restore(tmp_path / "bk", existing, force=True)
    assert exc.value.code == "backup.corrupt"
    assert (existing / "keep.txt").exists()  # nothing was touched


def test_catalogue_paths_escaping_the_directory_are_refused(fresh_home, tmp_path):
    import json
    import sqlite3

    from spatial.backup import backup, restore
    from spatial.errors import InputError

    runtime = open_runtime(Settings(home=tmp_path / "home"))
    backup(runtime.store, tmp_path / "bk")
    with sqlite3.connect(tmp_path / "bk" / "catalog.sqlite") as con:
        con.execute("UPDATE layer_versions SET path = '../escape/secret.txt' WHERE kind = 'river'")
    manifest = json.loads((tmp_path / "bk" / "redline-backup.json").read_text())
    from spatial.backup import _sha256
    manifest["files"]["catalog.sqlite"] = _sha256(tmp_path / "bk" / "catalog.sqlite")
    (tmp_path / "bk" / "redline-backup.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as exc:
        restore(tmp_path / "bk", tmp_path / "new")
    assert exc.value.code == "backup.unsafe_path"
