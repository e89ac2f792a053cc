"""A desk on SQLite installs neither the server nor the PostgreSQL driver: the everyday
commands run without them, and a command that needs one names the extra to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run before anything else in the child: the server's and PostgreSQL's packages cannot be
# imported, as on a machine where `pip install hnce` left the extras out.
BLOCKER = '''
import sys

class _NotInstalled:
    """A meta-path finder that hides the optional packages."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"fastapi", "uvicorn", "starlette", "psycopg", "psycopg_binary"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
'''


def hnce(tmp_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HNCE_")}
    env.update({"PYTHONPATH": os.pathsep.join([str(site), env.get("PYTHONPATH", "")]),
                "HNCE_CONFIG_DIR": str(tmp_path / "config"), "HNCE_DATA_DIR": str(tmp_path / "data"),
                "HNCE_DATABASE_URL": f"sqlite:///{tmp_path / 'hnce.db'}"})
    return subprocess.run([sys.executable, "-m", "hnce_cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, input=input, stdin=None if input is not None else subprocess.DEVNULL)


def test_a_sqlite_desk_needs_neither_extra(tmp_path: Path) -> None:
    assert hnce(tmp_path, "db", "upgrade", "--json").returncode == 0
    made = hnce(tmp_path, "db", "init", "--login", "admin", "--name", "张三", "--password-stdin", "--json",
                input="Desk-Pass-2026\n")
    assert made.returncode == 0, made.stdout + made.stderr
    logged_in = hnce(tmp_path, "login", "admin", "--password-stdin", "--json", input="Desk-Pass-2026\n")
    assert logged_in.returncode == 0, logged_in.stdout + logged_in.stderr
    regions = hnce(tmp_path, "unit", "search", "财政局", "--json")
    assert regions.returncode == 0, regions.stdout + regions.stderr
    assert "hnce[" not in regions.stdout + regions.stderr


@pytest.mark.parametrize(("args", "extra"), [
    (("serve", "--port", "1"), "server"),
    (("--db", "postgresql://hnce:secret@127.0.0.1:9/hnce", "unit", "search", "财政局"), "postgres"),
    (("--db", "postgresql://hnce:secret@127.0.0.1:9/hnce", "db", "upgrade"), "postgres"),
])
def test_a_command_that_needs_an_extra_names_it(tmp_path: Path, args: tuple[str, ...], extra: str) -> None:
    shown = hnce(tmp_path, *args)
    assert shown.returncode == 2, shown.stdout + shown.stderr
    said = " ".join(shown.stderr.split())  # as one line, however the terminal wrapped it
    assert f"hnce[{extra}]" in said and f"pip install 'hnce[{extra}]'" in said, said
    assert "Traceback" not in said and "secret" not in said
    if args[0] == "serve":  # a server has no --json
        return
    as_json = hnce(tmp_path, *args, "--json")
    assert as_json.returncode == 2, as_json.stdout + as_json.stderr
    assert json.loads(as_json.stdout)["error"]["details"]["extra"] == extra
