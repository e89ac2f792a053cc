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
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        help="Address (or network, e.g. 10.0.0.0/8) of a reverse proxy whose X-Forwarded-For is believed "
             "(repeatable). Without it the connection's own address is the client's.")] = None,
) -> None:
    """Serve the hnce API for remote CLIs (`hnce profile add NAME --api URL`).

    The database comes from --db, HNCE_DATABASE_URL or the profile, as for every
    command. Put a TLS-terminating reverse proxy in front (docs/deploy.md) and name it
    with --trusted-proxy, so that logins are throttled by each client's own address.

    Example: hnce --db postgresql://hnce@db/hnce serve --host 0.0.0.0 --port 8000 --workers 2
    """
    from hnce_cli.extras import require

    require("server")  # an extra: FastAPI and uvicorn are not installed on a desk
    import uvicorn

    from hnce_cli.certificates.facts import NO_VERIFY_URL, verify_base
    from hnce_cli.errors import Unsupported
    from hnce_cli.render import note
    from hnce_cli.server.protocol import GuardedHTTPProtocol
    from hnce_cli.settings import KEEP_ALIVE_SECONDS, MAX_HEADER_BYTES, ServerLimits

    ServerLimits.from_env()  # a limit that is not a number stops here (exit 2), not in every worker
    if verify_base() is None:  # a bad value stops here too (exit 2), before a certificate carries it
        note(NO_VERIFY_URL)
    where = invocation(ctx).where
    if where.database is None:
        raise Unsupported("hnce serve 需要数据库地址，而不是另一个 API (give --db or HNCE_DATABASE_URL)")
    invocation(ctx).backend.ready()  # type: ignore[attr-defined]  # a fresh database is migrated before the workers start
    os.environ["HNCE_DATABASE_URL"] = where.database  # the workers are new processes: they read it
    # X-Forwarded-For is read only from the proxies named: anyone else could write any address
    # in it and so escape the login throttle (by default uvicorn believes 127.0.0.1).
    proxies = [p.strip() for p in trusted_proxy or [] if p.strip()]
    uvicorn.run("hnce_cli.server.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=False,
                # Limits and time-outs (docs/deploy.md): a request's head must arrive within
                # HNCE_HEADER_TIMEOUT and hold at most MAX_HEADER_BYTES (the protocol), an idle
                # connection is closed after KEEP_ALIVE_SECONDS; bodies are the guard's (server/guard.py).
                http=GuardedHTTPProtocol, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
