"""SMS over SMPP against a message centre in the test process: UCS-2 submit_sm, long texts in
parts, delivery receipts, a resident's reply by deliver_sm, and the centre's refusals."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.app import create_app
from server.db.models import OutboxMessage, Request, SmsMessage
from server.db.session import Database
from server.live.bus import make_bus
from server.notify.outbox import OutboxWorker
from server.notify.sms_replies import listen_to
from server.notify.sms_sender import SmsDeliverer
from server.settings import Settings
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import people
from tests.integration.notify.test_push_delivery import act, photo
from tests.integration.notify.test_sms import file_for_caller
from tests.smpp_server import PASSWORD, SYSTEM_ID, Centre, smpp_centre
from tests.sms_providers import DAYTIME
from tests.world import World

NOON = DAYTIME + timedelta(minutes=1)


def smpp_settings(world: World, centre: Centre, password: str = PASSWORD) -> Settings:
    return dataclasses.replace(
        world.settings,
        sms_url=f"smpp://{SYSTEM_ID}:{password}@127.0.0.1:{centre.port}",
        town_phone="+7 85558 0-00-00",
        push_worker_in_process=False,
    )


async def eventually(check: Callable[[], Any], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


def with_session(settings: Settings, scenario: Callable[[Services, OutboxWorker], Any]) -> None:
    """One SMPP session (the deliverer's) for the scenario, wired as `create_app` wires it."""

    async def run() -> None:
        db = Database(settings.database_url)
        svc = Services(settings=settings, db=db, bus=make_bus("memory://"))
        create_app(settings, services=svc)  # registers the outbox writers
        deliverer = SmsDeliverer.from_settings(db, settings)
        assert deliverer is not None
        deliverer.clock = lambda: NOON
        listen_to(deliverer, svc)
        worker = OutboxWorker(db, [deliverer], clock=lambda: NOON)
        try:
            async with deliverer:
                await scenario(svc, worker)
        finally:
            await db.dispose()

    run_async(run)


async def rows(db: Database) -> list[SmsMessage]:
    async with db.read() as session:
        return list(await session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def test_smpp_delivers_in_ucs2_takes_receipts_and_reads_a_dispute(
    world: World, at: Callable[[datetime], None]
) -> None:
    with smpp_centre() as centre:
        settings = smpp_settings(world, centre)
        with people(create_app(settings), "operator", "dispatcher", "contractor", "worker") as p:
            rid = file_for_caller(p["operator"], world)
            act(p["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])
            act(p["contractor"], rid, "assign_worker", worker_id=world.users["worker"])
            act(p["worker"], rid, "complete", files=photo())
            act(p["dispatcher"], rid, "verify")

        async def scenario(svc: Services, worker: OutboxWorker) -> None:
            assert await worker.run_once() == 3
            sent = await rows(svc.db)
            assert [r.status for r in sent] == ["sent"] * 3
            centre.receipt(str(sent[0].provider_id))

            async def delivered() -> bool:
                return (await rows(svc.db))[0].status == "delivered"

            await eventually(delivered)
            centre.incoming("79170000077", "2 не починили")

            async def disputed() -> bool:
                async with svc.db.read() as session:
                    request = await session.get(Request, rid)
                    return request is not None and request.state == "rework"

            await eventually(disputed)
            assert await worker.run_once() == 1

        with_session(settings, scenario)
        texts = [text for _, text, _ in centre.messages]
        assert [t.split(" ", 2)[2].split(".")[0].split(",")[0] for t in texts] == [
            "принята",
            "назначен подрядчик",
            "выполнена",
            "возвращена на доработку",
        ]
        assert all(phone == "79170000077" and parts == 1 for phone, _, parts in centre.messages)
        assert len(centre.acknowledged) == 2  # the receipt and the reply were both answered
        assert centre.problems == []


def test_a_long_text_goes_in_parts_of_67_characters_and_arrives_whole(world: World) -> None:
    with smpp_centre() as centre:
        settings = smpp_settings(world, centre)
        text = "Плановое отключение горячей воды в доме по улице Ленина, 12 — " * 3

        async def scenario(svc: Services, worker: OutboxWorker) -> None:
            deliverer = next(iter(worker.channels.values()))
            sent = await deliverer.adapter.send("+79170000077", text, 1)  # type: ignore[attr-defined]
            assert sent.result.outcome.value == "sent"

        with_session(settings, scenario)
        assert centre.messages == [("79170000077", text, 3)]
        assert centre.problems == []


def test_the_centres_refusals_retry_or_fail_and_stay_visible(
    world: World, at: Callable[[datetime], None]
) -> None:
    with smpp_centre() as centre:
        settings = smpp_settings(world, centre)
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world, category="lift")
            file_for_caller(p["operator"], world, category="window")
        centre.answer_next(0x58, 0x0B)  # throttled, then an invalid destination

        async def scenario(svc: Services, worker: OutboxWorker) -> None:
            await worker.run_once()
            first, second = await rows(svc.db)
            assert first.status == "queued"  # the outbox tries it again later
            assert first.error.startswith("SMPP 0x58: Throttling error")
            assert second.status == "failed"  # refused for good
            assert second.error.startswith("SMPP 0xb: Invalid Destination Address")
            async with svc.db.read() as session:
                retried, given_up = list(await session.scalars(select(OutboxMessage)))
            assert (retried.status, retried.attempts) == ("pending", 1)
            assert given_up.status == "failed"

        with_session(settings, scenario)
        assert centre.messages == []
        assert centre.problems == []


def test_a_refused_bind_is_passing_trouble_with_its_reason_shown(
    world: World, at: Callable[[datetime], None]
) -> None:
    with smpp_centre() as centre:
        settings = smpp_settings(world, centre, password="wrong")
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world)

        async def scenario(svc: Services, worker: OutboxWorker) -> None:
            await worker.run_once()
            [sms] = await rows(svc.db)
            assert sms.status == "queued" and "Invalid Password" in sms.error

        with_session(settings, scenario)
        assert centre.binds == 1 and centre.messages == []
