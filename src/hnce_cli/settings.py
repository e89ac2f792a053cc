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
                "profiles", f"cannot read {path}: {exc}", "fix or delete the file"
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
                f"no profile named {name!r}; see `hnce profile list`", {"profile": name}
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
