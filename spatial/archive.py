"""Safe extraction of uploaded archives (zipped shapefiles, KMZ).

Refuses path traversal (zip-slip), absolute paths, symlinks, too many entries and too much
decompressed data (zip bombs) before writing anything; extracts into a caller-owned directory.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from spatial.errors import InputError, TooLargeError

MAX_ENTRIES = 200
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # a shapefile compresses ~3–10×; 200× is a bomb


def extract_zip(data_path: Path, dest: Path) -> list[Path]:
    """Check and extract a zip archive into ``dest``; returns the extracted file paths."""
    try:
        zf = zipfile.ZipFile(data_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError("压缩包损坏或不是zip格式", "The archive is not a readable zip file",
                         code="archive.corrupt") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise TooLargeError(f"压缩包内文件数超过 {MAX_ENTRIES} 个", "Too many entries in the archive",
                                code="archive.too_many_entries")
        total = 0
        for info in infos:
            _check_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError("压缩包包含符号链接，已拒绝", "The archive contains a symbolic link",
                                 code="archive.symlink")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES or (
                info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                and info.file_size > 1024 * 1024
            ):
                raise TooLargeError("压缩包解压后过大(疑似压缩炸弹)",
                                    "The archive decompresses to too much data (zip bomb?)",
                                    code="archive.too_large")
        out = []
        for info in infos:
            target = dest / PurePosixPath(info.filename).name
            written = 0
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        if written > info.file_size or written > MAX_UNPACKED_BYTES:
                            raise TooLargeError("压缩包条目大小与声明不符",
                                                "An archive entry is larger than declared",
                                                code="archive.too_large")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, RuntimeError, zlib.error, NotImplementedError,
                    ValueError) as exc:
                raise InputError("压缩包损坏或已加密", "The archive is corrupt or encrypted",
                                 code="archive.corrupt") from exc
            out.append(target)
        return out


def _check_name(name: str) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise InputError(f"压缩包包含非法路径：{name}", f"Unsafe path in archive: {name}",
                         code="archive.path_traversal")
