"""ledgers: every entry has a date; lists page on (entry_date, created_at, id)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 08:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Entries of ledgers without a date field get the (Beijing) day they were entered.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE ledger_entries SET entry_date = (created_at + interval '8 hours')::date "
            "WHERE entry_date IS NULL"
        )
    else:
        op.execute(
            "UPDATE ledger_entries SET entry_date = date(created_at, '+8 hours') "
            "WHERE entry_date IS NULL"
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_template_created")
        batch_op.drop_index("ix_ledger_entries_template_area")
        batch_op.drop_index("ix_ledger_entries_template_date")
        batch_op.create_index(
            "ix_ledger_entries_template_dated",
            ["template_id", "entry_date", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ledger_entries_template_area_dated",
            ["template_id", "area_id", "entry_date", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_template_area_dated")
        batch_op.drop_index("ix_ledger_entries_template_dated")
        batch_op.create_index(
            "ix_ledger_entries_template_date", ["template_id", "entry_date"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entries_template_area",
            ["template_id", "area_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ledger_entries_template_created", ["template_id", "created_at", "id"], unique=False
        )
