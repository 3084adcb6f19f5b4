"""Where the outbox worker runs: inside the web process, or as a process of its own.

Inside the web process by default (`PUSH_WORKER_IN_PROCESS=1`): `create_app` starts it with the
app and wakes it right after every commit that wrote outbox rows. As its own process
(`python -m server worker`, also known as `push-worker`) it polls and, with a shared bus (Redis,
PostgreSQL), wakes on every event. Either way it serves every channel registered in
`server.app.outbox_deliverers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.db.session import Database
from server.live.bus import make_bus
from server.notify.delivery import Deliverer
from server.notify.outbox import OutboxWorker
from server.notify.push_outbox import CHANNEL as PUSH
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunningWorker:
    worker: OutboxWorker
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def close(self) -> None:
        self.stop.set()
        self.worker.wake()
        try:
            await asyncio.wait_for(self.task, timeout=15)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def start_in_process(worker: OutboxWorker) -> RunningWorker:
    # A wake before the task first runs is not needed: every run begins with a round.
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="outbox-worker")
    return RunningWorker(worker, stop, task)


async def _wake_on_bus(settings: Settings, worker: OutboxWorker, stop: asyncio.Event) -> None:
    """With a shared bus a separate worker hears of changes at once; without one it polls,
    which is enough."""
    bus = make_bus(settings.broadcast_url)
    try:
        await bus.start()
        async with bus.subscribe() as events:
            async for _event in events:
                if stop.is_set():
                    break
                worker.wake()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("outbox worker: no bus to listen to, polling only", exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            await bus.stop()


async def run_worker(
    settings: Settings, deliverers: Callable[[Database, Settings], Sequence[Deliverer]]
) -> None:
    """The separate process: deliver until SIGINT or SIGTERM."""
    db = Database(settings.database_url)
    channels = deliverers(db, settings)
    worker = OutboxWorker(db, channels)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    listener = None
    if not settings.broadcast_url.startswith("memory://"):
        listener = asyncio.create_task(_wake_on_bus(settings, worker, stop))
    if PUSH not in worker.channels:
        log.warning("outbox worker: VAPID keys are missing, push messages will wait")
    log.info("outbox worker started: %s", ", ".join(sorted(worker.channels)))
    try:
        await worker.run(stop)
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
        await db.dispose()
        log.info("outbox worker stopped")
