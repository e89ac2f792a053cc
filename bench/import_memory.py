"""Benchmark: the memory and time of a national-platform import of a million rows.

    python bench/import_memory.py                    # 1,000,000 rows, local and remote
    python bench/import_memory.py -n 100000          # quicker
    python bench/import_memory.py --modes local      # only `hnce sync import` on the database
    python bench/import_memory.py --src /tmp/old     # hnce from another source tree (before/after):
                                                     #   git archive OLD src | tar -x -C /tmp/old

Builds a SQLite database in a temporary folder (migrations, a system admin, `--people`
approved professionals with raw SQL) and writes a CSV of N rows in the national
platform's shape (身份证号, 姓名, 年度, 科目类型, 学时, 记录编号, 完成日期; about 60 bytes a
row, 5 records a person). Then, each run on a fresh copy of the database:

  I   hnce sync import FILE --json                the first import: N credit records added
  I2  the same command again                      adds nothing (every row 已导入过)
  R   the same two, with HNCE_API_URL set to an `hnce serve` on the same database (one
      worker, in its own process): the CLI streams the rows, the server spools and writes
  F   floor for the time: a python process with stdlib csv and sqlite3 reading the file and
      inserting the N rows in one transaction, nothing checked
  M   floor for memory: `hnce sync import` of a file of one row (what the process takes
      whatever the size)

Reports the peak resident memory (ru_maxrss of the child; the server's VmHWM, read before
it is stopped) and the wall time of each. Target: peak RSS ≤ 300 MB for the CLI and for the
server at 1,000,000 rows. Every run's result is checked (rows added, then none). Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import bench_env, checkpoint, hnce, load, release

PASSWORD = "Bench2025pass"
YEAR = 2025
TARGET_MB = 300

FLOOR = r"""
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
people = dict(conn.execute("SELECT id_number, id FROM professional"))
with open(sys.argv[2], encoding="utf-8-sig", newline="") as handle:
    rows = csv.reader(handle)
    next(rows)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'national', ?, '2025-12-01 00:00:00.000000')",
        ((people[r[0]], r[0], int(r[2]), "professional" if r[3] == "专业科目" else "public", float(r[4]),
          f"{r[0]}:{r[5]}") for r in rows))
    conn.execute("COMMIT")
"""


def build(work: Path, people: int) -> dict:
    """A migrated database, a system admin and `people` approved professionals (raw SQL)."""
    from hnce_cli.backend.local import LocalBackend

    path = work / "bench.db"
    url = f"sqlite:///{path}"
    backend = LocalBackend(url)
    backend.db_upgrade()
    backend.db_init("sysadmin", "系统管理员", PASSWORD)
    token = backend.login("sysadmin", PASSWORD).token
    release(url)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    now = "2025-06-01 00:00:00"
    conn.execute("BEGIN")
    conn.execute("INSERT INTO unit (name, uscc, region_code, kind, created_at) "
                 "VALUES ('基准测试单位', NULL, '410105', 'ordinary', ?)", (now,))
    unit = conn.execute("SELECT max(id) FROM unit").fetchone()[0]
    conn.execute(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
        "INSERT INTO account (login, password_hash, role, name, active, failed_logins, created_at) "
        "SELECT printf('4101%014d', n), 'x', 'professional', '测试' || n, 1, 0, ? FROM s", (people, now))
    conn.execute(
        "INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, email, unit_id, "
        "status, registered_at) SELECT id, login, name, '男', '1990-01-01', '13800138000', 'p@example.cn', "
        "?, 'approved', ? FROM account WHERE role = 'professional'", (unit, now))
    conn.execute("COMMIT")
    conn.close()
    checkpoint(path)
    shutil.copy(path, work / "pristine.db")
    return {"db": str(path), "url": url, "token": token}


def write_file(path: Path, rows: int, people: int) -> None:
    """N rows, 5 records a person, in the national platform's export shape (UTF-8 with BOM)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("身份证号,姓名,年度,科目类型,学时,记录编号,完成日期\n")
        for i in range(rows):
            n = i % people + 1
            subject = "专业科目" if i % 3 else "公需科目"
            out.write(f"4101{n:014d},测试{n},{YEAR},{subject},{10 + i % 7},N-{YEAR}-{i:07d},{YEAR}-0{1 + i % 9}-15\n")


def restore(work: Path) -> None:
    db = work / "bench.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(work / "pristine.db", db)


