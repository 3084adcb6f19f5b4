"""Field mode in headless Chromium: the camera scanner, the photo, offline completion, weight.

The printed work order is the real print page (contractor/print.html) rendered by Chromium; the
fake camera plays frames of it, and the «phone photo» is that rendering signed, rotated, lit
unevenly and JPEG-compressed (tests/images/work_order.py).
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from server.settings import Settings
from tests.browser.conftest import VIEWPORTS, screen, sign_in
from tests.browser.test_live_lists import act
from tests.conftest import run_async
from tests.fixtures.field import Job, Stored, open_job, stored
from tests.images.work_order import camera_frames, draw_sheet, mjpeg, photograph, sign
from tests.world import World

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
}
# The phone of the daily-use checks: a common 390 px wide screen.
PHONE_390: dict[str, Any] = {**PHONE, "viewport": {"width": 390, "height": 844}}
BUDGET = 100 * 1024  # bytes over the wire for the first visit of a field page
CAMERA = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def new_job(world: World, **kwargs: Any) -> Job:
    return run_async(lambda: open_job(world.settings, world, **kwargs))


def facts(settings: Settings, job: Job) -> Stored:
    return run_async(stored, settings, job.request_id)


def printed_sheet(
    browser: Any, base: str, job: Job
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The contractor's print page as it comes out of the printer, and where its QR code is."""
    scale = 2
    context = browser.new_context(
        viewport={"width": 794, "height": 1123}, device_scale_factor=scale
    )
    page = context.new_page()
    sign_in(page, base, "contractor")
    page.goto(f"{base}/work-orders/{job.order_id}/print")
    page.emulate_media(media="print")
    sheet = page.locator(".work-order")
    box = sheet.bounding_box()
    qr = page.locator(".wo-qr svg").bounding_box()
    assert box and qr
    image = Image.open(io.BytesIO(sheet.screenshot())).convert("RGB")
    context.close()
    left, top = (qr["x"] - box["x"]) * scale, (qr["y"] - box["y"]) * scale
    qr_box = (
        round(left),
        round(top),
        round(left + qr["width"] * scale),
        round(top + qr["height"] * scale),
    )
    return image, qr_box


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def test_scanner_reads_the_printed_work_order_through_the_camera_and_opens_the_job(
    browser: Any, launch_browser: Any, server: str, world: World, tmp_path: Path
) -> None:
    job = new_job(world)
    new_job(world, flat="99")  # another job on the list, so opening the right one means something
    sheet, qr_box = printed_sheet(browser, server, job)
    video = mjpeg(camera_frames(sheet, qr_box), tmp_path / "camera.mjpeg")
    phone = launch_browser(*CAMERA, f"--use-file-for-fake-video-capture={video}")
    page = phone.new_context(**PHONE).new_page()
    sign_in(page, server, "worker")
    assert page.url.endswith("/field")

    page.get_by_role("button", name="Сканировать заказ-наряд").click()

    page.wait_for_url(f"**/field/jobs/{job.request_id}", timeout=45_000)
    expect(page.locator("h1")).to_contain_text("улица Ленина, 12, кв. 12")
    # Chromium on Linux has no native BarcodeDetector: the vendored fallback did the reading.
    assert page.evaluate("typeof window.BarcodeDetector") == "undefined"


def test_photo_of_the_signed_print_is_shrunk_on_the_phone_and_its_qr_confirmed(
    browser: Any, server: str, world: World, tmp_path: Path
) -> None:
    job = new_job(world)
    sheet, _ = printed_sheet(browser, server, job)
    # A big camera photo: the page must bring it down to about 2,000 px before sending.
    photo = tmp_path / "signed.jpg"
    photo.write_bytes(photograph(sign(sheet), angle=3.5, longest_side=3200, quality=80))
    page = browser.new_context(**PHONE).new_page()
    sign_in(page, server, "worker")
    page.goto(f"{server}/field/jobs/{job.request_id}")

    page.set_input_files("#field-photo", str(photo))
    expect(page.locator("#field-preview")).to_be_visible()
    page.get_by_role("button", name="Работа выполнена").click()

    expect(page.locator("#field-result")).to_contain_text("QR-код заказ-наряда подтверждён")
    result = facts(world.settings, job)
    assert result.state == "done"
    assert result.completions == 1
    assert result.signed_photos == ["confirmed"]
    assert max(result.photo_sizes[0]) <= 2000


