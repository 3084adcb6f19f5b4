"""The moment at which SMS are written, for the SMS tests (quiet hours and caps depend on it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from server.notify import sms_outbox, sms_replies
from tests.sms_providers import DAYTIME


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the moment at which SMS are written (the town's quiet hours depend on it)."""

    def set_time(moment: datetime) -> None:
        monkeypatch.setattr(sms_outbox, "utcnow", lambda: moment)
        monkeypatch.setattr(sms_replies, "utcnow", lambda: moment)

    set_time(DAYTIME)
    return set_time
