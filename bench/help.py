"""Benchmark: `hnce --help` as a whole process, against `python -c pass` (the floor).

    python bench/help.py            # 20 runs each, interleaved, after 2 warm-ups
    python bench/help.py --runs 50

Prints min / median wall and median CPU (user + sys) milliseconds of each, the
median of the pairwise ratios, and the load average before and after (the machine
may be shared). Target: `hnce --help` <= 150 ms, in Chinese (the default) and with
`--lang en`.

`hnce --help` is printed from the lazy command registry (hnce_cli/cli.py, COMMANDS)
without importing any command module; `hnce approve --help` imports its command's
module and has typer build it, for comparison. For where the time goes:
`python -X importtime -m hnce_cli approve --help`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from _common import bench_env, hnce, timed

TARGET_MS = 150


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    # An installed package has its bytecode (pip compiles it; the warm-ups write it here).
    env = bench_env(Path(os.environ.get("TMPDIR", "/tmp")) / "hnce-help-bench", LANG="C.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):  # the language is the cases' own
        env.pop(name, None)
    cases = {  # Chinese (the default: LANG names no language here) and English (docs/i18n.md)
        "hnce --help": [*hnce(), "--help"],
        "hnce --lang en --help": [*hnce(), "--lang", "en", "--help"],
        "hnce approve --help": [*hnce(), "approve", "--help"],
        "hnce --lang en approve --help": [*hnce(), "--lang", "en", "approve", "--help"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    load_before = os.getloadavg()
    for run in range(args.runs + 2):
        for name, argv in cases.items():
            seconds, used, _ = timed(argv, env)
            if run >= 2:  # two warm-up rounds: disk cache, .pyc files
                times[name].append(seconds)
                cpu[name].append(used)
    load_after = os.getloadavg()
    print(f"{args.runs} runs each, interleaved; ms; whole process; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; load average (1/5/15 min) before "
          f"{'/'.join(f'{x:.2f}' for x in load_before)}, after "
          f"{'/'.join(f'{x:.2f}' for x in load_after)}; target: hnce --help <= {TARGET_MS} ms")
    print(f"{'command':<32}{'wall min':>10}{'wall med':>10}{'cpu med':>10}")
    for name, values in times.items():
        print(f"{name:<32}{min(values) * 1000:>10.0f}{statistics.median(values) * 1000:>10.0f}"
              f"{statistics.median(cpu[name]) * 1000:>10.0f}")
    floor = times["python -c pass (floor)"]
    for name in [name for name in cases if name.startswith("hnce")]:
        ratios = [a / b for a, b in zip(times[name], floor, strict=True)]
        extra = statistics.median(times[name]) - statistics.median(floor)
        print(f"{name}: {statistics.median(ratios):.1f}x the floor, "
              f"+{extra * 1000:.0f} ms over it (median)")


if __name__ == "__main__":
    main()
