from __future__ import annotations

from tests.browser.conftest import sign_in


def test_resident_signs_in_and_sees_their_requests_page(browser, server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    sign_in(page, server, "resident")
    assert page.url.endswith("/requests")
    assert page.locator("h1").inner_text() == "Мои заявки"