def tiny_png(path: Path) -> Path:
    """A picture the phone can show but the server refuses: far too small to hold a QR code."""
    out = io.BytesIO()
    Image.new("RGB", (12, 12), "white").save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_job_page_is_one_flow_photograph_then_send_which_waits_for_the_photo(
    browser: Any, server: str, world: World, tmp_path: Path, size: str
) -> None:
    job = new_job(world)
    photo = tmp_path / "signed.jpg"
    photo.write_bytes(photograph(sign(draw_sheet(job.url(world.settings.base_url)))))
    page = browser.new_context(**screen(size)).new_page()
    sign_in(page, server, "worker")
    page.goto(f"{server}/field/jobs/{job.request_id}")

    send = page.get_by_role("button", name="Работа выполнена")
    steps = page.locator(".field-step")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("Сфотографируйте подписанный заказ-наряд")
    expect(steps.nth(1)).to_contain_text("Отправьте отметку о выполнении")
    expect(send).to_be_disabled()
    expect(page.locator("#field-send-hint")).to_be_visible()
    expect(page.locator("#field-preview")).to_be_hidden()
    # One primary action at a time: first the photo.
    expect(page.locator("#complete-form .btn-primary:not(:disabled)")).to_have_count(1)
    expect(page.locator(".field-photo-button")).to_have_class(re.compile(r"\bbtn-primary\b"))
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"]

    page.set_input_files("#field-photo", str(photo))

    preview = page.locator("#field-preview")
    expect(preview).to_be_visible()
    assert page.evaluate("document.getElementById('field-preview').naturalWidth") > 0
    expect(send).to_be_enabled()
    expect(page.locator(".field-photo-button")).to_have_class(re.compile(r"\bbtn-secondary\b"))
    expect(page.locator("#field-send-hint")).to_be_hidden()
    tel = page.locator('a[href^="tel:"] .phone')
    assert tel.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert len(tel.evaluate("e => Array.from(e.getClientRects())")) == 1, "one line"

    send.click()
    expect(page.locator("#field-result")).to_be_visible()
    assert facts(world.settings, job).state == "done"


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_photo_the_server_refuses_says_so_and_asks_for_another(
    browser: Any, server: str, world: World, tmp_path: Path, size: str
) -> None:
    job = new_job(world)
    page = browser.new_context(**screen(size)).new_page()
    sign_in(page, server, "worker")
    page.goto(f"{server}/field/jobs/{job.request_id}")

    page.set_input_files("#field-photo", str(tiny_png(tmp_path / "tiny.png")))
    send = page.get_by_role("button", name="Работа выполнена")
    expect(send).to_be_enabled()
    send.click()

    refused = page.locator("#field-photo-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("Фото не принято — сфотографируйте ещё раз")
    expect(refused).to_contain_text("Слишком маленькое изображение.")
    expect(page.locator("#field-pending")).to_be_hidden()
    expect(page.locator("#field-preview")).to_be_hidden()
    expect(send).to_be_disabled()
    assert facts(world.settings, job).completions == 0

    page.reload()  # the phone remembers why, until a new photo replaces the refused one
    expect(refused).to_contain_text("Фото не принято — сфотографируйте ещё раз")
    expect(page.locator("#field-pending")).to_be_hidden()

    photo = tmp_path / "signed.jpg"
    photo.write_bytes(photograph(sign(draw_sheet(job.url(world.settings.base_url)))))
    page.set_input_files("#field-photo", str(photo))
    expect(refused).to_be_hidden()
    send.click()
    expect(page.locator("#field-result")).to_be_visible()
    assert facts(world.settings, job).completions == 1
    assert page.evaluate("FieldQueue.all().then(items => items.length)") == 0


def complete_offline(
    browser: Any, server: str, job: Job, tmp_path: Path, **photo: Any
) -> tuple[Any, Any]:
    """The worker on the job page, the signal gone, photographs the signed sheet and presses
    «Работа выполнена»; returns the phone's browser context and its page."""
    sheet, _ = printed_sheet(browser, server, job)
    signed = tmp_path / "signed.jpg"
    signed.write_bytes(photograph(sign(sheet), **photo))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, server, "worker")
    page.goto(f"{server}/field/jobs/{job.request_id}")
    # The service worker (with field_sync.js) is in charge of the page, as on a phone.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    context.set_offline(True)
    page.set_input_files("#field-photo", str(signed))
    expect(page.locator("#field-preview")).to_be_visible()
    page.get_by_role("button", name="Работа выполнена").click()
    return context, page


