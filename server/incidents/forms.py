"""The typed forms of the incident pages."""

from __future__ import annotations

from datetime import datetime

from server.i18n import gettext as _
from server.incidents.commands import Declaration, Revision, Scope
from server.requests.deadlines import TOWN_TZ
from server.shared.errors import InvalidInput
from server.shared.forms import Form as BaseForm
from server.shared.forms import Id, SeenVersion

MAX_PICKED = 500


def town_time(raw: str, field: str) -> datetime | None:
    """A `datetime-local` value, read as the town's clock shows it."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(**{field: _("Укажите дату и время.")}) from None
    return value.replace(tzinfo=TOWN_TZ) if value.tzinfo is None else value


def as_local(value: datetime) -> str:
    """The value of a `datetime-local` field."""
    return value.astimezone(TOWN_TZ).strftime("%Y-%m-%dT%H:%M")


class DeclarationForm(BaseForm):
    kind: str = ""
    category_id: Id | None = None
    text: str = ""
    starts_at: str = ""
    expected_end: str = ""
    scope: str = Scope.PICKED
    street: str = ""

    def declaration(self, building_ids: list[str]) -> Declaration:
        words = " ".join(building_ids).replace(",", " ").split()
        ids = sorted({int(w) for w in words if w.isdigit() and 0 < int(w) < 2**31})
        if len(ids) > MAX_PICKED:
            raise InvalidInput(building_ids=_("Слишком много домов: выберите «все дома»."))
        return Declaration(
            kind=self.kind,
            category_id=self.category_id,
            text=self.text,
            starts_at=town_time(self.starts_at, "starts_at"),
            expected_end=town_time(self.expected_end, "expected_end"),
            scope=self.scope,
            building_ids=ids,
            street=self.street,
        )


class RevisionForm(BaseForm):
    version: SeenVersion
    text: str = ""
    expected_end: str = ""

    def revision(self) -> Revision:
        return Revision(self.version, self.text, town_time(self.expected_end, "expected_end"))


class ResolveForm(BaseForm):
    version: SeenVersion


class NoticeQuery(BaseForm):
    building_id: Id | None = None
    category_id: Id | None = None


class SubscriptionForm(BaseForm):
    on: bool = True


class CallForm(BaseForm):
    """The operator links a caller to an incident: a request filed for them, linked."""

    building_id: Id | None = None
    caller_phone: str = ""
    caller_name: str = ""
    flat: str = ""
