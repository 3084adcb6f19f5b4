"""What goes over the bus: ids only. Receivers re-read everything from the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


# Requests per batch message: the fields of 80 as numbers stay well inside PostgreSQL's limit
# of 8,000 bytes for a NOTIFY payload.
BATCH = 80
_ROW = ("request_id", "entry_id", "organisation_id", "contractor_id", "resident_id", "kind")


@dataclass(frozen=True, slots=True)
class RequestsChanged(_Event):
    """Many requests changed in one transaction (an incident resolved): one message for a batch
    of them, so that a process hears of them at once and reads and renders them together."""

    events: tuple[RequestEvent, ...]
    kind: str = "requests"

    def dumps(self) -> str:
        rows = [[getattr(event, name) for name in _ROW] for event in self.events]
        return json.dumps({"kind": self.kind, "rows": rows}, separators=(",", ":"))

    @classmethod
    def from_rows(cls, rows: list[Any]) -> RequestsChanged:
        return cls(tuple(RequestEvent(**dict(zip(_ROW, row, strict=True))) for row in rows))


def on_the_bus(
    events: Sequence[RequestEvent | IncidentEvent],
) -> list[RequestEvent | RequestsChanged | IncidentEvent]:
    """The messages that tell of `events`: a request's change alone as itself, the changes of
    many requests in batches, in their order."""
    messages: list[RequestEvent | RequestsChanged | IncidentEvent] = []
    run: list[RequestEvent] = []

    def close_run() -> None:
        for start in range(0, len(run), BATCH):
            batch = run[start : start + BATCH]
            messages.append(batch[0] if len(batch) == 1 else RequestsChanged(tuple(batch)))
        run.clear()

    for event in events:
        if isinstance(event, RequestEvent):
            run.append(event)
        else:
            close_run()
            messages.append(event)
    close_run()
    return messages


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
