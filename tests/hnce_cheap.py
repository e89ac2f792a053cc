"""`hnce ARGS` with the test suite's cheap password hashing: how the remote setups start
`hnce serve` (a real server process, hashing like the in-process tests do).

argon2id at the smallest cost, as the `fast_password_hashing` fixture sets in-process:
hashes carry their parameters, so nothing else changes. Test code only (hnce has no
switch for it); tests/process/test_harness.py checks that a plain `hnce` process hashes
at production's cost.
"""

from __future__ import annotations

import sys


def cheap_password_hashing() -> None:
    from argon2 import PasswordHasher

    from hnce_cli.services import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._hasher = lambda: cheap  # type: ignore[assignment]


if __name__ == "__main__":
    cheap_password_hashing()
    from hnce_cli.cli import main

    main(sys.argv[1:])
