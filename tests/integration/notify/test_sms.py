"""SMS end to end: a caller's request through the app, the outbox worker with a clock the test
moves, and local stand-ins of SMS.ru and SMSC.ru that check every request's wire format."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from server.app import create_app
from server.db.models import OutboxMessage, PushSubscription, Request, SmsMessage
from server.db.session import Database
from server.notify.outbox import OutboxWorker
from server.notify.sms_sender import SmsDeliverer, adapter_from_settings
from server.requests.deadlines import TOWN_TZ
from server.settings import Settings
from tests.conftest import run_async
from tests.http import people, post
from tests.integration.incidents.test_incident_journey import declare, incident_id_of, version_on
from tests.integration.notify.test_push_delivery import act, file_request, photo
from tests.integration.notify.test_push_worker import Clock
from tests.sms_providers import API_ID, DAYTIME, LOGIN, NIGHT, Provider, sms_provider
from tests.world import World

T = TypeVar("T")
CALLER = "+79170000077"
TOKEN = "hook-token-0123456789"


def day_clock() -> Clock:
    """The worker's clock, a minute after the SMS were written in the daytime."""
    clock = Clock()
    clock.now = DAYTIME + timedelta(minutes=1)
    return clock


def sms_settings(world: World, provider: Provider, **changes: Any) -> Settings:
    if provider.kind == "smsru":
        url = f"smsru://{API_ID}@?base={provider.base}"
    else:
        url = f"smsc://{LOGIN}:s3cret%3Apass@?base={provider.base}"
    return dataclasses.replace(
        world.settings,
        sms_url=url,
        sms_webhook_token=TOKEN,
        town_phone="+7 85558 0-00-00",
        push_worker_in_process=False,
        **changes,
    )


def deliver(settings: Settings, clock: Clock, rounds: int = 1, timeout: float = 5.0) -> None:
    """Run the outbox worker's rounds for the SMS channel at the clock's time."""

    async def run() -> None:
        db = Database(settings.database_url)
        adapter = adapter_from_settings(settings)
        assert adapter is not None
        adapter._client = httpx.AsyncClient(timeout=timeout)  # type: ignore[union-attr]
        deliverer = SmsDeliverer(db, adapter, clock=clock)
        worker = OutboxWorker(db, [deliverer], clock=clock)
        try:
            for _ in range(rounds):
                await worker.run_once()
        finally:
            await adapter._client.aclose()  # type: ignore[union-attr]
            await db.dispose()

    run_async(run)


def read(settings: Settings, query: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                return await query(session)
        finally:
            await db.dispose()

    return run_async(run)


def write(settings: Settings, change: Callable[[Any], Awaitable[None]]) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        try:
            async with db.begin() as session:
                await change(session)
        finally:
            await db.dispose()

    run_async(run)


def sms_rows(settings: Settings) -> list[SmsMessage]:
    async def q(session: Any) -> list[SmsMessage]:
        return list(await session.scalars(select(SmsMessage).order_by(SmsMessage.id)))

    return read(settings, q)


def outbox_rows(settings: Settings) -> list[OutboxMessage]:
    async def q(session: Any) -> list[OutboxMessage]:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "sms")
                .order_by(OutboxMessage.id)
            )
        )

    return read(settings, q)


def request_of(settings: Settings, rid: int) -> Request:
    async def q(session: Any) -> Request:
        found = await session.get(Request, rid)
        assert found is not None
        return found

    return read(settings, q)


def file_for_caller(operator: Any, world: World, category: str = "leak") -> int:
    form = {
        "building_id": world.buildings["lenina12"],
        "category_id": world.categories[category],
        "flat": "17",
        "description": "Течёт стояк в ванной, вода на полу",
        "caller_phone": "8 917 000-00-77",
        "caller_name": "Гульнара Хасанова",
    }
    response = post(operator, "/operator/new", form)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def incoming(client: Any, text: str, phone: str = "79170000077", token: str = TOKEN) -> Any:
    return client.post(
        f"/webhooks/sms/smsc/{token}", data={"phone": phone, "mes": text, "to": "79372000000"}
    )


