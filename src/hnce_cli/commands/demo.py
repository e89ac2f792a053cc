"""`hnce demo`: a sample province in a fresh database, and a guided first tour."""

from __future__ import annotations

from typing import Annotated

import typer

from hnce_cli.commands._common import JsonOpt


def demo(
    ctx: typer.Context,
    db_url: Annotated[str | None, typer.Option(
        "--db", help="Where to build it (default: demo.db in the data directory).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Build a realistic sample province and walk through approving and looking up.

    Creates a fresh demo database and a `demo` profile pointing at it, so you
    can try every command afterwards with `hnce -p demo ...`.

    Example: hnce demo
    """
    from hnce_cli.demo import run_demo
    from hnce_cli.invocation import invocation

    run_demo(invocation(ctx), db_url, as_json=json_)
