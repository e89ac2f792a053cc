"""One command run: where it works (a database or an API), as whom (the session token),
with which clock — resolved once, from the flags, the environment and the profile.

The root command makes one `Invocation` per run and every command reads it
(`invocation(ctx)`); nothing is kept in module state, so a test can run many commands
in one process, each with its own environment. The backend is made on first use:
`hnce --help` or `hnce profile list` never load a database driver.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from hnce_cli.clock import Clock

if TYPE_CHECKING:
    import typer

    from hnce_cli.backend import Backend
    from hnce_cli.settings import Profile, ProfileStore


class Where(NamedTuple):
    """What a command works against: an `hnce serve` API, or a database URL."""

    api: str | None
    database: str | None

    @property
    def remote(self) -> bool:
        return self.api is not None


@dataclass
class Invocation:
    db_flag: str | None = None
    profile_flag: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    wants_json: bool = False  # --json was given: errors are printed as JSON too

    @cached_property
    def profiles(self) -> ProfileStore:
        from hnce_cli.settings import ProfileStore

        return ProfileStore.load(env=self.env)

    @cached_property
    def profile(self) -> Profile:
        return self.profiles.get(self.profile_flag or self.env.get("HNCE_PROFILE") or None)

    @cached_property
    def token(self) -> str | None:
        return self.env.get("HNCE_TOKEN") or self.profile.token

    @cached_property
    def where(self) -> Where:
        """The most explicit choice wins: --db, then HNCE_API_URL, then HNCE_DATABASE_URL,
        then the profile's API or database, then the default SQLite file (a variable set
        for one script must beat whatever the current profile says)."""
        if self.db_flag:
            return Where(None, self.db_flag)
        if self.env.get("HNCE_API_URL"):
            return Where(self.env["HNCE_API_URL"], None)
        if self.env.get("HNCE_DATABASE_URL"):
            return Where(None, self.env["HNCE_DATABASE_URL"])
        if self.profile.api:
            return Where(self.profile.api, None)
        if self.profile.db:
            return Where(None, self.profile.db)
        from hnce_cli.settings import default_database_url

        return Where(None, default_database_url(self.env))

    @cached_property
    def backend(self) -> Backend:
        from hnce_cli.backend import open_backend

        return open_backend(self.where.api, self.where.database, self.token)

    @cached_property
    def clock(self) -> Clock:
        return Clock.from_env(self.env)

    def interactive(self) -> bool:
        """Prompts only when a person is at a terminal (never in cron or pipes)."""
        if self.env.get("HNCE_NO_PROMPT"):
            return False
        return sys.stdin.isatty() and sys.stdout.isatty()


def invocation(ctx: typer.Context) -> Invocation:
    """The run's invocation (made by the root command; a bare one for a command run alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Invocation):
        root.obj = Invocation()
    return root.obj
