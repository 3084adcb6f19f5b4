"""indexes for the oversight figures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 15:30:00

- requests (created_at) INCLUDE (…): on PostgreSQL the dashboard reads a period's requests from
  this index alone (an index-only scan), without touching the wide rows.
- requests (closed_at): the trend's «closed per day».
- timeline_entries (request_id) WHERE kind IN ('return', 'dispute'): returns and disputes
  without reading every timeline entry.

The model (server/db/models/) does not declare these: they serve queries, not the schema.
"""

from alembic import op
from sqlalchemy import text

revision: str = "0002"
down_revision: str | None = "0001"

COHORT_COLUMNS = [
    "id",
    "organisation_id",
    "category_id",
    "state",
    "due_at",
    "assigned_at",
    "done_at",
    "closed_at",
    "rework_count",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # SQLite has no INCLUDE; its ix_requests_created_at already serves the same queries.
        op.create_index(
            "ix_requests_stats_cohort",
            "requests",
            ["created_at"],
            postgresql_include=COHORT_COLUMNS,
        )
    op.create_index("ix_requests_closed_at", "requests", ["closed_at"])
    op.create_index(
        "ix_timeline_entries_rework",
        "timeline_entries",
        ["request_id"],
        postgresql_where=text("kind IN ('return', 'dispute')"),
        sqlite_where=text("kind IN ('return', 'dispute')"),
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_entries_rework", table_name="timeline_entries")
    op.drop_index("ix_requests_closed_at", table_name="requests")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_requests_stats_cohort", table_name="requests")
