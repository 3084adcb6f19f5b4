"""The stored data: typed SQLAlchemy 2 models, by concept. The schema itself is made by
Alembic, which sees every table through `Base.metadata` once this package is imported."""

from server.db.models.accounts import ApiToken, User, WebSession
from server.db.models.audit import AuditEntry
from server.db.models.base import NAMING, Base, UTCDateTime, pair_key, utcnow
from server.db.models.catalog import Building, Category, Organisation, OrganisationContractor
from server.db.models.incidents import (
    BuildingSubscription,
    Incident,
    IncidentBuilding,
    IncidentEntry,
    IncidentFollower,
    IncidentRequest,
)
from server.db.models.notify import OutboxMessage, PushSubscription, SmsMessage, Webhook
from server.db.models.phone import Call, CallSignal
from server.db.models.requests import (
    Attachment,
    Rating,
    Request,
    RequestFollower,
    TimelineEntry,
    WorkOrder,
)

__all__ = [
    "NAMING",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "Building",
    "BuildingSubscription",
    "Call",
    "CallSignal",
    "Category",
    "Incident",
    "IncidentBuilding",
    "IncidentEntry",
    "IncidentFollower",
    "IncidentRequest",
    "Organisation",
    "OrganisationContractor",
    "OutboxMessage",
    "PushSubscription",
    "Rating",
    "Request",
    "RequestFollower",
    "SmsMessage",
    "TimelineEntry",
    "UTCDateTime",
    "User",
    "WebSession",
    "Webhook",
    "WorkOrder",
    "pair_key",
    "utcnow",
]
