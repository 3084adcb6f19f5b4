"""incidents: outages and planned shut-offs, their buildings, timeline, followers and requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(column: str, target: str, ondelete: str | None = None, **kw: object) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), **kw)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("organisation_id", "organisations.id", nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _fk("category_id", "categories.id", nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("expected_end", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("announced_at", WHEN, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in ("organisation_id", "category_id", "starts_at", "resolved_at"):
        op.create_index(f"ix_incidents_{column}", "incidents", [column])
    op.create_table(
        "incident_buildings",
        _fk("incident_id", "incidents.id", "CASCADE", primary_key=True),
        _fk("building_id", "buildings.id", "CASCADE", primary_key=True),
    )
    op.create_index(
        "ix_incident_buildings_building_id", "incident_buildings", ["building_id"]
    )
    op.create_table(
        "incident_entries",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("incident_id", "incidents.id", nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _fk("actor_id", "users.id", nullable=True),
        sa.Column("actor_role", sa.String(20), nullable=False),
        _fk("actor_organisation_id", "organisations.id", nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_incident_entries_incident_id", "incident_entries", ["incident_id"])
    op.create_table(
        "incident_followers",
        _fk("incident_id", "incidents.id", "CASCADE", primary_key=True),
        _fk("user_id", "users.id", "CASCADE", primary_key=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_incident_followers_user_id", "incident_followers", ["user_id"])
    op.create_table(
        "incident_requests",
        _fk("request_id", "requests.id", "CASCADE", primary_key=True),
        _fk("incident_id", "incidents.id", nullable=False),
    )
    op.create_index("ix_incident_requests_incident_id", "incident_requests", ["incident_id"])
    op.create_table(
        "building_subscriptions",
        _fk("user_id", "users.id", "CASCADE", primary_key=True),
        _fk("building_id", "buildings.id", "CASCADE", primary_key=True),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_building_subscriptions_building_id", "building_subscriptions", ["building_id"]
    )


def downgrade() -> None:
    for table in (
        "building_subscriptions",
        "incident_requests",
        "incident_followers",
        "incident_entries",
        "incident_buildings",
        "incidents",
    ):
        op.drop_table(table)
