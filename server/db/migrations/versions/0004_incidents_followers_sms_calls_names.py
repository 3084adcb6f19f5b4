"""incidents, followers and duplicates, SMS, calls, names in three languages

One step for what came together:
- incidents, the buildings they cover, their timeline and followers, per-building subscriptions;
- followers of a request, and a request marked as a duplicate of another;
- SMS to residents without the app, and their choice of SMS;
- calls on the single number and the PBX events that told of them;
- Tatar and English names of organisations and categories.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(column: str, target: str, ondelete: str | None = None, **kw: object) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), **kw)


def _table(
    name: str, *columns: sa.Column[Any] | sa.Constraint, indexed: Sequence[str] = ()
) -> None:
    """A table, and an index of its own on each of the `indexed` columns."""
    op.create_table(name, *columns)
    for column in indexed:
        op.create_index(f"ix_{name}_{column}", name, [column])


def _pairs(name: str, first: str, second: str, *, dated: bool = False) -> None:
    """A table of pairs of rows (`incident_id` names a row of `incidents`), each pair once and
    gone with either row, `dated` with when it was made; the second is indexed, the primary key
    serves looking up the first."""
    columns = [sa.Column("created_at", WHEN, nullable=False)] if dated else []
    _table(
        name,
        *(
            _fk(key, f"{key.removesuffix('_id')}s.id", "CASCADE", primary_key=True)
            for key in (first, second)
        ),
        *columns,
        indexed=(second,),
    )


# Empty means «show the Russian name»: existing rows read as before.
COLUMNS = {
    "organisations": (
        ("name_tt", 200),
        ("name_en", 200),
        ("short_name_tt", 80),
        ("short_name_en", 80),
    ),
    "categories": (("name_tt", 200), ("name_en", 200)),
}


def upgrade() -> None:
    _incidents_up()
    _followers_up()
    _sms_up()
    _calls_up()
    _names_up()


def downgrade() -> None:
    _names_down()
    _calls_down()
    _sms_down()
    _followers_down()
    _incidents_down()


def _incidents_up() -> None:
    _table(
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
        indexed=("organisation_id", "category_id", "starts_at", "resolved_at"),
    )
    _pairs("incident_buildings", "incident_id", "building_id")
    _table(
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
        indexed=("incident_id",),
    )
    _pairs("incident_followers", "incident_id", "user_id", dated=True)
    _table(
        "incident_requests",
        _fk("request_id", "requests.id", "CASCADE", primary_key=True),
        _fk("incident_id", "incidents.id", nullable=False),
        indexed=("incident_id",),
    )
    _pairs("building_subscriptions", "user_id", "building_id", dated=True)


def _followers_up() -> None:
    _table(
        "request_followers",
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("requests.id", name="fk_request_followers_request_id_requests"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "users.id", name="fk_request_followers_user_id_users", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("request_id", "user_id", name="pk_request_followers"),
        indexed=("user_id",),
    )
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_requests_duplicate_of_id_requests", "requests", ["duplicate_of_id"], ["id"]
        )


def _sms_up() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("notify_sms", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _table(
        "sms_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("direction", sa.String(3), nullable=False),
        _fk("user_id", "users.id", "SET NULL", nullable=True),
        sa.Column("phone", sa.String(20), nullable=False),
        _fk("request_id", "requests.id", nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("provider", sa.String(10), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        indexed=("user_id", "phone", "request_id", "provider_id", "created_at"),
    )


def _calls_up() -> None:
    _table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("caller_phone", sa.String(40), nullable=False),
        _fk("operator_id", "users.id", nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        _fk("request_id", "requests.id", nullable=True),
        sa.UniqueConstraint("provider", "external_id", name="uq_calls_external"),
        indexed=("caller_phone", "operator_id", "started_at", "ended_at", "request_id"),
    )
    _table(
        "call_signals",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        _fk("call_id", "calls.id", "CASCADE", nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.UniqueConstraint("provider", "event_key", name="uq_call_signals_event"),
        indexed=("call_id",),
    )


def _names_up() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, length in columns:
                batch.add_column(
                    sa.Column(name, sa.String(length), nullable=False, server_default="")
                )


def _incidents_down() -> None:
    for table in (
        "building_subscriptions",
        "incident_requests",
        "incident_followers",
        "incident_entries",
        "incident_buildings",
        "incidents",
    ):
        op.drop_table(table)


def _followers_down() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("fk_requests_duplicate_of_id_requests", type_="foreignkey")
        batch.drop_column("duplicate_of_id")
    op.drop_index("ix_request_followers_user_id", table_name="request_followers")
    op.drop_table("request_followers")


def _sms_down() -> None:
    op.drop_table("sms_messages")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_sms")


def _calls_down() -> None:
    op.drop_index("ix_call_signals_call_id", table_name="call_signals")
    op.drop_table("call_signals")
    for column in ("caller_phone", "operator_id", "started_at", "ended_at", "request_id"):
        op.drop_index(f"ix_calls_{column}", table_name="calls")
    op.drop_table("calls")


def _names_down() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _length in columns:
                batch.drop_column(name)
