"""Benchmark: a province's annual completion 年度完成情况, whole process, against a floor.

    python bench/completion_bench.py                      # 1,000,000 people, 5,000,000 credit records
    python bench/completion_bench.py -n 100000 --runs 3   # quicker
    python bench/completion_bench.py --cases S S0 C0      # only the summary and its floors

Builds a SQLite database in a temporary folder (migrations, a system admin, 5,000
units over Henan's counties, N approved professionals, 5 credit records each in the
year, all with raw SQL; about 53 % of people pass). Then, interleaved:

  S   hnce completion --year 2025 --region 410000 --by city --json  (system admin)
      the province's completion as the administrator reads it: people / 通过 / 未通过 /
      pass rate per city and the total, counted in one SQL statement (the target below)
  S0  floor for S: a python process with stdlib sqlite3 running the same counts
      (people per unit, plus the passing ids joined to their units), nothing else
  C   hnce completion --year 2025 --region 410000 -o province.csv   (system admin)
      the whole province as CSV: one grouped aggregate joined to people and units,
      streamed, every row judged by completion.result_of, written as UTF-8 CSV
  C0  floor: a python process with stdlib sqlite3 running the grouped aggregate
      SELECT professional_id, sum(public), sum(professional) FROM credit_record
      WHERE year = 2025 GROUP BY professional_id  (fetchall, nothing written)
  C1  floor+: the same process also joining people and units and writing the CSV
      with the csv module (what any implementation must at least do)

Reports wall and CPU (user+sys of the child) per case, medians with min, the ratios to
the floors, and the load average. Target: the province's completion for a year <= 5 s,
i.e. S; C (the million-row export) is reported beside it. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import bench_env, hnce, load, release, timed

PASSWORD = "Bench2025pass"
YEAR = 2025

FLOOR = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute("SELECT professional_id, sum(CASE WHEN subject='public' THEN credits ELSE 0 END), "
                    "sum(CASE WHEN subject='professional' THEN credits ELSE 0 END) FROM credit_record "
                    "WHERE year = ? GROUP BY professional_id", (int(sys.argv[2]),)).fetchall()
print(len(rows))
"""

FLOOR_SUMMARY = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
passing = ("SELECT professional_id FROM (SELECT professional_id, "
           "sum(CASE WHEN subject='public' THEN credits ELSE 0 END) AS pub, "
           "sum(CASE WHEN subject='professional' THEN credits ELSE 0 END) AS pro FROM credit_record "
           "WHERE year = ? GROUP BY professional_id) WHERE pub >= 30 AND pro >= 60 AND pub + pro >= 90")
sql = ("SELECT unit_id, sum(people), sum(passed) FROM (SELECT unit_id, count(*) AS people, 0 AS passed "
       "FROM professional WHERE status = 'approved' GROUP BY unit_id UNION ALL SELECT p.unit_id, 0, count(*) "
       f"FROM ({passing}) a JOIN professional p ON p.id = a.professional_id WHERE p.status = 'approved' "
       "GROUP BY p.unit_id) GROUP BY unit_id")
print(sum(n for _, n, _ in conn.execute(sql, (int(sys.argv[2]),)).fetchall()))
"""

FLOOR_CSV = r"""
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
sql = ("SELECT p.id, p.id_number, p.name, u.name, u.region_code, coalesce(a.pub, 0), coalesce(a.pro, 0) "
       "FROM professional p JOIN unit u ON u.id = p.unit_id LEFT JOIN (SELECT professional_id AS pid, "
       "sum(CASE WHEN subject='public' THEN credits ELSE 0 END) AS pub, "
       "sum(CASE WHEN subject='professional' THEN credits ELSE 0 END) AS pro FROM credit_record "
       "WHERE year = ? GROUP BY professional_id) a ON a.pid = p.id "
       "WHERE p.status = 'approved' AND u.region_code LIKE '41%' ORDER BY p.id")
with open(sys.argv[3], "w", encoding="utf-8-sig", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["年度", "身份证号", "姓名", "单位", "区域代码", "公需科目", "专业科目", "总学分", "认定结果"])
    year = int(sys.argv[2])
    for pid, num, name, unit, region, pub, pro in conn.execute(sql, (year,)):
        ok = pub >= 30 and pro >= 60 and pub + pro >= 90
        w.writerow([year, num, name, unit, region, f"{pub:g}", f"{pro:g}", f"{pub + pro:g}",
                    "通过" if ok else "未通过"])
