"""Consistent online backup and restore of a data directory.

The catalogue is copied with SQLite's online backup API (a consistent snapshot even while the
service writes); layer files are immutable and written before their catalogue row, so every
version the snapshot names already has its complete file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from spatial.errors import ConflictError, InputError
from spatial.store import LayerStore, now_iso

MANIFEST = "redline-backup.json"


def backup(store: LayerStore, dest: Path) -> dict[str, Any]:
    """Write a backup of ``store`` into the empty or new directory ``dest``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ConflictError(f"备份目录不为空：{dest}", f"Backup directory is not empty: {dest}",
                            code="backup.dest_not_empty")
    dest.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(store.db_path)
    dst = sqlite3.connect(dest / "catalog.sqlite")
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    with sqlite3.connect(dest / "catalog.sqlite") as con:
        paths = [r[0] for r in con.execute("SELECT path FROM layer_versions")]
        screenings = con.execute("SELECT COUNT(*) FROM screenings").fetchone()[0]
    copied = 0
    for rel in paths:
        source = store.home / rel
        if source.exists():  # refused versions have no file
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            copied += 1
    manifest = {"created_at": now_iso(), "layer_files": copied, "screenings": screenings,
                "catalog_sha256": _sha256(dest / "catalog.sqlite")}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore(src: Path, home: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore a backup into ``home`` (refuses a non-empty ``home`` unless ``force``)."""
    src, home = Path(src), Path(home)
    manifest_path = src / MANIFEST
    if not manifest_path.exists():
        raise InputError(f"不是备份目录(缺少 {MANIFEST})：{src}", f"Not a backup directory: {src}",
                         code="backup.invalid")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if _sha256(src / "catalog.sqlite") != manifest["catalog_sha256"]:
        raise InputError("备份的目录库校验和不符，备份可能已损坏", "Backup catalogue checksum mismatch",
                         code="backup.corrupt")
    if home.exists() and any(home.iterdir()) and not force:
        raise ConflictError(f"数据目录不为空：{home}；确认覆盖请加 --force",
                            f"Data directory is not empty: {home}", code="backup.home_not_empty")
    staging = home.with_name(home.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(src, staging)
    (staging / MANIFEST).unlink()
    if home.exists():
        shutil.rmtree(home)
    staging.rename(home)  # the new data directory appears whole or not at all
    return manifest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
