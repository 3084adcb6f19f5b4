"""Generated odd values sent to every HTML form and id route, as each kind of person: whatever
arrives, the answer is never a server error."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from server.app import create_app
from tests.http import csrf
from tests.live_client import Users
from tests.world import World

# Every field name the app's forms and filters use (templates, sysadmin forms, filters).
FIELDS = sorted(
    {
        *"q reason active version password contractor_id photo organisation_id kind".split(),
        *"handler".split(),
        *"description completion_key category building_id worker_id to state score role".split(),
        *"photos phone period org notify_new_requests next name login lang idempotency_key".split(),
        *"from flat file category_id caller_phone caller_name code deadline_unit page".split(),
        *"deadline_value email flats floors group handler_organisation_id house inn".split(),
        *"latitude longitude manager_id priority short_name sort street".split(),
        *"summer_deadline_unit summer_deadline_value endpoint keys device_id filter".split(),
    }
)
PEOPLE = [
    None,
    "resident",
    "operator",
    "dispatcher",
    "contractor",
    "worker",
    "cityadmin",
    "sysadmin",
]

ODD_TEXT = st.one_of(
    st.sampled_from(
        [
            "99999999999",
            str(2**31),
            str(2**63),
            "-1",
            "0",
            "1e309",
            "NaN",
            "a\x00b",
            "\x00",
            "\x1b[31m\x07",
            "\u202eтекст справа налево",
            "🚰💧🔥",
            "х" * 100_000,
            " ",
            "",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
        ]
    ),
    st.text(max_size=40),
)
ODD_ID = st.sampled_from([0, 1, 2, 99999999999, 2**31, 2**63, 10**30])


def _routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) for every HTML page and form, excluding files and the API."""
    found = []
    for route in app.routes:
        methods = getattr(route, "methods", set()) or set()
        path = route.path
        if path.startswith(("/static", "/schema", "/api/", "/open311", "/live/")):
            continue
        for method in ("GET", "POST"):
            if method in methods:
                found.append((method, path))
    return sorted(found)


def _fill(path: str, values: list[int], text: str) -> str:
    ids = iter(values)

    def one(match: re.Match[str]) -> str:
        return str(next(ids, 1)) if match.group(2) == "int" else quote(text[:200] or "x", safe="")

    return re.sub(r"\{(\w+):(\w+)\}", one, path)


def test_no_odd_value_gives_a_server_error(world: World) -> None:
    app = create_app(world.settings)
    failures: set[str] = set()
    with TestClient(app, raise_server_exceptions=False) as client:
        # Everyone signs in first: the probes may deactivate accounts or change passwords.
        users = Users(client).sign_in(*[name for name in PEOPLE if name])
        every_route = _routes(app)

        @settings(
            max_examples=len(every_route) * 4,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            route=st.sampled_from(every_route),
            person=st.sampled_from(PEOPLE),
            ids=st.lists(ODD_ID, min_size=2, max_size=2),
            path_text=ODD_TEXT,
            fields=st.dictionaries(st.sampled_from(FIELDS), ODD_TEXT, max_size=8),
        )
        def probe(
            route: tuple[str, str],
            person: str | None,
            ids: list[int],
            path_text: str,
            fields: dict[str, str],
        ) -> None:
            method, template = route
            http = users.use(person)
            url = _fill(template, ids, path_text)
            if method == "GET":
                small = {k: v[:2000] for k, v in fields.items()}
                response = http.get(url, params=small, follow_redirects=False)
            else:
                response = http.post(
                    url, data=fields, headers={"x-csrftoken": csrf(http)}, follow_redirects=False
                )
            if response.status_code >= 500:
                failures.add(
                    f"{method} {url} as {person} with {sorted(fields)}: {response.status_code}"
                )

        probe()
    assert failures == set(), "\n".join(sorted(failures)[:40])
