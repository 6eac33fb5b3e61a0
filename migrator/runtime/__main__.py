"""``python -m migrator.runtime serve``: run the app with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import Sequence

SECRET_VARIABLE = "MIGRATOR_RUNTIME_SECRET"
REDIS_VARIABLE = "MIGRATOR_RUNTIME_REDIS_URL"


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m migrator.runtime")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the ASGI app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--secret", default=os.environ.get(SECRET_VARIABLE),
                       help=f"HS256 key of the JWTs clients present, at least 32 bytes "
                            f"(default: ${SECRET_VARIABLE})")
    serve.add_argument("--demo", action="store_true",
                       help="also serve POST /auth/token, which gives a token for any user "
                            "to anyone: for demos only")
    serve.add_argument("--token-ttl", type=float, metavar="SECONDS",
                       help="lifetime of --demo tokens (default: $MIGRATOR_RUNTIME_TOKEN_TTL "
                            "or 3600)")
    serve.add_argument("--redis-url", default=os.environ.get(REDIS_VARIABLE),
                       help=f"route events across processes through Redis "
                            f"(default: ${REDIS_VARIABLE}, else in-process only)")
    database = serve.add_mutually_exclusive_group()
    database.add_argument("--database-url", help="SQLAlchemy async URL "
                          "(default: a SQLite file, see MIGRATOR_RUNTIME_DATABASE_URL)")
    database.add_argument("--no-database", action="store_true",
                          help="run scopes without database sessions")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--log-format", choices=("text", "json"), default="text")
    serve.add_argument("--no-access-log", action="store_true")
    serve.add_argument("--ws-compression", action="store_true",
                       help="offer permessage-deflate on websockets (off: events are small)")
    return parser


def _secret(value: str | None) -> bytes:
    if value:
        if len(value.encode()) < 32:
            raise SystemExit(f"error: --secret / ${SECRET_VARIABLE} must be at least 32 bytes")
        return value.encode()
    print(f"warning: no --secret or ${SECRET_VARIABLE} given; using a random secret, so only "
          f"tokens from this process's --demo endpoint are accepted", file=sys.stderr)
    return secrets.token_urlsafe(32).encode()


async def serve(args: argparse.Namespace) -> None:
    """Build the runtime from the arguments and serve until interrupted."""
    import uvicorn

    from .asgi import create_app
    from .config import Runtime
    from .demo import demo_registry
    from .holder import using_runtime
    from .jwt_auth import JWTVerifier
    from .logs import logging_config
    from .routing import InProcessEventRouter
    from .server import bind_socket, uvicorn_config
    from .settings import RuntimeSettings

    settings = RuntimeSettings.from_env(token_ttl=args.token_ttl)
    verifier = JWTVerifier(_secret(args.secret))
    if args.redis_url:
        from .redis_router import RedisEventRouter
        router = RedisEventRouter(args.redis_url, settings=settings)
    else:
        router = InProcessEventRouter()
    session_factory = None
    if not args.no_database:
        from .db import create_session_factory
        session_factory = create_session_factory(args.database_url,
                                                 pool_size=settings.db_pool_size,
                                                 max_overflow=settings.db_max_overflow)
    runtime = Runtime(router=router, session_factory=session_factory,
                      class_registry=demo_registry())
    issuer = (lambda user_id: verifier.issue(user_id, settings.token_ttl)) if args.demo else None
    app = create_app(runtime, verifier, settings=settings, token_issuer=issuer)
    sock = bind_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    print(f"serving on http://{host}:{port} (websocket ws://{host}:{port}/ws)",
          file=sys.stderr, flush=True)
    config = uvicorn_config(app, log_level=args.log_level, settings=settings,
                            log_config=logging_config(args.log_level, args.log_format),
                            ws_compression=args.ws_compression)
    config.access_log = not args.no_access_log
    server = uvicorn.Server(config)
    try:
        # Code the agents run that calls create_agent_instance_factory(context) finds this
        # runtime: the server's tasks inherit this context.
        with using_runtime(runtime):
            await server.serve(sockets=[sock])
    finally:
        sock.close()
        if session_factory is not None:
            from .db import dispose_session_factory
            await dispose_session_factory(session_factory)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .errors import SettingsError
        try:
            asyncio.run(serve(args))
        except SettingsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
