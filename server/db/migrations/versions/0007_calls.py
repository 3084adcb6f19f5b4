"""calls on the single number and the PBX events that told of them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("caller_phone", sa.String(40), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), nullable=True),
        sa.UniqueConstraint("provider", "external_id", name="uq_calls_external"),
    )
    for column in ("caller_phone", "operator_id", "started_at", "ended_at", "request_id"):
        op.create_index(f"ix_calls_{column}", "calls", [column])
    op.create_table(
        "call_signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column(
            "call_id",
            sa.Integer(),
            sa.ForeignKey("calls.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "event_key", name="uq_call_signals_event"),
    )
    op.create_index("ix_call_signals_call_id", "call_signals", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_signals_call_id", table_name="call_signals")
    op.drop_table("call_signals")
    for column in ("caller_phone", "operator_id", "started_at", "ended_at", "request_id"):
        op.drop_index(f"ix_calls_{column}", table_name="calls")
    op.drop_table("calls")
