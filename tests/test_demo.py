"""`hnce demo`: the commands it prints are true — run as printed, they work and show
what the step says."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from conftest import run_hnce as hnce


def test_the_printed_commands_work_as_printed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)  # the tour's certificate batch writes into ./证书
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    tour = hnce("demo", "--db", url)
    assert tour.returncode == 0, tour.stderr
    shown = [line.strip().removeprefix("$ ") for line in tour.stdout.splitlines()
             if line.strip().startswith(("$ hnce", "hnce "))]
    steps = [c for c in shown if c.startswith("hnce -p")]
    assert len(steps) >= 8, tour.stdout
    lookups = [c for c in steps if " status " in c]
    assert lookups, tour.stdout
    for command in steps:
        argv = shlex.split(command.split("#", 1)[0])[1:]
        proc = hnce(*argv)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        if " status " in command:
            # Run as printed, the look-up is the support role's: masked, and finds someone.
            query = argv[-1]
            assert "客服小李" in tour.stdout
            assert re.search(r"\d{6}\*{8}\w{4}", proc.stdout), (command, proc.stdout)
            assert query in proc.stdout or query[:6] in proc.stdout, (command, proc.stdout)
    # the certificates of last year's passed people, the rare name whole in its file name
    made = sorted(p.name for p in (tmp_path / "证书").rglob("*.pdf"))
    assert len(made) == 5 and any("王䶮" in name for name in made), made
    whoami = hnce("-p", "demo-kefu", "whoami", "--json")
    assert json.loads(whoami.stdout)["role"] == "support"
