"""Benchmark: credit declarations at province scale, whole processes, against floors.

    python bench/declarations_bench.py                    # 100,000 people, 5,000,000 declarations
    python bench/declarations_bench.py -n 20000 --total 1000000 --runs 2
    python bench/declarations_bench.py --append docs/performance.md
    python bench/declarations_bench.py --only approve     # just A / A0 (no 5,000,000-row fill)

Builds a SQLite database in a temporary folder (migrations, one unit in 金水区, its
unit admin, a provincial HR reviewer, support, N approved professionals inserted
with raw SQL). Then, each case restoring a pristine copy first (outside the timing):

  I   hnce declare import decl.csv --json        N declarations imported by one unit
  I0  floor: stdlib sqlite3 reads the CSV, resolves ID numbers, inserts the
      declarations (one INSERT … SELECT from a JSON array, RETURNING id) and their
      audit rows (INSERT … SELECT over the ids), one transaction
  A   hnce review --all --yes --json (HR)         N pending_hr declarations approved
  A0  floor: one conditional UPDATE ... RETURNING id, then audit rows and
      credit records as INSERT … SELECT over the ids, the per-item rows printed as
      JSON (compact, by the C encoder), one transaction (the set-based shape hnce
      uses, without hnce)
  V   hnce status ID --declarations --json (support) among --total declarations: one
      person's progress view 申报进度查询, through the backend like every command
  Vs  hnce declare list --json (the person themself)
  V0  floor: a python process running the same two queries with sqlite3
  S   hnce status --help (the cost of starting a command at all: the command's module
      imported from the lazy registry and typer building it), for reference

Targets: I <= 10 s, A <= 3 s, V and Vs <= 0.6 s. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import bench_env, checkpoint, hnce, make_ids, release, seed_professionals, timed

PASSWORD = "Bench2025pass"

IMPORT_FLOOR = r"""
import csv, json, sqlite3, sys
from datetime import datetime, UTC
db, path, actor = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = sqlite3.connect(db, isolation_level=None)
for p in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536"):
    conn.execute("PRAGMA " + p)
now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
with open(path, encoding="utf-8-sig") as fh:
    rows = list(csv.DictReader(fh))
people = dict((n, (i, u)) for i, n, u in conn.execute("SELECT id, id_number, unit_id FROM professional"))
payload = []
for r in rows:
    pid, unit = people[r["身份证号"]]
    days = int(r["会议天数"])
    payload.append((pid, unit, int(r["计入年度"]), 10.0 * days, {"meeting_name": r["会议名称"],
                    "organizer": r["主办单位"], "start_date": r["开始日期"], "days": days}))
conn.execute("BEGIN IMMEDIATE")
ids = [i for (i,) in conn.execute(
    "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, status, "
    "created_at, updated_at, submitted_at) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "'conference', 'public', json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
    "json_extract(value, '$[4]'), 'pending_hr', ?1, ?1, ?1 FROM json_each(?2) RETURNING id",
    (now, json.dumps(payload, ensure_ascii=False))).fetchall()]
j = json.dumps(ids)
conn.execute("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
             "SELECT ?, ?, 'declaration.import', 'declaration', CAST(value AS TEXT), NULL, ? FROM json_each(?)",
             (now, actor, json.dumps({"status": "pending_hr", "via": "import"}), j))
conn.execute("COMMIT")
print(len(ids))
"""

APPROVE_FLOOR = r"""
import json, sqlite3, sys
from datetime import datetime, UTC
db, actor = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db, isolation_level=None)
for p in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536"):
    conn.execute("PRAGMA " + p)
now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
conn.execute("BEGIN IMMEDIATE")
ids = [i for (i,) in conn.execute(
    "UPDATE declaration SET status='approved', decided_at=?, updated_at=? WHERE status='pending_hr' "
    "AND unit_id IN (SELECT id FROM unit WHERE region_code LIKE '41%') RETURNING id", (now, now))]
