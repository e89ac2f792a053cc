"""The `hnce` console script and `python -m hnce_cli`: the same CLI."""

from __future__ import annotations


def main() -> None:
    from hnce_cli.cli import main as run

    run()


if __name__ == "__main__":
    main()
