"""What the request pages make of submitted values: ids that are no ids, filter choices."""

from __future__ import annotations

import re

from server.app import create_app
from tests.http import people, post
from tests.world import World


def test_an_address_or_category_that_is_no_id_asks_to_choose_from_the_list(
    world: World,
) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "operator") as p:
        form = {
            "building_id": "Ленина 12",
            "category_id": "99999999999",
            "description": "Течёт кран на кухне",
        }
        for client, url in [(p["resident"], "/requests/new"), (p["operator"], "/operator/new")]:
            response = post(client, url, form | {"caller_phone": "+79170000009"})
            assert response.status_code == 422, url
            assert "Выберите адрес из списка." in response.text
            assert "Выберите, что случилось." in response.text
            assert "Течёт кран на кухне" in response.text  # what was typed stays in the form


def test_the_board_filters_by_each_state_a_dispatcher_works_with(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "dispatcher") as p:
        page = p["dispatcher"].get("/board").text
        select = page.split('name="state"', 1)[1].split("</select>", 1)[0]
        values = re.findall(r'<option value="([a-z_]+)"', select)
        assert values == [
            "open",
            "overdue",
            "emergency",
            "to_check",
            "new",
            "assigned",
            "in_progress",
            "done",
            "verified",
            "rework",
            "closed",
            "declined",
            "duplicate",
            "all",
        ]
        assert '<option value="open" selected>' in select
        assert '<option value="closed" selected>' in p["dispatcher"].get("/board?state=closed").text


def test_the_board_ignores_a_category_that_is_no_id(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher") as p:
        response = post(
            p["resident"],
            "/requests/new",
            {
                "building_id": world.buildings["lenina12"],
                "category_id": world.categories["leak"],
                "description": "Течёт труба в подвале",
            },
        )
        request_id = int(response.headers["location"].rsplit("/", 1)[1])
        for category in ["lift", "99999999999", "-1"]:
            board = p["dispatcher"].get("/board", params={"category": category})
            assert board.status_code == 200, category
            assert f'id="row-{request_id}"' in board.text, category
