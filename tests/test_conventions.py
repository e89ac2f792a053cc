"""What every CLI user expects: shell completion under a name that does not clash with the
annual completion, --no-color beside NO_COLOR, and a new database that says how to begin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import World, invoke

BIN = Path(sys.executable).parent  # where the console script `hnce` is installed


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_and_options(tmp_path: Path) -> None:
    """A real bash sources the script and asks it, as a Tab press does."""
    script = ('source <(hnce shell-completion bash)\n'
              'COMP_WORDS=(hnce appr); COMP_CWORD=1; _hnce_completion hnce; echo "1:${COMPREPLY[*]}"\n'
              'COMP_WORDS=(hnce declare l); COMP_CWORD=2; _hnce_completion hnce; echo "2:${COMPREPLY[*]}"\n'
              'COMP_WORDS=(hnce approve --li); COMP_CWORD=2; _hnce_completion hnce; echo "3:${COMPREPLY[*]}"\n')
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "HNCE_CONFIG_DIR": str(tmp_path / "config")}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines())
    assert lines["1"].split() == ["approve"]
    assert lines["2"].split() == ["list"]
    assert set(lines["3"].split()) == {"--list", "--limit"}


def test_completion_is_still_the_annual_completion_and_commands_carry_no_install_option(tmp_path: Path) -> None:
    env = {"HNCE_CONFIG_DIR": str(tmp_path / "config")}
    annual = invoke(["completion", "--help"], env)
    assert annual.returncode == 0 and "年度完成情况" in annual.stdout
    for command in ("approve", "status", "completion", "login"):
        shown = invoke([command, "--help"], env).stdout
        assert "--install-completion" not in shown and "--show-completion" not in shown, command
    assert invoke(["shell-completion", "tcsh"], env).returncode == 2


def test_no_color_flag_is_no_color(sqlite_world: World) -> None:
    """--no-color makes the same output as NO_COLOR=1: no colour (bold stays, as NO_COLOR means)."""
    setup = sqlite_world.setup
    flag = setup.process("--no-color", "unit", "show", "99999999", env={"FORCE_COLOR": "1"})
    env = setup.process("unit", "show", "99999999", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    coloured = setup.process("unit", "show", "99999999", env={"FORCE_COLOR": "1"})
    assert flag.returncode == env.returncode == coloured.returncode == 3, flag.stderr
    assert "\x1b[1;31m" in coloured.stderr  # red 错误 without the flag: the test can fail
    assert "31m" not in flag.stderr and flag.stderr == env.stderr

def test_a_new_database_says_how_to_begin(tmp_path: Path) -> None:
    env = {"HNCE_CONFIG_DIR": str(tmp_path / "config"), "HNCE_DATA_DIR": str(tmp_path / "data"),
           "HNCE_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    first = invoke(["login", "admin", "--password-stdin"], env, input="whatever-1\n")
    assert first.returncode == 6
    assert "hnce db init" in " ".join(first.stderr.split())
