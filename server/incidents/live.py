"""The live channel of pages that show incidents: a signal to re-fetch `#incident-notices`.

The message says only «incidents changed»: the fragment it makes the page fetch is read as
its viewer (`queries.for_resident`), so nothing crosses the socket that the page itself could
not read. Signals are folded to at most one a second per page, as the administration's
counts are (`live.views.counts`)."""

from __future__ import annotations

from server.live.render import control
from server.live.views.counts import CountsView
from server.shared.events import IncidentEvent, RequestEvent
from server.shared.roles import Role


class IncidentsView(CountsView):
    kind = "incidents"
    roles = (Role.RESIDENT, Role.OPERATOR, Role.DISPATCHER, Role.CITY_ADMIN)
    signal = control("refresh", target="incident-notices")
    interval = 1.0

    def concerns(self, event: RequestEvent) -> bool:
        return False

    def concerns_incident(self, event: IncidentEvent) -> bool:
        return True
