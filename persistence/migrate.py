"""Apply the Alembic migrations to a database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema at ``database_url`` to ``revision`` (blocking; creates SQLite files)."""
    # env.py runs its own event loop; a worker thread keeps that possible even when the
    # caller is itself inside one (an async test, a running server).
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(_upgrade, database_url, revision).result()


def _upgrade(database_url: str, revision: str) -> None:
    if database_url.startswith("sqlite"):
        _ensure_sqlite_directory(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def _ensure_sqlite_directory(database_url: str) -> None:
    path = database_url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
