"""`hnce serve`: run the HTTP API (FastAPI on uvicorn) over a database."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hnce_cli.invocation import invocation


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (about one per core).")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the hnce API for remote CLIs (`hnce profile add NAME --api URL`).

    The database comes from --db, HNCE_DATABASE_URL or the profile, as for every
    command. Put a TLS-terminating reverse proxy in front (docs/deploy.md).

    Example: hnce --db postgresql://hnce@db/hnce serve --host 0.0.0.0 --port 8000 --workers 2
    """
    import uvicorn

    from hnce_cli.errors import Unsupported

    where = invocation(ctx).where
    if where.database is None:
        raise Unsupported("hnce serve 需要数据库地址，而不是另一个 API (give --db or HNCE_DATABASE_URL)")
    invocation(ctx).backend.ready()  # type: ignore[attr-defined]  # a fresh database is migrated before the workers start
    os.environ["HNCE_DATABASE_URL"] = where.database  # the workers are new processes: they read it
    uvicorn.run("hnce_cli.server.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=False)