j = json.dumps(ids)
conn.execute("INSERT INTO audit_log (at, actor_id, action, subject_type, subject_id, before, after) "
             "SELECT ?, ?, 'declaration.hr_approve', 'declaration', CAST(value AS TEXT), ?, ? FROM json_each(?)",
             (now, actor, json.dumps({"status": "pending_hr"}), json.dumps({"status": "approved"}), j))
conn.execute("INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
             "created_at) SELECT d.professional_id, p.id_number, d.year, 'public', d.credits, 'declaration', "
             "'declaration:' || d.id, ? FROM json_each(?) x JOIN declaration d ON d.id = x.value "
             "JOIN professional p ON p.id = d.professional_id", (now, j))
items = conn.execute("SELECT d.id, p.name, u.name, d.credits FROM json_each(?) x JOIN declaration d "
                     "ON d.id = x.value JOIN professional p ON p.id = d.professional_id "
                     "JOIN unit u ON u.id = d.unit_id ORDER BY d.id", (j,)).fetchall()
conn.execute("COMMIT")
# Compact: json.dumps with indent= runs the pure-Python encoder (~0.8 s here), the C one without.
print(json.dumps([{"id": i, "outcome": "approved", "status": "approved", "reason": None, "name": n,
                   "unit_name": u, "credits": c} for i, n, u, c in items], ensure_ascii=False))
"""

VIEW_FLOOR = r"""
import json, sqlite3, sys
db, number = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db)
pid = conn.execute("SELECT id FROM professional WHERE id_number = ?", (number,)).fetchone()[0]
counts = conn.execute("SELECT status, count(*) FROM declaration WHERE professional_id = ? GROUP BY status",
                      (pid,)).fetchall()
rows = conn.execute("SELECT d.*, p.id_number, p.name, u.name FROM declaration d JOIN professional p "
                    "ON p.id = d.professional_id JOIN unit u ON u.id = d.unit_id WHERE d.professional_id = ? "
                    "ORDER BY d.id DESC LIMIT 100", (pid,)).fetchall()
