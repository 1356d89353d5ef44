"""FastAPI dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.state import Engine


async def get_engine(request: Request) -> Engine:
    """The process-wide engine created by ``create_app`` (async: FastAPI would otherwise run
    this one-line lookup on a worker thread for every request)."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
