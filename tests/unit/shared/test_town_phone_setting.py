"""The town's single number: set by TOWN_PHONE, made up only for the demo."""

from __future__ import annotations

from server.settings import DEMO_TOWN_PHONE, Settings

BASE = {"SECRET_KEY": "test-secret-key-not-for-production-0123456789"}


def test_a_real_deployment_shows_no_number_until_it_is_set() -> None:
    assert Settings.from_env(BASE).town_phone == ""
    configured = Settings.from_env({**BASE, "TOWN_PHONE": "8 (85558) 3-12-34"})
    assert configured.town_phone == "8 (85558) 3-12-34"
    assert configured.town_phone_uri == "tel:88555831234"


def test_the_demo_shows_its_made_up_number_as_a_dialable_link() -> None:
    demo = Settings.from_env({**BASE, "DEMO": "1"})
    assert demo.town_phone == DEMO_TOWN_PHONE
    assert demo.town_phone_uri == "tel:+78555800000"
