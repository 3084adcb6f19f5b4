"""What goes over the bus: ids only. Receivers re-read everything from the database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


class _Event:
    """Written to the bus as compact JSON of its fields."""

    __slots__ = ()

    def dumps(self) -> str:
        event: Any = self  # every event is a dataclass
        return json.dumps(asdict(event), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class RequestEvent(_Event):
    request_id: int
    entry_id: int | None  # the timeline entry written with the change
    # Who is concerned, so channels can skip events that are clearly not theirs without a
    # database read; the permission check itself re-reads the request.
    organisation_id: int | None = None
    contractor_id: int | None = None
    resident_id: int | None = None
    kind: str = "request"

    @classmethod
    def loads(cls, raw: str) -> RequestEvent:
        data = json.loads(raw)
        return cls(**{k: data.get(k) for k in cls.__slots__ if k in data})


@dataclass(frozen=True, slots=True)
class AccountEvent(_Event):
    """Someone's account changed (switched off, another role or organisation, deleted): their
    open live pages must ask again whether they may watch."""

    user_id: int
    kind: str = "account"


@dataclass(frozen=True, slots=True)
class CallEvent(_Event):
    """A call on the single number began, was answered or ended: the operators' pages re-read
    the calls they show."""

    call_id: int
    kind: str = "call"


@dataclass(frozen=True, slots=True)
class IncidentEvent(_Event):
    """An incident was declared, changed or resolved, or someone followed it: pages that show
    incidents re-read them (each as its viewer)."""

    incident_id: int
    kind: str = "incident"
