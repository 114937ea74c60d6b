"""``todo-api``: serve, migrate, mint development tokens, export the GraphQL schema."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app.settings import ConfigError, Settings, load_settings
from app.tokens import DEMO_EMAIL, DEMO_NAME, DEMO_USER, mint_dev_token
from persistence.urls import DEVELOPMENT_URL


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; configuration problems exit with status 2 and one clear line."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        warning = settings.private_network_warning()
        if warning and args.command in (_serve, _migrate):  # the commands that connect
            print(f"todo-api: warning: {warning}", file=sys.stderr)
        return int(args.command(settings, args) or 0)
    except ConfigError as error:
        print(f"todo-api: configuration error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo-api", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes (default: WEB_CONCURRENCY, else 1)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    serve.add_argument("--migrate", action=argparse.BooleanOptionalAction, default=None,
                       help="apply migrations first (default: in development only)")
    serve.set_defaults(command=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(command=_migrate)

    token = commands.add_parser("token", help="print a development token for USER_ID")
    token.add_argument("user_id")
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=24 * 3600, help="lifetime in seconds")
    token.set_defaults(command=_token)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL (schema.graphql)")
    export.add_argument("--output", type=Path, default=Path("schema.graphql"),
                        help="file to write, '-' for standard output (default: schema.graphql)")
    export.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the file differs from the code")
    export.set_defaults(command=_export_schema)
    return parser


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from persistence.migrate import upgrade

    # The URL as configured: its TLS parameters (sslmode, sslrootcert, ...) apply to migrations too.
    upgrade(settings.database_url or DEVELOPMENT_URL)
    print("todo-api: database is at the latest migration", file=sys.stderr)
    return 0


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


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.migrate if args.migrate is not None else not settings.is_production:
        _migrate(settings, args)
    if not settings.is_production:
        _print_dev_banner(settings, args.host, args.port)
    if settings.prometheus_multiproc_dir:
        _prepare_metrics_dir(Path(settings.prometheus_multiproc_dir))
    workers = args.workers if args.workers is not None else settings.web_concurrency
    uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port,
                workers=None if args.reload else workers, reload=args.reload,
                log_config=None, access_log=False, proxy_headers=settings.is_production,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                timeout_graceful_shutdown=settings.shutdown_timeout_seconds)
    return 0


def _prepare_metrics_dir(directory: Path) -> None:
    """An empty directory for the workers' metric files, named for prometheus_client."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # samples of an earlier run would be added in
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


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
