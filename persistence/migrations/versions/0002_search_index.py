"""trigram indexes for searching a user's tasks (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# One GIN index per searched column, keyed by the owner too (btree_gin), so a search reads the
# caller's matching rows only: ILIKE '%…%' over 100,000 tasks of one user takes milliseconds
# instead of a scan of all of them. SQLite keeps its scan (development only).
_INDEXES = {f"ix_tasks_user_id_{column}_trgm": column for column in ("title", "description")}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, column in _INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON tasks "
                   f"USING gin (user_id, {column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
