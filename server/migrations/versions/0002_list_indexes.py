"""Indexes for newest-first lists across several areas.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_created", "people", ["created_at", "id"])
    op.create_index("ix_households_created", "households", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_households_created", table_name="households")
    op.drop_index("ix_people_created", table_name="people")
