"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 14:29:21.086027
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import server.db.models


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# In the order they are made: each refers only to those before it.
TABLES = (
    'organisations',
    'outbox',
    'web_sessions',
    'api_tokens',
    'buildings',
    'categories',
    'organisation_contractors',
    'users',
    'push_subscriptions',
    'requests',
    'webhooks',
    'ratings',
    'timeline_entries',
    'work_orders',
    'attachments',
)

WHEN = server.db.models.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')



def _columns(type_: sa.types.TypeEngine[Any], *names: str, nullable: bool) -> list[sa.Column[Any]]:
    """Columns of one type, in this order."""
    return [sa.Column(name, type_, nullable=nullable) for name in names]


# Constraints named as the models' naming convention names them (server/db/models/base.py).
def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f'pk_{table}'))


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """`column` refers to the id of a row of `target`."""
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete
    )


def _unique(table: str, column: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(column, name=op.f(f'uq_{table}_{column}'))


def _indexes(table: str, *columns: str) -> None:
    """An index of its own on each of the columns, named by the models' naming convention."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=80), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('inn', sa.String(length=12), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    _pk('organisations', 'id'),
    _unique('organisations', 'name')
    )
    _indexes('organisations', 'kind')

    op.create_table('outbox',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', WHEN, nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('sent_at', WHEN, nullable=True),
    _pk('outbox', 'id')
    )
    _indexes('outbox', 'next_attempt_at', 'status', 'target_id')

    op.create_table('web_sessions',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', WHEN, nullable=True),
    _pk('web_sessions', 'key')
    )
    _indexes('web_sessions', 'expires_at')

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('last_used_at', WHEN, nullable=True),
    _fk('api_tokens', 'organisation_id', 'organisations'),
    _pk('api_tokens', 'id'),
    _unique('api_tokens', 'token_hash')
    )
    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('house', sa.String(length=20), nullable=False),
    sa.Column('search_key', sa.String(length=240), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    *_columns(sa.Double(), 'latitude', 'longitude', nullable=True),
    *_columns(sa.Integer(), 'floors', 'flats', nullable=True),
    sa.Column('created_at', WHEN, nullable=False),
    _fk('buildings', 'manager_id', 'organisations', ondelete='SET NULL'),
    _pk('buildings', 'id'),
    sa.UniqueConstraint('street', 'house', name='uq_buildings_address')
    )
    _indexes('buildings', 'manager_id', 'search_key')

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('group', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('deadline_minutes', sa.Integer(), nullable=False),
    sa.Column('summer_deadline_minutes', sa.Integer(), nullable=True),
    sa.Column('handler', sa.String(length=20), nullable=False),
    sa.Column('handler_organisation_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    _fk('categories', 'handler_organisation_id', 'organisations', ondelete='SET NULL'),
    _pk('categories', 'id'),
    _unique('categories', 'code')
    )
    op.create_table('organisation_contractors',
    *_columns(sa.Integer(), 'organisation_id', 'contractor_id', nullable=False),
    _fk('organisation_contractors', 'contractor_id', 'organisations', ondelete='CASCADE'),
    _fk('organisation_contractors', 'organisation_id', 'organisations', ondelete='CASCADE'),
    _pk('organisation_contractors', 'organisation_id', 'contractor_id')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=80), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('notify_new_requests', sa.Boolean(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    _fk('users', 'organisation_id', 'organisations', ondelete='RESTRICT'),
    _pk('users', 'id'),
    _unique('users', 'login'),
    _unique('users', 'phone')
    )
    _indexes('users', 'organisation_id', 'role')

    op.create_table('push_subscriptions',
    *_columns(sa.Integer(), 'id', 'user_id', nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('last_success_at', WHEN, nullable=True),
    _fk('push_subscriptions', 'user_id', 'users', ondelete='CASCADE'),
    _pk('push_subscriptions', 'id'),
    _unique('push_subscriptions', 'endpoint')
    )
    _indexes('push_subscriptions', 'user_id')

    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    *_columns(sa.Integer(), 'resident_id', 'building_id', nullable=False),
    sa.Column('flat', sa.String(length=20), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    *_columns(sa.Integer(), 'organisation_id', 'contractor_id', nullable=True),
    *_columns(WHEN, 'due_at', 'created_at', 'updated_at', nullable=False),
    *_columns(WHEN, 'assigned_at', 'done_at', 'closed_at', 'due_warned_at', nullable=True),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    *_columns(sa.Double(), 'latitude', 'longitude', nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    _fk('requests', 'building_id', 'buildings'),
    _fk('requests', 'category_id', 'categories'),
    _fk('requests', 'contractor_id', 'organisations'),
    _fk('requests', 'organisation_id', 'organisations'),
    _fk('requests', 'resident_id', 'users'),
    _pk('requests', 'id'),
    _unique('requests', 'idempotency_key'),
    _unique('requests', 'number')
    )
    _indexes('requests', 'building_id', 'category_id', 'contractor_id', 'created_at', 'due_at', 'organisation_id', 'resident_id', 'state')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_contractor_state', ['contractor_id', 'state'], unique=False)
        batch_op.create_index('ix_requests_org_state', ['organisation_id', 'state'], unique=False)

    op.create_table('webhooks',
    *_columns(sa.Integer(), 'id', 'token_id', nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    _fk('webhooks', 'token_id', 'api_tokens', ondelete='CASCADE'),
    _pk('webhooks', 'id')
    )
    op.create_table('ratings',
    *_columns(sa.Integer(), 'id', 'request_id', 'resident_id', 'score', nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_ratings_score_range')),
    _fk('ratings', 'request_id', 'requests'),
    _fk('ratings', 'resident_id', 'users'),
    _pk('ratings', 'id'),
    _unique('ratings', 'request_id')
    )
    op.create_table('timeline_entries',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', WHEN, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    *_columns(sa.String(length=20), 'from_state', 'to_state', nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('actor_organisation_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    _fk('timeline_entries', 'actor_id', 'users'),
    _fk('timeline_entries', 'actor_organisation_id', 'organisations'),
    _fk('timeline_entries', 'request_id', 'requests'),
    _pk('timeline_entries', 'id')
    )
    _indexes('timeline_entries', 'request_id')

    op.create_table('work_orders',
    *_columns(sa.Integer(), 'id', 'request_id', 'contractor_id', nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    *_columns(WHEN, 'printed_at', 'started_at', 'completed_at', nullable=True),
    sa.Column('completion_key', sa.String(length=64), nullable=True),
    sa.Column('needs_check', sa.Boolean(), nullable=False),
    sa.Column('check_reason', sa.Text(), nullable=False),
    _fk('work_orders', 'contractor_id', 'organisations'),
    _fk('work_orders', 'request_id', 'requests'),
    _fk('work_orders', 'worker_id', 'users'),
    _pk('work_orders', 'id'),
    _unique('work_orders', 'completion_key'),
    _unique('work_orders', 'token')
    )
    _indexes('work_orders', 'contractor_id', 'request_id', 'worker_id')

    op.create_table('attachments',
    *_columns(sa.Integer(), 'id', 'request_id', nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('timeline_entry_id', BIG_ID, nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=80), nullable=False),
    *_columns(sa.Integer(), 'width', 'height', 'size', nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('qr_status', sa.String(length=20), nullable=True),
    sa.Column('qr_text', sa.Text(), nullable=True),
    _fk('attachments', 'request_id', 'requests'),
    _fk('attachments', 'timeline_entry_id', 'timeline_entries'),
    _fk('attachments', 'uploaded_by', 'users'),
    _fk('attachments', 'work_order_id', 'work_orders'),
    _pk('attachments', 'id'),
    _unique('attachments', 'filename')
    )
    _indexes('attachments', 'request_id')


def downgrade() -> None:
    # A table's indexes go with it, on SQLite and PostgreSQL alike.
    for table in reversed(TABLES):
        op.drop_table(table)
