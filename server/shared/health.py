"""Probes for a load balancer: the process answers, and what it depends on answers too."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from sqlalchemy import text

from server.shared.services import Services

# A probe that waits longer than this is as good as a failure to a load balancer.
PROBE_TIMEOUT = 2.0


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is alive and serving (no dependency is asked)."""
    return {"status": "ok"}


async def _database_answers(services: Services) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), services.db.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@get("/readyz", include_in_schema=False)
async def readyz(services: Services) -> Response[dict[str, Any]]:
    """Ready for traffic: the database answers and the event bus is connected."""
    checks = {"database": await _database_answers(services), "bus": services.bus.connected}
    ready = all(checks.values())
    return Response(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store", **({} if ready else {"Retry-After": "5"})},
    )


ROUTES = [healthz, readyz]
