"""Consistent online backup and restore of a data directory.

The catalogue is copied with SQLite's online backup API (a consistent snapshot even while the
service writes); layer files are immutable and written before their catalogue row, so every
version the snapshot names already has its complete file. Every file's sha256 goes into the
manifest; a restore verifies them all, and every catalogue path, before touching the data
directory, and swaps the directory in with renames so a crash never leaves it half-restored.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path, PurePosixPath
from typing import Any

from spatial import catalogue
from spatial.errors import ConflictError, InputError
from spatial.layers.store import LayerStore, now_iso

MANIFEST = "redline-backup.json"


def backup(store: LayerStore, dest: Path) -> dict[str, Any]:
    """Write a backup of ``store`` into the empty or new directory ``dest``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ConflictError(f"备份目录不为空：{dest}", f"Backup directory is not empty: {dest}",
                            code="backup.dest_not_empty")
    dest.mkdir(parents=True, exist_ok=True)
    src = catalogue.connect(store.db_path)
    dst = catalogue.connect(dest / "catalog.sqlite")
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    with catalogue.transaction(dest / "catalog.sqlite", write=False) as con:
        paths = catalogue.layer_paths(con)
        screenings = catalogue.screening_count(con)
    files = {"catalog.sqlite": _sha256(dest / "catalog.sqlite")}
    for rel in paths:
        _check_relative(rel)
        source = store.home / rel
        if source.exists():  # refused versions have no file
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            files[rel] = _sha256(target)
    manifest = {"created_at": now_iso(), "layer_files": len(files) - 1,
                "screenings": screenings, "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                 encoding="utf-8")
    return manifest


def restore(src: Path, home: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore a backup into ``home`` (refuses a non-empty ``home`` unless ``force``)."""
    src, home = Path(src), Path(home)
    manifest = _verified_manifest(src)
    if home.exists() and any(home.iterdir()) and not force:
        raise ConflictError(f"数据目录不为空：{home}；确认覆盖请加 --force",
                            f"Data directory is not empty: {home}", code="backup.home_not_empty")
    staging = home.with_name(home.name + ".restoring")
    old = home.with_name(home.name + ".replaced")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for rel in manifest["files"]:
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)
    # swap with renames: at every instant either the old or the new directory is at `home`
    shutil.rmtree(old, ignore_errors=True)
    if home.exists():
        home.rename(old)
    staging.rename(home)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def _verified_manifest(src: Path) -> dict[str, Any]:
    manifest_path = src / MANIFEST
    if not manifest_path.exists():
        raise InputError(f"不是备份目录(缺少 {MANIFEST})：{src}", f"Not a backup directory: {src}",
                         code="backup.invalid")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files: dict[str, str] = manifest.get("files") or {}
    if "catalog.sqlite" not in files:
        raise InputError("备份清单缺少目录库", "The manifest lists no catalogue", code="backup.invalid")
    for rel, digest in files.items():
        _check_relative(rel)
        path = src / rel
        if path.is_symlink() or not path.is_file() or _sha256(path) != digest:
            raise InputError(f"备份文件缺失或校验和不符：{rel}", f"Backup file missing or corrupt: {rel}",
                             code="backup.corrupt")
    with sqlite3.connect(f"file:{src / 'catalog.sqlite'}?mode=ro", uri=True) as con:
        paths = catalogue.layer_paths(con)
        errors = set(catalogue.layer_paths(con, refused=True))
    for rel in paths:
        _check_relative(rel)
        if rel not in files and rel not in errors:
            raise InputError(f"目录库引用的图层文件不在备份中：{rel}", f"Layer file not in backup: {rel}",
                             code="backup.corrupt")
    return manifest


def _check_relative(rel: str) -> None:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise InputError(f"备份中的路径不安全：{rel}", f"Unsafe path in backup: {rel}",
                         code="backup.unsafe_path")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
