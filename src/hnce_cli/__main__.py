"""`python -m hnce_cli` runs the same CLI as the `hnce` console script."""

from hnce_cli.cli import main

main()
