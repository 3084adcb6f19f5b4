import time
from tests.browser.conftest import sign_in
from tests.browser.test_field import PHONE, new_job, printed_sheet, CAMERA
from tests.images.work_order import camera_frames, mjpeg

def test_measure(browser, launch_browser, server, world, tmp_path):
    job = new_job(world)
    sheet, qr_box = printed_sheet(browser, server, job)
    video = mjpeg(camera_frames(sheet, qr_box), tmp_path / "camera.mjpeg")
    phone = launch_browser(*CAMERA, f"--use-file-for-fake-video-capture={video}")
    login = phone.new_context(); sign_in(login.new_page(), server, "worker"); storage = login.storage_state(); login.close()
    context = phone.new_context(storage_state=storage, **PHONE)
    reqs = []
    context.on("requestfinished", lambda r: reqs.append(r))
    page = context.new_page()
    page.goto(server + "/field")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_load_state("networkidle"); time.sleep(2)
    def report(label, rs):
        total = 0
        for r in rs:
            s = r.sizes()
            n = s["responseBodySize"] + s["responseHeadersSize"]
            total += n
            print("   ", "SW" if r.service_worker else "page", r.url.replace(server, ""), n)
        print(label, total)
    report("FIRST VISIT (page + service worker install)", list(reqs))
    reqs.clear()
    t = time.time()
    page.get_by_role("button", name="Сканировать заказ-наряд").click()
    page.wait_for_url(f"**/field/jobs/{job.request_id}", timeout=45_000)
    print("scan took", round(time.time() - t, 1), "s")
    page.wait_for_load_state("networkidle")
    report("SCANNER (fallback) + job page", list(reqs))
