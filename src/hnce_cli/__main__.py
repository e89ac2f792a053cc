"""The `hnce` console script and `python -m hnce_cli`: the same CLI.

`hnce --help` and `hnce --version` are answered before typer is imported when
they can be (hnce_cli.fasthelp); everything else goes to the typer app in cli.py.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] in ("--help", "-h", "--version"):
        from hnce_cli import fasthelp

        if fasthelp.answer(sys.argv[1]):
            sys.stdout.flush()
            return
        if sys.argv[1] != "--version" and fasthelp.applies():
            fasthelp.answer_and_remember(sys.argv[1])
            return
    from hnce_cli.cli import main as run

    run()


if __name__ == "__main__":
    main()
