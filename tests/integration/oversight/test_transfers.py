"""Transfers between organisations count in the figures, for the organisation that handed the
request away; the request itself counts with the organisation it went to."""

from __future__ import annotations

import re

from server.app import create_app
from tests.http import filed, people
from tests.integration.oversight.test_admin_pages import kpi
from tests.integration.requests.test_journey import act
from tests.world import World

COLUMNS = r'<td class="num" data-label="([^"]+)"[^>]*>([^<]*)</td>'


def org_row(html: str, organisation_id: int) -> dict[str, str]:
    match = re.search(rf'<tr[^>]*data-row-id="{organisation_id}">(.*?)</tr>', html, re.S)
    assert match, organisation_id
    return dict(re.findall(COLUMNS, match.group(1)))


def test_dashboard_counts_transfers_for_the_organisation_that_handed_them_away(
    world: World,
) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "dispatcher2", "cityadmin") as p:
        away = filed(p["resident"], world, "Не наш дом, передаём")
        filed(p["resident"], world, "Остаётся у нас")
        act(p["dispatcher"], away, "transfer", organisation_id=world.orgs["uk2"])

        html = p["cityadmin"].get("/admin").text
        assert kpi(html, "Передано другой организации") == "1"
        uk1, uk2 = org_row(html, world.orgs["uk1"]), org_row(html, world.orgs["uk2"])
        assert (uk1["Передано другим"], uk1["Подано"]) == ("1", "1")
        assert (uk2["Передано другим"], uk2["Подано"]) == ("0", "1")

        # Looking at one organisation only, its transfers still count.
        scoped = p["cityadmin"].get(f"/admin?org={world.orgs['uk1']}").text
        assert kpi(scoped, "Передано другой организации") == "1"
        other = p["cityadmin"].get(f"/admin?org={world.orgs['uk2']}").text
        assert kpi(other, "Передано другой организации") == "0"
