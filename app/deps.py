"""FastAPI dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.state import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The process-wide runtime created by ``create_app`` (async: FastAPI would otherwise run
    this one-line lookup on a worker thread for every request)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
