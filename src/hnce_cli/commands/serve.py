"""`hnce serve`: run the HTTP API (FastAPI on uvicorn) over a database."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hnce_cli.commands._common import globals_of, load_profile


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

    from hnce_cli import db
    from hnce_cli.settings import default_database_url

    _, profile = load_profile(ctx)
    url = globals_of(ctx).db or os.environ.get("HNCE_DATABASE_URL") or profile.db \
        or default_database_url()
    db.ensure_schema(db.normalise_url(url))  # migrate a fresh database before workers start
    os.environ["HNCE_DATABASE_URL"] = url  # the workers read it (they are new processes)
    uvicorn.run("hnce_cli.server.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=False)
