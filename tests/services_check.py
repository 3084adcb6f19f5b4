"""`python -m tests.services_check URL…`: fail loudly when a service the tests need is down."""

from __future__ import annotations

import asyncio
import sys


async def _check(url: str) -> None:
    if url.startswith("redis"):
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=5)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    await conn.close()


def main(urls: list[str]) -> int:
    failed = False
    for url in urls:
        try:
            asyncio.run(_check(url))
        except Exception as exc:  # any failure means the tests cannot run
            print(f"{url} is not reachable ({exc.__class__.__name__}: {exc}).", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
