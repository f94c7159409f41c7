"""Keep a person's tags on the row too, so lists need no extra query.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT person_id, tag FROM person_tags ORDER BY person_id, position")
    ).all()
    by_person: dict[str, list[str]] = {}
    for person_id, tag in rows:
        by_person.setdefault(person_id, []).append(tag)
    people = sa.table("people", sa.column("id", sa.String), sa.column("tags", sa.JSON))
    for person_id, tags in by_person.items():
        conn.execute(people.update().where(people.c.id == person_id).values(tags=tags))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("tags")
