"""Multipart uploads shared by the screening and batch routes: the file, the text fields and
the project given as JSON text; the file is streamed to disk under a size limit."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app.schemas import ProjectIn
from spatial.errors import InputError, TooLargeError


def request_invalid(exc: ValidationError) -> InputError:
    """A pydantic validation error as a 422 with the first few field messages."""
    where = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                      for e in exc.errors()[:5])
    return InputError(f"请求格式不正确：{where}", f"Invalid request: {where}",
                      code="request.invalid")


async def read_form(request: Request) -> tuple[UploadFile, dict[str, str], dict[str, Any]]:
    """The ``file`` part, the other (text) fields and the validated ``project``."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("缺少上传文件字段 file", "Multipart body needs a `file` field",
                         code="upload.missing")
    if any(not isinstance(v, str) for k, v in form.items() if k != "file"):
        raise InputError("除 file 外的表单字段必须是文本", "Form fields other than `file` must be text",
                         code="request.invalid")
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "file"}
    try:
        raw = json.loads(fields.pop("project", "{}") or "{}")
    except (ValueError, RecursionError) as exc:  # also an integer over 4 300 digits, deep nesting
        raise InputError("project 字段不是合法的JSON(或数字位数、嵌套层数超出限制)",
                         "`project` is not valid JSON (or exceeds the digit or nesting limits)",
                         code="request.json_invalid") from exc
    try:
        project = ProjectIn.model_validate(raw)
    except ValidationError as exc:
        raise request_invalid(exc) from exc
    return upload, fields, project.model_dump(exclude_none=True)


def upload_dir(request: Request) -> Path:
    """The service's uploads directory (``Settings.upload_dir``, apart from the data)."""
    path: Path = request.app.state.runtime.uploads()
    return path


def suffix_of(upload: UploadFile, default: str) -> str:
    """The lower-case extension of the uploaded file's own name (never a path)."""
    return Path(PurePath(upload.filename or default).name).suffix.lower()


async def save_upload(upload: UploadFile, path: Path, limit: int) -> None:
    """Stream the upload to ``path``; 413 as soon as it passes ``limit`` bytes."""
    size = 0
    with open(path, "wb") as fh:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise TooLargeError(f"上传文件超过 {limit // 1024 // 1024} MB 上限",
                                    "Upload exceeds the size limit", code="upload.too_large")
            fh.write(chunk)