def test_a_callers_request_brings_exactly_the_expected_sms_and_replies_act(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator", "dispatcher", "contractor", "worker") as p:
            rid = file_for_caller(p["operator"], world)
            act(p["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])
            act(p["contractor"], rid, "assign_worker", worker_id=world.users["worker"])
            act(p["worker"], rid, "start")
            act(p["worker"], rid, "complete", files=photo())
            act(p["dispatcher"], rid, "verify")
            deliver(settings, day_clock())

            assert incoming(p["operator"], "2 не починили, всё ещё течёт").status_code == 200
            request = request_of(settings, rid)
            assert request.state == "rework"
            page = p["dispatcher"].get(f"/requests/{rid}").text
            assert "не починили, всё ещё течёт" in page

            act(p["worker"], rid, "complete", files=photo())
            act(p["dispatcher"], rid, "verify")
            assert incoming(p["operator"], " ДА ").status_code == 200
            assert request_of(settings, rid).state == "closed"
            deliver(settings, day_clock())

        number, due = request.number, request.due_at.astimezone(TOWN_TZ)
        when = due.strftime("%d.%m %H:%M")
        assert provider.problems == []
        assert provider.sent == [
            ("79170000077", f"Заявка №{number} принята. Срок: {when}"),
            ("79170000077", f"Заявка №{number}: назначен подрядчик, срок {when}"),
            ("79170000077", f"Заявка №{number} выполнена. Ответьте 1 — решено, 2 и что не так"),
            ("79170000077", f"Заявка №{number} возвращена на доработку, срок {when}"),
            ("79170000077", f"Заявка №{number} выполнена. Ответьте 1 — решено, 2 и что не так"),
            ("79170000077", f"Заявка №{number} закрыта. Спасибо!"),
        ]
        rows = [r for r in sms_rows(settings) if r.direction == "out"]
        assert [(r.kind, r.segments, r.status) for r in rows] == [
            ("filed", 1, "sent"),
            ("assigned", 1, "sent"),
            ("done", 1, "sent"),
            ("rework", 1, "sent"),
            ("done", 1, "sent"),
            ("closed", 1, "sent"),
        ]
        assert all(r.request_id == rid and r.phone == CALLER for r in rows)


def test_at_night_an_ordinary_sms_waits_for_eight_and_an_emergency_does_not(
    world: World, at: Callable[[datetime], None]
) -> None:
    at(NIGHT)
    with sms_provider("smsru") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world, category="lift")  # not an emergency
            file_for_caller(p["operator"], world, category="leak")  # an emergency
        ordinary, urgent = outbox_rows(settings)
        morning = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)  # 08:00 in Zainsk
        assert ordinary.next_attempt_at == morning
        assert urgent.next_attempt_at == NIGHT and urgent.urgency == "high"

        clock = Clock()
        clock.now = NIGHT + timedelta(minutes=1)
        deliver(settings, clock)
        assert len(provider.sent) == 1 and "принята" in provider.sent[0][1]
        clock.now = morning + timedelta(seconds=1)
        deliver(settings, clock)
        assert len(provider.sent) == 2
        assert provider.problems == []


def test_past_the_daily_cap_an_sms_is_kept_as_capped_and_not_sent(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsru") as provider:
        settings = sms_settings(world, provider, sms_daily_cap=2)
        with people(create_app(settings), "operator") as p:
            for _ in range(3):
                file_for_caller(p["operator"], world, category="lift")
        assert [r.status for r in sms_rows(settings)] == ["queued", "queued", "capped"]
        assert len(outbox_rows(settings)) == 2
        at(DAYTIME + timedelta(days=1))  # a new town day: the cap starts again
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world, category="lift")
        assert sms_rows(settings)[-1].status == "queued"


def test_smsru_delivery_report_marks_the_sms_delivered(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsru") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world)
            deliver(settings, day_clock())
            [sms] = sms_rows(settings)
            assert sms.status == "sent" and sms.provider_id == "000000-1001"
            report = {"data[0]": f"sms_status\n{sms.provider_id}\n103\n1764752400"}
            answer = p["operator"].post(f"/webhooks/sms/smsru/{TOKEN}", data=report)
            assert (answer.status_code, answer.text) == (200, "100")
            assert sms_rows(settings)[0].status == "delivered"
            report = {"data[0]": f"sms_status\n{sms.provider_id}\n104\n1764752400"}
            assert (
                p["operator"].post(f"/webhooks/sms/smsru/wrong-{TOKEN}", data=report).status_code
                == 403
            )
            assert sms_rows(settings)[0].status == "delivered"
        assert provider.problems == []


def test_provider_failures_are_retried_and_end_in_a_visible_state(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world, category="lift")
        provider.fail_next("500", "timeout", "busy")
        clock = day_clock()
        for _ in range(3):
            deliver(settings, clock, timeout=0.5)
            [row] = outbox_rows(settings)
            assert row.status == "pending"
            assert sms_rows(settings)[0].status == "queued"
            assert sms_rows(settings)[0].error  # the last error is shown while it retries
            clock.advance(3 * 3600)
        deliver(settings, clock)
        sent = sms_rows(settings)[0]
        assert (sent.status, sent.provider_id) == ("sent", str(sent.id))
        assert [row.attempts for row in outbox_rows(settings)] == [4]

        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world, category="lift")
        provider.fail_next("refuse")
        deliver(settings, clock)
        failed = sms_rows(settings)[-1]
        assert failed.status == "failed" and failed.error.startswith("SMSC 7")
        assert outbox_rows(settings)[-1].status == "failed"
        assert provider.problems == []

        with people(create_app(settings), "operator") as p:
            report = {"id": str(sent.id), "phone": "79170000077", "status": "20", "err": "1"}
            assert p["operator"].post(f"/webhooks/sms/smsc/{TOKEN}", data=report).text == "OK"
        undelivered = sms_rows(settings)[0]
        assert (undelivered.status, undelivered.error) == ("undelivered", "smsc 20 1")


def test_an_unknown_sender_is_answered_once_with_the_single_number(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator") as p:
            for _ in range(2):
                assert (
                    incoming(p["operator"], "Когда дадут воду?", phone="79990001122").text == "OK"
                )
        deliver(settings, day_clock())
        assert provider.sent == [("79990001122", "Заявку не нашли. Единый номер: +7 85558 0-00-00")]


def test_webhooks_refuse_a_wrong_token_and_a_provider_not_in_use(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator") as p:
            rid = file_for_caller(p["operator"], world)
            assert incoming(p["operator"], "1", token="guessed").status_code == 403
            smsru = p["operator"].post(f"/webhooks/sms/smsru/{TOKEN}", data={"data[0]": "x"})
            assert smsru.status_code == 404
            nobody = p["operator"].post(f"/webhooks/sms/nosuch/{TOKEN}", data={"mes": "1"})
            assert nobody.status_code == 404
            assert [r.direction for r in sms_rows(settings)] == ["out"]  # nothing received
            assert request_of(settings, rid).state == "new"


def test_staff_see_a_requests_sms_and_other_organisations_are_refused(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsru") as provider:
        settings = sms_settings(world, provider)
        names = ("operator", "dispatcher", "dispatcher2", "contractor", "resident")
        with people(create_app(settings), *names) as p:
            rid = file_for_caller(p["operator"], world)
            deliver(settings, day_clock())
            assert f'hx-get="/requests/{rid}/sms"' in p["dispatcher"].get(f"/requests/{rid}").text
            for name in ("operator", "dispatcher"):
                log = p[name].get(f"/requests/{rid}/sms")
                assert log.status_code == 200
                assert "принята" in log.text and "отправлено" in log.text
            assert p["dispatcher2"].get(f"/requests/{rid}/sms").status_code == 404
            for name in ("contractor", "resident"):
                assert p[name].get(f"/requests/{rid}/sms").status_code in (401, 403)


def test_a_resident_with_the_app_gets_sms_only_when_they_choose_it(
    world: World, at: Callable[[datetime], None]
) -> None:
    async def add_device(session: Any) -> None:
        session.add(
            PushSubscription(
                user_id=world.users["resident"],
                endpoint="https://push.example/device-1",
                p256dh="x",
                auth="y",
            )
        )

    with sms_provider("smsru") as provider:
        settings = sms_settings(world, provider)
        write(settings, add_device)
        with people(create_app(settings), "resident") as p:
            file_request(p["resident"], world)
            assert sms_rows(settings) == []  # the app tells them
            assert 'name="notify_sms"' in p["resident"].get("/profile").text
            assert post(p["resident"], "/profile/sms", {"notify_sms": "1"}).status_code == 303
            file_request(p["resident"], world)
        [sms] = sms_rows(settings)
        assert (sms.kind, sms.phone) == ("filed", "+79170000001")


def test_switched_off_sms_writes_nothing_and_refuses_callbacks(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider, sms_enabled=False)
        with people(create_app(settings), "operator") as p:
            file_for_caller(p["operator"], world)
            assert incoming(p["operator"], "1").status_code == 404
        assert sms_rows(settings) == [] and outbox_rows(settings) == []


def test_a_caller_is_texted_when_an_outage_of_their_house_is_declared_and_resolved(
    world: World, at: Callable[[datetime], None]
) -> None:
    with sms_provider("smsc") as provider:
        settings = sms_settings(world, provider)
        with people(create_app(settings), "operator", "dispatcher", "dispatcher2") as p:
            file_for_caller(p["operator"], world)  # the caller lives at Ленина, 12
            deliver(settings, day_clock())
            provider.sent.clear()
            elsewhere = declare(p["dispatcher2"], world, [world.buildings["sovet7"]])
            incident_id_of(elsewhere)
            incident = incident_id_of(
                declare(p["dispatcher"], world, [world.buildings["lenina12"]])
            )
            deliver(settings, day_clock())
            declared = list(provider.sent)
            response = post(
                p["dispatcher"],
                f"/incidents/{incident}/resolve",
                {"version": version_on(p["dispatcher"], incident)},
            )
            assert response.status_code == 303, response.text
            deliver(settings, day_clock())
        assert provider.problems == []
        assert len(declared) == 1, "one SMS, for the caller's house only"
        phone, text = declared[0]
        assert phone == "79170000077"
        assert text.startswith("Протечка трубы. Ждём до ")
        assert provider.sent[1:] == [("79170000077", "Устранено: Протечка трубы")]
        kinds = [r.kind for r in sms_rows(settings) if r.direction == "out"]
        assert kinds == ["filed", "incident", "incident_resolved"]
