"""The buses that join processes, each for real: PostgreSQL LISTEN/NOTIFY and Redis pub/sub."""

from __future__ import annotations

import os
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from server.settings import Settings
from tests.conftest import TEST_DB

TEST_REDIS = os.environ.get("TEST_REDIS_URL", "")


@pytest.fixture(params=["postgres", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if not TEST_DB:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    settings: Settings = request.getfixturevalue("settings")
    if request.param == "postgres":
        return settings.database_url
    if not TEST_REDIS:
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    # Redis pub/sub ignores database numbers: a channel of our own keeps parallel runs apart.
    parts = urlsplit(TEST_REDIS)
    query = urlencode(
        [*parse_qsl(parts.query), ("channel", f"zayavka_test_{uuid.uuid4().hex[:8]}")]
    )
    return urlunsplit(parts._replace(query=query))
