"""sync: millisecond positions for remaps and the compaction floor (WatermelonDB timestamps)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_clock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("floor_ms", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("sync_remaps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ms", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.create_index("ix_sync_remaps_area_ms", ["area_id", "ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_remaps", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_remaps_area_ms")
        batch_op.drop_column("ms")
    with op.batch_alter_table("sync_clock", schema=None) as batch_op:
        batch_op.drop_column("floor_ms")