# Starts the measured process and reports its peak RSS. Linux counts in ru_maxrss the pages
# a child had between fork and exec — a copy of this (large) process — so the child is
# started from this small one instead.
STARTER = r"""
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and standard output of one child process."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "rusage"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", STARTER, str(report), *argv], env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - start
        code, maxrss = (int(x) for x in report.read_text().split())
    stdout = proc.stdout.decode()
    if code not in (0, 7):
        sys.exit(f"{argv[:4]} failed ({code}): {stdout[-1000:]} {proc.stderr.decode()[-2000:]}")
    return wall, maxrss / 1024, stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`hnce serve` on the bench database, one worker (uvicorn in the process itself)."""

    def __init__(self, work: Path, url: str) -> None:
        self.port = free_port()
        self.log = (work / "serve.log").open("wb")
        self.proc = subprocess.Popen([*hnce(), "--db", url, "serve", "--port", str(self.port)],
                                     env=bench_env(work), stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        sys.exit("hnce serve did not start: see serve.log")

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def check(stdout: str, added: int) -> None:
    result = json.loads(stdout)
    assert result["added"] == added, {k: v for k, v in result.items() if k != "problems"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="rows in the file")
    parser.add_argument("--people", type=int, default=200_000, help="registered professionals (5 rows each)")
    parser.add_argument("--modes", nargs="+", default=["local", "remote"], choices=["local", "remote"])
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--src", type=Path, help="run hnce (CLI and server) from this tree's src/ instead")
    args = parser.parse_args()
    global hnce  # noqa: PLW0603 - the command every case runs
    if args.src:
        tree = args.src.resolve() / "src"
        os.environ["PYTHONPATH"] = str(tree)

        def hnce() -> list[str]:
            return [sys.executable, "-m", "hnce_cli"]
    people = min(args.people, args.n)
    work = Path(tempfile.mkdtemp(prefix="hnce-import-bench-"))
    try:
        t0 = time.perf_counter()
        setup = build(work, people)
        big, small = work / "全国平台.csv", work / "one.csv"
        write_file(big, args.n, people)
        write_file(small, 1, 1)
        print(f"seeded {people:,} people, wrote {args.n:,} rows ({big.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.0f} s ({work}); load {load()}", file=sys.stderr)
        env = bench_env(work, HNCE_TOKEN=setup["token"])
        local = {**env, "HNCE_DATABASE_URL": setup["url"]}
        rows: list[tuple[str, float, float, float | None]] = []

        restore(work)
        measured([*hnce(), "sync", "import", str(small), "--json"], local)  # warm-up: bytecode, page cache
        restore(work)
        wall, rss, out = measured([*hnce(), "sync", "import", str(small), "--json"], local)
        check(out, 1)
        rows.append(("M  floor: hnce sync import, 1 row (local)", wall, rss, None))
        restore(work)
        wall, rss, _ = measured([sys.executable, "-c", FLOOR, setup["db"], str(big)], env)
        rows.append((f"F  floor: stdlib csv + sqlite3, {args.n:,} rows, nothing checked", wall, rss, None))
        if "local" in args.modes:
            restore(work)
            wall, rss, out = measured([*hnce(), "sync", "import", str(big), "--json"], local)
            check(out, args.n)
            rows.append((f"I  hnce sync import, {args.n:,} rows (local)", wall, rss, None))
            wall, rss, out = measured([*hnce(), "sync", "import", str(big), "--json"], local)
            check(out, 0)
            rows.append(("I2 the same file again: adds nothing (local)", wall, rss, None))
        if "remote" in args.modes:
            restore(work)
            server = Server(work, setup["url"])
            try:
                remote = {**env, "HNCE_API_URL": server.url}
                wall, rss, out = measured([*hnce(), "sync", "import", str(big), "--json"], remote)
                check(out, args.n)
                rows.append((f"R  hnce sync import, {args.n:,} rows (remote)", wall, rss, server.peak_mb()))
                wall, rss, out = measured([*hnce(), "sync", "import", str(big), "--json"], remote)
                check(out, 0)
                rows.append(("R2 the same file again: adds nothing (remote)", wall, rss, server.peak_mb()))
            finally:
                server.stop()
        print(f"\n{args.n:,} rows, {people:,} people; {os.cpu_count()} CPUs; load average at the end {load()}")
        print("| case | wall (s) | peak RSS, CLI (MB) | peak RSS, server (MB) |")
        print("|---|---:|---:|---:|")
        for name, wall, rss, server_rss in rows:
            print(f"| {name} | {wall:.1f} | {rss:.0f} | {'' if server_rss is None else f'{server_rss:.0f}'} |")
        worst = max(max(r[2], r[3] or 0) for r in rows if not r[0].startswith(("M", "F")))
        print(f"target: peak RSS <= {TARGET_MB} MB at {args.n:,} rows: {'met' if worst <= TARGET_MB else 'NOT met'} "
              f"(highest {worst:.0f} MB)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