"""


def build(work: Path, n: int) -> dict:
    """Migrated database, a system admin, units, N people with 5 credit records each (raw SQL)."""
    from hnce_cli.backend.local import LocalBackend

    path = work / "bench.db"
    url = f"sqlite:///{path}"
    b = LocalBackend(url)
    b.db_upgrade()  # what `hnce db upgrade` runs
    b.db_init("sysadmin", "系统管理员", PASSWORD)
    token = b.login("sysadmin", PASSWORD).token
    release(url)  # hnce's connections closed before raw sqlite3 writes
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("synchronous=OFF", "cache_size=-400000", "temp_store=MEMORY"):
        conn.execute("PRAGMA " + pragma)
    counties = [c for (c,) in conn.execute("SELECT code FROM region WHERE level = 'county' ORDER BY code")]
    now = "2025-06-01 00:00:00"
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO unit (name, uscc, region_code, kind, created_at) VALUES (?, NULL, ?, 'ordinary', ?)",
                     [(f"基准测试单位{i:05d}", counties[i % len(counties)], now) for i in range(5000)])
    first_unit = conn.execute("SELECT min(id) FROM unit WHERE name LIKE '基准测试单位%'").fetchone()[0]
    conn.execute(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
        "INSERT INTO account (login, password_hash, role, name, active, failed_logins, created_at) "
        "SELECT printf('B%017d', n), 'x', 'professional', '测试人员' || n, 1, 0, ? FROM s", (n, now))
    conn.execute(
        "INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, email, unit_id, "
        "status, registered_at) SELECT id, login, name, '男', '1990-01-01', '13800138000', 'p@example.cn', "
        f"{first_unit} + (id % 5000), 'approved', ? FROM account WHERE role = 'professional'", (now,))
    # 5 records a person: public 15 + 15, professional 20 + 20 + 20; a third fall one short of each.
    conn.execute(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
        "created_at) "
        "SELECT p.id, p.id_number, ?, CASE WHEN k.k < 2 THEN 'public' ELSE 'professional' END, "
        "CASE WHEN k.k < 2 THEN 15 ELSE 20 END - CASE WHEN p.id % 3 = 0 AND k.k IN (0, 2) THEN 1 ELSE 0 END "
        "- CASE WHEN p.id % 5 = 0 AND k.k = 4 THEN 0.5 ELSE 0 END, "
        "'national', p.id_number || ':' || k.k, ? FROM professional p "
        "CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) k",
        (YEAR, now))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    records = conn.execute("SELECT count(*) FROM credit_record").fetchone()[0]
    conn.close()
    return {"db": str(path), "url": url, "token": token, "people": n, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000, help="people (5 credit records each)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (after one warm-up each)")
    parser.add_argument("--cases", nargs="+", default=["S", "S0", "C", "C0", "C1"],
                        choices=["S", "S0", "C", "C0", "C1"], help="which cases to run")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the database in DIR and keep it; reuse it if DIR already has one")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hnce-completion-bench-"))
    try:
        t0 = time.perf_counter()
        saved = work / "setup.json"
        if args.keep and saved.exists():
            setup = json.loads(saved.read_text())
        else:
            work.mkdir(parents=True, exist_ok=True)
            setup = build(work, args.n)
            saved.write_text(json.dumps(setup))
        print(f"seeded {setup['people']:,} people, {setup['records']:,} credit records in "
              f"{time.perf_counter() - t0:.0f} s ({work})", file=sys.stderr)
        env = bench_env(work, HNCE_DATABASE_URL=setup["url"], HNCE_TOKEN=setup["token"])
        out, floor_out = work / "province.csv", work / "floor.csv"
        cases = {
            "S": [*hnce(), "completion", "--year", str(YEAR), "--region", "410000", "--by", "city", "--json"],
            "S0": [sys.executable, "-c", FLOOR_SUMMARY, setup["db"], str(YEAR)],
            "C": [*hnce(), "completion", "--year", str(YEAR), "--region", "410000", "-o", str(out)],
            "C0": [sys.executable, "-c", FLOOR, setup["db"], str(YEAR)],
            "C1": [sys.executable, "-c", FLOOR_CSV, setup["db"], str(YEAR), str(floor_out)],
        }
        cases = {k: v for k, v in cases.items() if k in args.cases}
        results: dict[str, list[tuple[float, float, int]]] = {k: [] for k in cases}
        load_start = load()
        for argv in cases.values():  # warm-up: page cache, pyc
            timed(argv, env)
        for _ in range(args.runs):
            for name, argv in cases.items():
                results[name].append(timed(argv, env))
        checked = ""
        if "S" in cases:  # the summary's counts are the per-person decisions' counts
            total = json.loads(subprocess.run(cases["S"], env=env, capture_output=True, check=True).stdout)["total"]
            assert total["people"] == setup["people"], total
            checked = f"summary 通过 {total['passed']:,} / {total['people']:,}; "
        if "C" in cases:
            lines = sum(1 for _ in out.open(encoding="utf-8-sig")) - 1
            passed = sum(1 for line in out.open(encoding="utf-8-sig") if line.rstrip().endswith(",通过"))
            assert lines == setup["people"], lines
            if "S" in cases:
                assert passed == total["passed"], (passed, total)
            checked += f"CSV rows {lines:,} (通过 {passed:,}); "
        if "C1" in cases:
            assert sum(1 for _ in floor_out.open(encoding="utf-8-sig")) - 1 == setup["people"]
        print(f"\n{setup['people']:,} people, {setup['records']:,} credit records; {checked}"
              f"{args.runs} runs each after one warm-up, interleaved; {os.cpu_count()} CPUs; "
              f"load average (1/5/15 min) at the start {load_start}, at the end {load()}")
        print("| case | wall median (s) | wall min (s) | CPU user+sys median (s) | runs (wall) |")
        print("|---|---|---|---|---|")
        for name, values in results.items():
            walls, cpus = [v[0] for v in values], [v[1] for v in values]
            print(f"| {name} | {statistics.median(walls):.2f} | {min(walls):.2f} | {statistics.median(cpus):.2f} | "
                  + " ".join(f"{w:.2f}" for w in walls) + " |")

        def median(name: str, i: int) -> float:
            return statistics.median([v[i] for v in results[name]])

        for a, b in (("S", "S0"), ("S", "C0"), ("C", "C0"), ("C", "C1")):
            if a in results and b in results:
                print(f"{a} / {b}: wall {median(a, 0) / median(b, 0):.2f}×, CPU {median(a, 1) / median(b, 1):.2f}×")
        if "S" in results:
            print(f"target (the province's completion, S) <= 5 s: {median('S', 0):.2f} s wall")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
