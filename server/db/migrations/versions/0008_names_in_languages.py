"""optional Tatar and English names of organisations and categories

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, length in columns:
                batch.add_column(
                    sa.Column(name, sa.String(length), nullable=False, server_default="")
                )


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _length in columns:
                batch.drop_column(name)
