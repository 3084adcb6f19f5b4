"""followers of a request, and a request marked as the duplicate of another

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "user_id", name="pk_request_followers"),
    )
    op.create_index("ix_request_followers_user_id", "request_followers", ["user_id"])
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_requests_duplicate_of_id_requests", "requests", ["duplicate_of_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("fk_requests_duplicate_of_id_requests", type_="foreignkey")
        batch.drop_column("duplicate_of_id")
    op.drop_index("ix_request_followers_user_id", table_name="request_followers")
    op.drop_table("request_followers")
