"""Benchmark: approve 100,000 pending registrations, whole process, against a floor.

    python bench/approve_100k.py                 # 100,000 registrations, 5 runs each
    python bench/approve_100k.py -n 20000 --runs 3
    python bench/approve_100k.py --keep          # leave the work folder for a look

Builds a SQLite database in a temporary folder (migrations as `hnce db upgrade`
runs them, one unit, one unit admin, N pending registrations inserted with raw
SQL), logs the admin in, and keeps a pristine copy of the file. Then, restoring
the copy before every run (outside the timing), it times these as separate
processes, in turn:

  a   hnce approve --file ids.txt --yes --json > /dev/null
  a0  the floor for (a): stdlib sqlite3 running hnce's own statements: one conditional
      UPDATE ... AND id_number IN (SELECT value FROM json_each(?)) RETURNING id, the N
      audit rows as one INSERT ... SELECT over those ids, one transaction, hnce's pragmas
  c   hnce approve --all --yes > /dev/null
  c0  the floor for (c): the same without the IN list

and prints min / median wall and CPU seconds per case and the median ratio of
each hnce run to the floor run next to it. Targets (docs/performance.md):
(a) <= 3 s and <= 3x its floor.

Not part of the test suite. Needs the project installed (`hnce` on PATH or in
the venv next to this Python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import bench_env, checkpoint, make_ids, release, seed_professionals, timed
from _common import hnce as hnce_cmd

ADMIN_PASSWORD = "Bench2025pass"
UNIT_NAME = "河南基准测试会计师事务所"
UNIT_USCC = "91410105MA44ABCD1P"

# The floor: what the work costs with nothing but the stdlib driver. hnce's own statements
# (one conditional UPDATE with the ID numbers bound as one JSON array, the audit rows as one
# INSERT ... SELECT over the ids it returned), its pragmas, one transaction.
FLOOR = r"""
import json, sqlite3, sys
from datetime import datetime, UTC
db, ids_file, unit_id, actor_id, mode = sys.argv[1:6]
unit_id, actor_id = int(unit_id), int(actor_id)
conn = sqlite3.connect(db, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536"):
    conn.execute("PRAGMA " + pragma)
now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
conn.execute("BEGIN IMMEDIATE")
sql = ("UPDATE professional SET status='approved', decided_at=?, decided_by=? "
       "WHERE unit_id=? AND status='pending'")
if mode == "ids":
    with open(ids_file, encoding="utf-8") as fh:
        ids = [line.strip() for line in fh if line.strip()]
    done = conn.execute(sql + " AND id_number IN (SELECT value FROM json_each(?)) RETURNING id",
                        [now, actor_id, unit_id, json.dumps(ids)]).fetchall()
else:
    done = conn.execute(sql + " RETURNING id", [now, actor_id, unit_id]).fetchall()
conn.execute(
    "INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
    "SELECT ?, ?, 'registration.approve', 'professional', CAST(value AS VARCHAR(64)), ?, ? FROM json_each(?)",
    (now, actor_id, json.dumps({"status": "pending"}), json.dumps({"status": "approved"}),
     json.dumps([pid for (pid,) in done])))
conn.execute("COMMIT")
print(len(done))
"""


def build(work: Path, n: int) -> dict:
    """The pristine database, the ID file and the admin's token."""
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import AccountInput, UnitInput
    from hnce_cli.services.security import hash_password

    path = work / "bench.db"
    url = f"sqlite:///{path}"
    backend = LocalBackend(url)
    backend.db_upgrade()  # what `hnce db upgrade` runs
    backend.db_init("sysadmin", "系统管理员", ADMIN_PASSWORD)
    backend.token = backend.login("sysadmin", ADMIN_PASSWORD).token
    unit = backend.add_unit(UnitInput(name=UNIT_NAME, uscc=UNIT_USCC, region="金水区"))
    admin = backend.create_account(AccountInput(
        login="bench-admin", name="基准管理员", role="unit_admin", password=ADMIN_PASSWORD,
        units=[str(unit.id)]))

    ids = make_ids(n)
    shared_hash = hash_password("Shared2025pass")
    registered = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    stamp = registered.isoformat(" ")
    release(url)  # hnce's connections closed before raw sqlite3 writes
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    seed_professionals(conn, ids, unit.id, status="pending", password_hash=shared_hash, stamp=stamp)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()

    token = LocalBackend(url).login("bench-admin", ADMIN_PASSWORD).token
    release(url)  # the login's session row is in the WAL until hnce's connection closes
    (work / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    checkpoint(path)
    shutil.copyfile(path, work / "pristine.db")
    return {"db": path, "url": url, "token": token, "unit_id": unit.id, "admin_id": admin.id}


def restore(setup: dict, work: Path) -> None:
    path = setup["db"]
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(work / "pristine.db", path)


def check(setup: dict, n: int) -> None:
    """Every registration approved and one audit row each: the run did the work."""
    conn = sqlite3.connect(setup["db"])
    approved = conn.execute("SELECT count(*) FROM professional WHERE status='approved'").fetchone()[0]
    audited = conn.execute(
        "SELECT count(*) FROM audit_log WHERE action='registration.approve'").fetchone()[0]
    conn.close()
    if approved != n or audited != n:
        sys.exit(f"run did not do the work: {approved} approved, {audited} audit rows (want {n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="pending registrations")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--cases", default="a,c", help="a (--file), c (--all), or both")
    parser.add_argument("--profile", action="store_true",
                        help="instead of timing: cProfile and -X importtime of one run of (a)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hnce-bench-"))
    try:
        t0 = time.perf_counter()
        setup = build(work, args.n)
        print(f"setup: {args.n:,} pending registrations in {time.perf_counter() - t0:.1f} s "
              f"({work})")
        # With bytecode written, as pip installs it (see bench_env).
        env = bench_env(work, HNCE_TOKEN=setup["token"], HNCE_DATABASE_URL=setup["url"])
        hnce = hnce_cmd()
        floor = [sys.executable, "-c", FLOOR, str(setup["db"]), str(work / "ids.txt"),
                 str(setup["unit_id"]), str(setup["admin_id"])]
        cases = {
            "a": ("hnce approve --file ids.txt --yes --json",
                  [*hnce, "approve", "--file", str(work / "ids.txt"), "--yes", "--json"],
                  "floor: raw UPDATE ... IN (json_each) + audit INSERT ... SELECT", [*floor, "ids"]),
            "c": ("hnce approve --all --yes",
                  [*hnce, "approve", "--all", "--yes"],
                  "floor: raw UPDATE (no IN list) + audit INSERT ... SELECT", [*floor, "all"]),
        }
        if args.profile:
            profile(setup, work, env, cases["a"][1][1:])
            return
        results = {}
        args.load_before = os.getloadavg()
        for key in args.cases.split(","):
            label, argv, floor_label, floor_argv = cases[key]
            rows: dict[str, list[tuple[float, float]]] = {"hnce": [], "floor": []}
            for _ in range(args.runs + 1):  # the first pair is a warm-up
                for which, cmd in (("hnce", argv), ("floor", floor_argv)):
                    restore(setup, work)
                    wall, cpu, code = timed(cmd, env, fail=False)
                    if code != 0:
                        sys.exit(f"{which} exited {code}")
                    check(setup, args.n)
                    rows[which].append((wall, cpu))
            results[key] = (label, floor_label, {k: v[1:] for k, v in rows.items()})
        args.load_after = os.getloadavg()
        report(results, args)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def profile(setup: dict, work: Path, env: dict[str, str], hnce_args: list[str]) -> None:
    """Where one run of (a) spends its time: imports, then functions."""
    import pstats

    restore(setup, work)
    log = work / "importtime.txt"
    with log.open("w") as err:
        subprocess.run([sys.executable, "-X", "importtime", "-m", "hnce_cli", *hnce_args],
                       env=env, stdout=subprocess.DEVNULL, stderr=err, check=True)
    rows = []
    for line in log.read_text().splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if len(name) - len(name.lstrip()) <= 3:  # top-level imports only
                rows.append((int(parts[1]), name.strip()))
    print("top-level imports of one run, cumulative ms:")
    for us, name in sorted(rows, reverse=True)[:12]:
        print(f"  {us / 1000:8.1f}  {name}")
    restore(setup, work)
    out = work / "approve.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "hnce_cli",
                    *hnce_args], env=env, stdout=subprocess.DEVNULL, check=True)
    check(setup, len((work / "ids.txt").read_text().split()))
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def report(results: dict, args: argparse.Namespace) -> None:
    print(f"\n{args.runs} runs each after one warm-up; seconds; whole process; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; SQLite {sqlite3.sqlite_version}")
    print("load average (1/5/15 min): before " + "/".join(f"{x:.2f}" for x in args.load_before)
          + ", after " + "/".join(f"{x:.2f}" for x in args.load_after))
    print(f"{args.n:,} registrations; targets: each case <= 3 s (at 100,000) and <= 3x its floor")
    print(f"{'case':<68}{'wall min':>10}{'wall med':>10}{'cpu med':>10}")
    for key, (label, floor_label, rows) in results.items():
        for name, title in (("hnce", f"({key}) {label}"), ("floor", f"({key}0) {floor_label}")):
            walls = [w for w, _ in rows[name]]
            cpus = [c for _, c in rows[name]]
            print(f"{title:<68}{min(walls):>10.3f}{statistics.median(walls):>10.3f}"
                  f"{statistics.median(cpus):>10.3f}")
        ratios = [a[0] / b[0] for a, b in zip(rows["hnce"], rows["floor"], strict=True)]
        print(f"{'':<4}ratio ({key})/({key}0), wall: median {statistics.median(ratios):.2f}x, "
              f"min {min(ratios):.2f}x, max {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
