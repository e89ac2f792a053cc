"""Where hnce keeps things: the default database and the profiles file.

Profiles live in `<config dir>/profiles.json` (mode 600, since it holds session
tokens). HNCE_CONFIG_DIR / HNCE_DATA_DIR override the platform directories.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hnce_cli.errors import NotFound, ValidationFailed

DEFAULT_PROFILE = "default"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    folder = (os.environ if env is None else env).get("HNCE_CONFIG_DIR")
    if folder:
        return Path(folder)
    from platformdirs import user_config_dir

    return Path(user_config_dir("hnce", appauthor=False))


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    folder = (os.environ if env is None else env).get("HNCE_DATA_DIR")
    if folder:
        return Path(folder)
    from platformdirs import user_data_dir

    return Path(user_data_dir("hnce", appauthor=False))


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite:///{data_dir(env) / 'hnce.db'}"


@dataclass
class Profile:
    """One place hnce talks to (a database or an API), with its login session."""

    name: str
    db: str | None = None
    api: str | None = None
    token: str | None = None
    login: str | None = None

    def public_dict(self) -> dict[str, Any]:
        """The profile without its token or a password in its database or API address (safe
        to print: `hnce profile list` shows it, as a table, JSON or CSV)."""
        from hnce_cli.masking import hide_password

        data = asdict(self)
        data["token"] = "***" if self.token else None
        if self.db:
            data["db"] = hide_password(self.db)
        if self.api:
            data["api"] = hide_password(self.api)
        return data


@dataclass
class ProfileStore:
    """The profiles file: which profile is current and each profile's settings."""

    path: Path
    current: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None, env: Mapping[str, str] | None = None) -> ProfileStore:
        path = path or config_dir(env) / "profiles.json"
        if not path.exists():
            return cls(path=path, profiles={DEFAULT_PROFILE: Profile(DEFAULT_PROFILE)})
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationFailed.one(
                "profiles", f"无法读取配置文件 {path} (cannot read {path}): {exc}", "fix or delete the file"
            ) from exc
        profiles = {
            name: Profile(name=name, **{k: v for k, v in data.items() if k != "name"})
            for name, data in raw.get("profiles", {}).items()
        }
        profiles.setdefault(DEFAULT_PROFILE, Profile(DEFAULT_PROFILE))
        return cls(path=path, current=raw.get("current", DEFAULT_PROFILE), profiles=profiles)

    def get(self, name: str | None) -> Profile:
        """A profile by name (None: the current one)."""
        name = name or self.current
        if name not in self.profiles:
            raise NotFound(
                f"没有名为 {name!r} 的配置，见 hnce profile list (no profile named {name!r}; see `hnce profile list`)",
                {"profile": name}
            )
        return self.profiles[name]

    def save(self) -> None:
        """Write atomically with mode 600: the file holds session tokens."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "current": self.current,
            "profiles": {name: asdict(p) for name, p in self.profiles.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


# --- what one request to `hnce serve` may take (docs/deploy.md, "Limits and time-outs") -------

MIB = 1024 * 1024
PUBLIC_BODY_BYTES = MIB  # a login or a registration is a few hundred bytes; anyone may send one
MAX_HEADER_BYTES = 64 * 1024  # request line and headers (a list of 1,000 ids in a query is ~15 KB)
KEEP_ALIVE_SECONDS = 5  # an idle connection between two requests is closed after this


@dataclass(frozen=True)
class ServerLimits:
    """The limits of `hnce serve`, from the environment of the server (each worker reads them).

    The body limit is the largest legitimate JSON request: a declaration with its five
    attachments of 10 MiB each travels as base64, about 67 MiB. The streamed national import
    (POST /api/v1/sync/import/stream) is spooled to disk, not held, so it has its own, larger
    limit (a million rows are some 60 MiB)."""

    max_body_bytes: int = 70 * MIB  # HNCE_MAX_BODY_MB
    max_import_bytes: int = 1024 * MIB  # HNCE_MAX_IMPORT_MB
    header_timeout: float = 10.0  # HNCE_HEADER_TIMEOUT: seconds for a request's line and headers to arrive
    body_timeout: float = 30.0  # HNCE_BODY_TIMEOUT: seconds the server waits for the next piece of a body

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerLimits:
        """The limits the environment sets; a value that is not a positive number is exit 2 naming it."""
        env = os.environ if env is None else env
        default = cls()

        def number(name: str, fallback: float, unit: str) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return fallback
            try:
                value = float(raw) if raw.isascii() else float("nan")
            except ValueError:
                value = float("nan")
            if not 0 < value < 1e9:  # also NaN
                raise ValidationFailed.one(name, f"{name} 须为正数（{unit}），实际为 {raw!r} (not a positive number)",
                                           f"e.g. {name}={fallback:g}, or unset it for the default")
            return value

        return cls(
            max_body_bytes=int(number("HNCE_MAX_BODY_MB", default.max_body_bytes / MIB, "MiB") * MIB),
            max_import_bytes=int(number("HNCE_MAX_IMPORT_MB", default.max_import_bytes / MIB, "MiB") * MIB),
            header_timeout=number("HNCE_HEADER_TIMEOUT", default.header_timeout, "秒 seconds"),
            body_timeout=number("HNCE_BODY_TIMEOUT", default.body_timeout, "秒 seconds"),
        )
