"""Request-scoped database sessions with SQLAlchemy 2 async (an extra: ``migrator-codemod[runtime]``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

DATABASE_URL_VARIABLE = "MIGRATOR_RUNTIME_DATABASE_URL"
DEFAULT_SQLITE_FILE = "migrator-runtime.sqlite3"


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """Return the aiosqlite URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{Path(path).resolve()}"


def default_database_url() -> str:
    """Return the URL from MIGRATOR_RUNTIME_DATABASE_URL, else a SQLite file in the cwd."""
    return os.environ.get(DATABASE_URL_VARIABLE) or sqlite_url(DEFAULT_SQLITE_FILE)


def _tune_sqlite(engine: AsyncEngine, *, reset_only_open_transactions: bool) -> None:
    """Let concurrent scopes share one SQLite file: WAL readers never block the writer.

    With ``reset_only_open_transactions`` a connection returned to the pool is rolled back
    only when SQLite says a transaction is still open on it. The pool's default rolls back
    every returned connection, which after a committed scope is a no-op that still costs
    a round trip to the driver's thread.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if not reset_only_open_transactions:
        return

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        # The same rules as the pool's own rollback-on-return, which this replaces.
        if not state.asyncio_safe or state.transaction_was_reset:
            return
        if getattr(record.driver_connection, "in_transaction", True):
            dbapi_connection.rollback()


def create_session_factory(
    url: str | None = None, **engine_options: Any
) -> async_sessionmaker:
    """Return an async_sessionmaker for ``url`` (default: see default_database_url)."""
    url = url or default_database_url()
    is_sqlite = url.startswith("sqlite")
    reset_only_open = False
    if is_sqlite:
        engine_options.setdefault("connect_args", {}).setdefault("timeout", 30)
        if "pool_reset_on_return" not in engine_options:
            engine_options["pool_reset_on_return"] = None
            reset_only_open = True
    engine = create_async_engine(url, **engine_options)
    if is_sqlite:
        _tune_sqlite(engine, reset_only_open_transactions=reset_only_open)
    return async_sessionmaker(engine, expire_on_commit=False)


def session_factory_engine(session_factory: async_sessionmaker) -> AsyncEngine:
    """Return the engine a session factory is bound to."""
    return session_factory.kw["bind"]


async def dispose_session_factory(session_factory: async_sessionmaker) -> None:
    """Close every pooled connection of the factory's engine."""
    await session_factory_engine(session_factory).dispose()


def get_connection_pool_status(session_factory: async_sessionmaker) -> dict[str, Any]:
    """Report the pool: connections checked out (``active``), idle, and the pool size."""
    pool = session_factory_engine(session_factory).pool
    status: dict[str, Any] = {"pool_class": type(pool).__name__}
    for key, method in (("active", "checkedout"), ("idle", "checkedin"),
                        ("pool_size", "size"), ("overflow", "overflow")):
        if hasattr(pool, method):
            status[key] = getattr(pool, method)()
    return status


async def database_health(session_factory: async_sessionmaker, timeout: float) -> dict[str, Any]:
    """Run ``SELECT 1`` on a pooled connection and report whether the database answered."""

    async def probe() -> None:
        async with session_factory() as session:
            await session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), timeout)
    except asyncio.TimeoutError:
        return {"ok": False, "error": f"no answer within {timeout:g} s"}
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "pool": get_connection_pool_status(session_factory)}
