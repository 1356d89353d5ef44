"""Bearer-token authorisation: who is calling, and dependencies that require a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, Request

from app.deps import RuntimeDep
from spatial.errors import AuthError, ForbiddenError
from spatial.tokens import TokenInfo, TokenStore


async def caller(request: Request, runtime: RuntimeDep) -> TokenInfo | None:
    """The token record of the caller, None when anonymous; a bad token is a 401.

    Async, so an anonymous request costs no thread hand-off; a token is looked up in the
    catalogue on a worker thread.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    info = (await anyio.to_thread.run_sync(TokenStore(runtime.store).check, token.strip())
            if scheme.lower() == "bearer" else None)
    if info is None:
        raise AuthError("令牌无效或已撤销", "Invalid or revoked token", code="auth.invalid")
    return info


CallerDep = Annotated[TokenInfo | None, Depends(caller)]


def require(*roles: str) -> Callable[[TokenInfo | None], Awaitable[TokenInfo]]:
    """A dependency that admits only callers with one of ``roles`` (gis_admin always)."""
    allowed = {"gis_admin", *roles}

    async def check(who: CallerDep) -> TokenInfo:
        if who is None:
            raise AuthError("此操作需要授权令牌(Authorization: Bearer …)",
                            "This operation needs a bearer token", code="auth.required")
        if who.role not in allowed:
            raise ForbiddenError(f"角色 {who.role} 无权执行此操作", f"Role {who.role} may not do this",
                                 code="auth.forbidden")
        return who

    return check


AdminDep = Annotated[TokenInfo, Depends(require("gis_admin"))]
ReviewerDep = Annotated[TokenInfo, Depends(require("reviewer"))]