def test_offline_completion_waits_on_the_phone_and_is_sent_once_when_back_online(
    browser: Any, server: str, world: World, tmp_path: Path
) -> None:
    job = new_job(world)
    context, page = complete_offline(browser, server, job, tmp_path, angle=-4, seed=5)

    pending = page.locator("#field-pending")
    expect(pending).to_be_visible()
    expect(pending).to_contain_text("Ожидает отправки")
    expect(page.locator("#field-pending-badge")).to_be_visible()
    time.sleep(2)
    assert facts(world.settings, job).completions == 0, "nothing reaches the server offline"
    assert page.evaluate("FieldQueue.all().then(items => items.length)") == 1

    context.set_offline(False)

    wait_for(lambda: facts(world.settings, job).completions == 1)
    expect(page.locator("#field-result")).to_contain_text("QR-код заказ-наряда подтверждён")
    expect(page.locator("#field-pending")).to_be_hidden()
    time.sleep(3)  # both the service worker and the page may send: still once
    result = facts(world.settings, job)
    assert result.completions == 1
    assert result.signed_photos == ["confirmed"]
    assert result.state == "done"
    assert page.evaluate("FieldQueue.all().then(items => items.length)") == 0


def test_offline_completion_of_a_request_changed_meanwhile_keeps_the_photo_to_send_again(
    browser: Any, server: str, world: World, tmp_path: Path
) -> None:
    job = new_job(world)
    context, page = complete_offline(browser, server, job, tmp_path, angle=2, seed=7)
    expect(page.locator("#field-pending")).to_contain_text("Ожидает отправки")
    # While the phone has no signal, the resident writes to the request.
    act(server, "resident", job.request_id, "comment", reason="Дома буду после шести")
    context.set_offline(False)

    pending = page.locator("#field-pending")
    expect(pending).to_contain_text("Заявку изменили, пока отметка ждала отправки", timeout=30_000)
    assert facts(world.settings, job).completions == 0
    assert page.evaluate("FieldQueue.all().then(items => items.length)") == 1, "photo kept"

    page.get_by_role("button", name="Отправить ещё раз").click()

    expect(page.locator("#field-result")).to_contain_text("QR-код заказ-наряда подтверждён")
    result = facts(world.settings, job)
    assert (result.state, result.completions, result.signed_photos) == ("done", 1, ["confirmed"])
    assert page.evaluate("FieldQueue.all().then(items => items.length)") == 0


def first_visit_bytes(
    browser: Any, base: str, storage: Any, path: str
) -> tuple[int, dict[str, int]]:
    """Bytes the page pulls over the wire (headers + compressed bodies) with a cold cache."""
    context = browser.new_context(storage_state=storage, **PHONE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    by_url = {urls.get(rid, rid).replace(base, ""): size for rid, size in sizes.items()}
    context.close()
    return sum(sizes.values()), by_url


def test_worker_pages_load_in_under_100_kb_on_first_visit(
    browser: Any, server: str, world: World
) -> None:
    job = new_job(world)
    for flat in ("2", "3", "4", "5"):
        new_job(world, flat=flat)
    login = browser.new_context()
    sign_in(login.new_page(), server, "worker")
    storage = login.storage_state()
    login.close()

    for path in ("/field", f"/field/jobs/{job.request_id}"):
        total, by_url = first_visit_bytes(browser, server, storage, path)
        print(f"\nfirst visit of {path}: {total} bytes", *sorted(by_url.items()), sep="\n  ")
        assert total < BUDGET, (path, total, by_url)
        assert any(url.startswith("/static/vendor/htmx") for url in by_url)
        assert any(url.startswith("/static/css/app.css") for url in by_url)
        # The QR fallback (polyfill + 1 MB wasm) waits until the scanner is opened.
        assert not any("zxing" in url or "barcode-detector" in url for url in by_url), by_url
