"""Benchmark: `hnce --help` as a whole process, against `python -c pass` (the floor).

    python bench/help.py            # 20 runs each, interleaved, after 2 warm-ups
    python bench/help.py --runs 50

Prints min / median wall seconds of each and the median of the pairwise ratios.
Target (docs/performance.md): `hnce --help` <= 150 ms. For where the time goes:
`python -X importtime -c "import hnce_cli.cli"`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def hnce() -> str:
    local = Path(sys.executable).with_name("hnce")
    found = str(local) if local.exists() else shutil.which("hnce")
    if not found:
        sys.exit("hnce is not installed: pip install -e . first")
    return found


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    cases = {
        "hnce --help": [hnce(), "--help"],
        "hnce approve --help": [hnce(), "approve", "--help"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(args.runs + 2):
        for name, argv in cases.items():
            seconds = wall(argv)
            if run >= 2:  # two warm-up rounds: disk cache, .pyc files
                times[name].append(seconds)
    print(f"{args.runs} runs each, interleaved; wall ms; whole process; Python {sys.version.split()[0]}")
    print(f"{'command':<26}{'min':>8}{'median':>8}")
    for name, values in times.items():
        print(f"{name:<26}{min(values) * 1000:>8.0f}{statistics.median(values) * 1000:>8.0f}")
    floor = times["python -c pass (floor)"]
    for name in ("hnce --help", "hnce approve --help"):
        ratios = [a / b for a, b in zip(times[name], floor, strict=True)]
        extra = statistics.median(times[name]) - statistics.median(floor)
        print(f"{name}: {statistics.median(ratios):.1f}x the floor, "
              f"+{extra * 1000:.0f} ms over it (median)")


if __name__ == "__main__":
    main()
