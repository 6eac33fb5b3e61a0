"""``python -m migrator.runtime serve``: run the demo app with uvicorn."""

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
    serve = commands.add_parser("serve", help="serve the demo ASGI app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument("--secret", default=os.environ.get(SECRET_VARIABLE),
                       help=f"token signing secret (default: ${SECRET_VARIABLE})")
    serve.add_argument("--token-ttl", type=float, default=3600.0, metavar="SECONDS")
    serve.add_argument("--redis-url", default=os.environ.get(REDIS_VARIABLE),
                       help=f"route events across processes through Redis "
                            f"(default: ${REDIS_VARIABLE}, else in-process only)")
    database = serve.add_mutually_exclusive_group()
    database.add_argument("--database-url", help="SQLAlchemy async URL "
                          "(default: a SQLite file, see MIGRATOR_RUNTIME_DATABASE_URL)")
    database.add_argument("--no-database", action="store_true",
                          help="run scopes without database sessions")
    serve.add_argument("--log-level", default="info")
    return parser


def _secret(value: str | None) -> bytes:
    if value:
        return value.encode()
    print(f"warning: no --secret or ${SECRET_VARIABLE} given; using a random secret, so "
          f"tokens are valid for this process only", file=sys.stderr)
    return secrets.token_urlsafe(32).encode()


async def serve(args: argparse.Namespace) -> None:
    """Build the runtime from the arguments and serve until interrupted."""
    import uvicorn

    from .asgi import create_app
    from .config import Runtime
    from .demo import demo_registry
    from .routing import InProcessEventRouter
    from .server import bind_socket, uvicorn_config
    from .tokens import TokenSigner

    signer = TokenSigner(_secret(args.secret), ttl_seconds=args.token_ttl)
    if args.redis_url:
        from .redis_router import RedisEventRouter
        router = RedisEventRouter(args.redis_url)
    else:
        router = InProcessEventRouter()
    session_factory = None
    if not args.no_database:
        from .db import create_session_factory
        session_factory = create_session_factory(args.database_url)
    runtime = Runtime(router=router, session_factory=session_factory,
                      class_registry=demo_registry())
    sock = bind_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    print(f"serving on http://{host}:{port} (websocket ws://{host}:{port}/ws)",
          file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn_config(create_app(runtime, signer),
                                           log_level=args.log_level))
    try:
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
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
