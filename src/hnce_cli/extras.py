"""Optional parts of the install: a desk on SQLite needs neither the server nor the
PostgreSQL driver, so they are extras (`hnce[server]`, `hnce[postgres]`). A command that
needs one says which to install instead of failing on an import."""

from __future__ import annotations

from importlib import import_module

from hnce_cli.errors import Unsupported

EXTRAS = {
    "server": ("fastapi", "uvicorn"),
    "postgres": ("psycopg",),
}
PURPOSES = {"server": "hnce serve（HTTP 服务）", "postgres": "PostgreSQL 数据库"}


def require(extra: str) -> None:
    """Import the modules of `extra` or stop with exit 2 naming the extra and how to install it."""
    for module in EXTRAS[extra]:
        try:
            import_module(module)
        except ImportError as exc:
            raise Unsupported(
                f"{PURPOSES[extra]} 需要安装可选组件 hnce[{extra}]：缺少 {module} "
                f"(this needs the optional part hnce[{extra}]; install it with: pip install 'hnce[{extra}]')",
                {"extra": extra, "missing": module, "fix": f"pip install 'hnce[{extra}]'"},
            ) from exc