print(json.dumps({"counts": counts, "rows": [list(map(str, r)) for r in rows]}, ensure_ascii=False))
"""


def build(work: Path, n: int) -> dict:
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import AccountInput, UnitInput
    from hnce_cli.services.security import hash_password

    path = work / "bench.db"
    url = f"sqlite:///{path}"
    b = LocalBackend(url)
    b.db_upgrade()  # what `hnce db upgrade` runs
    b.db_init("sysadmin", "系统管理员", PASSWORD)
    b.token = b.login("sysadmin", PASSWORD).token
    unit = b.add_unit(UnitInput(name="河南基准测试会计师事务所", uscc="91410105MA44ABCD1P", region="金水区"))
    admin = b.create_account(AccountInput(login="unit-admin", name="单位管理员", role="unit_admin",
                                          password=PASSWORD, units=[str(unit.id)]))
    hr = b.create_account(AccountInput(login="hr-henan", name="省人社审核员", role="hr", password=PASSWORD,
                                       region="410000"))
    b.create_account(AccountInput(login="kefu", name="客服", role="support", password=PASSWORD))
    ids = make_ids(n)
    shared = hash_password("Shared2025pass")
    stamp = (datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)).isoformat(" ")
    release(url)  # hnce's connections closed before raw sqlite3 writes
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    seed_professionals(conn, ids, unit.id, status="approved", password_hash=shared, stamp=stamp)
    conn.execute("COMMIT")
    conn.close()
    tokens = {who: LocalBackend(url).login(who, PASSWORD).token for who in ("unit-admin", "hr-henan", "kefu")}
    tokens["person"] = LocalBackend(url).login(ids[0], "Shared2025pass").token
    release(url)  # the sessions are in the WAL until hnce's connection closes
    today = datetime.now(UTC).date()
    with (work / "decl.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["身份证号", "学习形式", "计入年度", "会议名称", "主办单位", "开始日期", "会议天数"])
        for i, num in enumerate(ids):
            writer.writerow([num, "学术会议", today.year, f"第{i % 50}届会计年会", "河南省会计学会",
                             today.isoformat(), 1 + i % 3])
    checkpoint(path)
    shutil.copyfile(path, work / "pristine.db")
    return {"db": path, "url": url, "tokens": tokens, "ids": ids, "admin_id": admin.id, "hr_id": hr.id}


def restore(setup: dict, snapshot: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{setup['db']}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(snapshot, setup["db"])


def count(setup: dict, sql: str) -> int:
    conn = sqlite3.connect(setup["db"])
    value = conn.execute(sql).fetchone()[0]
    conn.close()
    return value


def fill(setup: dict, total: int) -> None:
    """Top the database up to `total` declarations, spread over everyone (raw SQL, not timed)."""
    have = count(setup, "SELECT count(*) FROM declaration")
    extra = max(0, total - have)
    n = len(setup["ids"])
    conn = sqlite3.connect(setup["db"], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    lo = conn.execute("SELECT min(id) FROM professional").fetchone()[0]
    unit = conn.execute("SELECT unit_id FROM professional LIMIT 1").fetchone()[0]
    conn.execute("BEGIN")
    conn.execute(f"""
        WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < {extra})
        INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, status,
                                 created_at, updated_at, submitted_at, decided_at)
        SELECT {lo} + (x % {n}), {unit}, 'conference', 'public', 2025 + (x % 2), 10.0,
               '{{"meeting_name": "年会", "organizer": "学会", "start_date": "2025-05-01", "days": 1}}',
               CASE x % 5 WHEN 0 THEN 'draft' WHEN 1 THEN 'pending_unit' WHEN 2 THEN 'pending_hr'
                          WHEN 3 THEN 'approved' ELSE 'rejected' END,
               '2025-06-01 00:00:00', '2025-06-01 00:00:00', '2025-06-01 00:00:00', NULL
        FROM c""")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    checkpoint(setup["db"])


def stats(samples: list[tuple[float, float, int]]) -> dict:
    walls = [s[0] for s in samples]
    return {"min": min(walls), "median": statistics.median(walls), "cpu": statistics.median(s[1] for s in samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="people = declarations imported and approved")
    parser.add_argument("--total", type=int, default=5_000_000, help="declarations for the view case")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--append", type=Path, help="append the results as a section to this Markdown file")
    parser.add_argument("--only", choices=("import", "approve", "view"), action="append",
                        help="run only this case group (repeatable); approve still imports once, untimed")
    args = parser.parse_args()
    only = set(args.only or ("import", "approve", "view"))

    work = Path(tempfile.mkdtemp(prefix="hnce-decl-bench-"))
    results: dict[str, dict] = {}
    try:
        t0 = time.perf_counter()
        setup = build(work, args.n)
        print(f"built {args.n:,} people in {time.perf_counter() - t0:.1f} s", flush=True)
        base = bench_env(work, HNCE_DATABASE_URL=setup["url"])
        env = {who: {**base, "HNCE_TOKEN": tok} for who, tok in setup["tokens"].items()}
        db, csv_path = str(setup["db"]), str(work / "decl.csv")

        load_start = os.getloadavg()
        cases: dict[str, list[tuple[float, float]]] = {k: [] for k in ("I", "I0", "A", "A0", "V", "Vs", "V0", "S")}
        for _ in range(args.runs if "import" in only else 0):
            restore(setup, work / "pristine.db")
            cases["I"].append(timed([*hnce(), "declare", "import", csv_path, "--json"], env["unit-admin"]))
            assert count(setup, "SELECT count(*) FROM declaration WHERE status='pending_hr'") == args.n
            restore(setup, work / "pristine.db")
            cases["I0"].append(timed([sys.executable, "-c", IMPORT_FLOOR, db, csv_path, str(setup["admin_id"])],
                                     base))
        print("import done", flush=True)
        restore(setup, work / "pristine.db")
        timed([*hnce(), "declare", "import", csv_path, "--json"], env["unit-admin"])
        checkpoint(setup["db"])
        shutil.copyfile(setup["db"], work / "imported.db")
        for _ in range(args.runs if "approve" in only else 0):
            restore(setup, work / "imported.db")
            cases["A"].append(timed([*hnce(), "review", "--all", "--yes", "--json"], env["hr-henan"]))
            assert count(setup, "SELECT count(*) FROM credit_record") == args.n
            restore(setup, work / "imported.db")
            cases["A0"].append(timed([sys.executable, "-c", APPROVE_FLOOR, db, str(setup["hr_id"])], base))
        print("approve done", flush=True)
        restore(setup, work / "imported.db")
        if "view" in only:
            t0 = time.perf_counter()
            fill(setup, args.total)
            print(f"filled in {time.perf_counter() - t0:.1f} s", flush=True)
        total = count(setup, "SELECT count(*) FROM declaration")
        person = setup["ids"][0]
        for _ in range(args.runs + 2 if "view" in only else 0):
            cases["V"].append(timed([*hnce(), "status", person, "--declarations", "--json"], env["kefu"]))
            cases["Vs"].append(timed([*hnce(), "declare", "list", "--json"], env["person"]))
            cases["V0"].append(timed([sys.executable, "-c", VIEW_FLOOR, db, person], base))
            cases["S"].append(timed([*hnce(), "status", "--help"], base))
        results = {k: stats(v) for k, v in cases.items() if v}
        results["_meta"] = {"n": args.n, "total": total, "runs": args.runs, "load_start": load_start,
                            "only": "".join(f" --only {o}" for o in args.only or ()),
                            "load_end": os.getloadavg()}
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = render(results)
    print(report)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write("\n" + report)


LABELS = {
    "I": "import N declarations (`hnce declare import`, unit admin)", "I0": "floor: stdlib sqlite3 import",
    "A": "HR approves N at once (`hnce review --all --yes --json`)", "A0": "floor: stdlib sqlite3 approve",
    "V": "one person's progress view (`hnce status ID --declarations --json`, support)",
    "Vs": "own progress view (`hnce declare list --json`, the person)",
    "V0": "floor: python + sqlite3, same two queries",
    "S": "`hnce status --help` (start-up of a command: its module and typer)",
}
TARGETS = {"I": 10.0, "A": 3.0, "V": 0.6, "Vs": 0.6}


def fmt_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.1f}" for x in load)


def render(results: dict) -> str:
    meta = results["_meta"]
    import platform

    lines = [
        "## Declarations: import, HR approval, progress view",
        "",
        f"`python bench/declarations_bench.py{meta['only']}` — SQLite, {meta['n']:,} people and declarations "
        f"imported / approved, {meta['total']:,} declarations for the view; {meta['runs']} runs (view: "
        f"{meta['runs'] + 2}); "
        f"whole processes; {platform.python_version()}, {os.cpu_count()} CPUs. Wall seconds; CPU = user + sys "
        f"of the process. Load average (1/5/15 min) at the start {fmt_load(meta['load_start'])}, "
        f"at the end {fmt_load(meta['load_end'])}.",
        "",
        "| case | min | median | CPU (median) | target | ratio to floor (wall) | ratio to floor (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    floors = {"I": "I0", "A": "A0", "V": "V0", "Vs": "V0"}
    for key in ("I", "I0", "A", "A0", "V", "Vs", "V0", "S"):
        if key not in results:  # left out with --only
            continue
        r = results[key]
        target = f"≤ {TARGETS[key]:g}" if key in TARGETS else ""
        floor = results[floors[key]] if key in floors else None
        wall = f"{r['median'] / floor['median']:.1f}×" if floor else ""
        cpu = f"{r['cpu'] / floor['cpu']:.1f}×" if floor else ""
        lines.append(f"| {LABELS[key]} | {r['min']:.2f} | {r['median']:.2f} | {r['cpu']:.2f} | {target} "
                     f"| {wall} | {cpu} |")
    return "\n".join(lines) + "\n"




if __name__ == "__main__":
    main()
