"""``todo-api``: serve, migrate, mint development tokens, export the GraphQL schema, erase."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.settings import ConfigError, Settings, load_settings
from app.tokens import DEMO_EMAIL, DEMO_NAME, DEMO_USER, mint_dev_token

if TYPE_CHECKING:
    from persistence.database import Database

Result = TypeVar("Result")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; configuration problems exit with status 2 and one clear line."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(create_dev_secret=args.creates_dev_secret)
        warning = settings.private_network_warning()
        if warning and args.command in (_serve, _migrate):  # the commands that connect
            print(f"todo-api: warning: {warning}", file=sys.stderr)
        return int(args.command(settings, args) or 0)
    except ConfigError as error:
        print(f"todo-api: configuration error: {error}", file=sys.stderr)
        return 2
    except DatabaseError as error:
        print(f"todo-api: {error}", file=sys.stderr)
        return 1


class DatabaseError(Exception):
    """The database could not be reached or migrated; the message is one line for the operator."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('todo-api')}")
    parser.set_defaults(creates_dev_secret=True)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: %(default)s; 0.0.0.0 for all)")
    serve.add_argument("--port", type=int, default=None,
                       help="port to listen on (default: $PORT, else 8000)")
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes (default: $WEB_CONCURRENCY, else 1)")
    serve.add_argument("--reload", action="store_true",
                       help="restart on code changes, for development (default: off)")
    serve.add_argument("--migrate", action=argparse.BooleanOptionalAction, default=None,
                       help="apply migrations first (default: in development only)")
    serve.set_defaults(command=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(command=_migrate)

    token = commands.add_parser("token", help="print a development token for USER_ID")
    token.add_argument("user_id")
    token.add_argument("--email", help="the token's email claim (default: none)")
    token.add_argument("--name", help="the token's name claim (default: none)")
    token.add_argument("--ttl", type=int, default=24 * 3600,
                       help="lifetime in seconds (default: %(default)s)")
    # a token signed with a secret no running server knows is useless: find it, or say where
    token.set_defaults(command=_token, creates_dev_secret=False)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL (schema.graphql)")
    export.add_argument("--output", type=Path, default=Path("schema.graphql"),
                        help="file to write, '-' for standard output (default: %(default)s)")
    export.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the file differs from the code "
                             "(default: off)")
    export.set_defaults(command=_export_schema)

    erase = commands.add_parser(
        "erase-user", help="erase everything held about USER_ID (an erasure request by email)")
    erase.add_argument("user_id")
    erase.set_defaults(command=_erase_user)

    purge = commands.add_parser(
        "purge-idempotency-keys", help="delete expired Idempotency-Keys of every user (cron)")
    purge.set_defaults(command=_purge_idempotency_keys)
    return parser


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from persistence.errors import is_unavailable
    from persistence.migrate import upgrade

    # The URL as configured: its TLS parameters (sslmode, sslrootcert, ...) apply to migrations too.
    try:
        upgrade(settings.configured_database_url)
    except Exception as error:
        if not is_unavailable(error) and not _is_driver_error(error):
            raise
        where = settings.database.url.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot migrate the database at {where}: "
                            f"{_one_line(error)}") from error
    print("todo-api: database is at the latest migration", file=sys.stderr)
    return 0


def _is_driver_error(error: BaseException) -> bool:
    """A refusal from the database server itself (no such database, wrong password, ...)."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(error, DBAPIError) or type(error).__module__.startswith("asyncpg")


def _one_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


def _token(settings: Settings, args: argparse.Namespace) -> int:
    print(mint_dev_token(settings, args.user_id, email=args.email, name=args.name, ttl=args.ttl))
    return 0


def _export_schema(_: Settings, args: argparse.Namespace) -> int:
    from schema.schema import sdl

    if str(args.output) == "-":
        sys.stdout.write(sdl())
        return 0
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != sdl():
            print(f"todo-api: {args.output} is out of date: run `todo-api export-schema`",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(sdl(), encoding="utf-8")
    print(f"todo-api: wrote {args.output}", file=sys.stderr)
    return 0


def _erase_user(settings: Settings, args: argparse.Namespace) -> int:
    from resolvers.account import erase_user

    erasure = _with_database(settings, lambda db: erase_user(db, args.user_id,
                                                             requested_by="operator"))
    if erasure.user_row:
        print(f"todo-api: erased user {args.user_id!r}: {erasure.tasks} tasks, "
              f"{erasure.idempotency_keys} idempotency keys", file=sys.stderr)
    else:
        print(f"todo-api: nothing is held about user {args.user_id!r}", file=sys.stderr)
    return 0


def _purge_idempotency_keys(settings: Settings, _: argparse.Namespace) -> int:
    from resolvers.retries import purge_expired_keys

    purged = _with_database(settings, purge_expired_keys)
    print(f"todo-api: deleted {purged} expired idempotency keys", file=sys.stderr)
    return 0


def _with_database(settings: Settings, work: Callable[[Database], Awaitable[Result]]) -> Result:
    """Run ``work`` against the configured database; the audit log goes to stdout as JSON."""
    from persistence.database import Database
    from persistence.errors import DatabaseUnavailable
    from plumbing.logs import configure_logging

    configure_logging(settings.log_level)

    async def run() -> Result:
        database = Database.connect(settings.database, settings.pool_limits)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except DatabaseUnavailable:
        print("todo-api: the database cannot be reached; nothing was changed", file=sys.stderr)
        raise SystemExit(1) from None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from app.server import serve

    port = args.port if args.port is not None else settings.port
    if args.migrate if args.migrate is not None else not settings.is_production:
        _migrate(settings, args)
    else:
        _say_when_schema_is_behind(settings)
    if not settings.is_production:
        _print_dev_banner(settings, args.host, port)
    workers = args.workers if args.workers is not None else settings.web_concurrency
    serve(settings, host=args.host, port=port, workers=workers, reload=args.reload)
    return 0


def _say_when_schema_is_behind(settings: Settings) -> None:
    """One line on start when this replica's database is not migrated (/ready is 503 then)."""
    from persistence.errors import is_unavailable
    from persistence.migrate import check_schema

    try:
        lag = check_schema(settings.database, connect_timeout=settings.db_connect_timeout_seconds)
    except Exception as error:
        if not is_unavailable(error) and not _is_driver_error(error):
            raise
        message = f"cannot check the database schema: {_one_line(error)}"
    else:
        if lag is None:
            return
        message = f"{lag}; /ready answers 503 until then"
    print(f"todo-api: {message}", file=sys.stderr, flush=True)


def _print_dev_banner(settings: Settings, host: str, port: int) -> None:
    token = mint_dev_token(settings, DEMO_USER, email=DEMO_EMAIL, name=DEMO_NAME)
    base = f"http://{host}:{port}"
    print(f"""
  todo-api (development mode, database: {settings.database.url.render_as_string()})

  A token for the demo user (valid 24 h; `todo-api token USER_ID` mints others):

    export TOKEN={token}

  Try it:
    curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
         -d '{{"title": "Buy milk"}}' {base}/api/{DEMO_USER}/tasks
    curl -s -H "Authorization: Bearer $TOKEN" {base}/api/{DEMO_USER}/tasks

  GraphiQL: {base}/graphql    API docs: {base}/docs
""", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
