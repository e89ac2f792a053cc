"""Remote-mode benchmark (run on demand, not in CI).

1. Status look-ups through `hnce serve` (2 workers, PostgreSQL behind it) from a
   second process on loopback: wrk, 20 connections, random ID numbers among
   1,000,000 professionals. Target: >= 500 look-ups/s with p99 <= 50 ms.
2. Batch approval of 100,000 registrations of one unit through the API, against
   the same approval in local mode on the same PostgreSQL database.
   Target: API <= 2x local.

Usage: python bench/remote_bench.py [--admin-url postgresql://hnce:hnce@127.0.0.1/postgres]
       [--people 1000000] [--batch 100000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from hnce_cli.backend.local import LocalBackend
from hnce_cli.schemas import AccountInput, UnitInput
from hnce_cli.services.security import hash_password
from hnce_cli.validation import id_check_char, uscc_check_char

PASSWORD = "Bench2025pw"
HNCE = shutil.which("hnce") or sys.exit("install hnce first (pip install .)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def id_number(seq: int) -> str:
    birth = f"{1960 + seq % 40}{1 + seq % 12:02d}{1 + seq % 28:02d}"
    first17 = f"4101{seq // 1000 % 100:02d}{birth}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def fresh_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def seed(url: str, people: int, batch: int) -> tuple[list[str], list[str], int]:
    """Accounts through the services; professionals by COPY (as an import would)."""
    b = LocalBackend(url)
    b.db_upgrade()
    b.db_init("admin", "管理员", PASSWORD)
    b.token = b.login("admin", PASSWORD).token
    approved_unit = b.add_unit(UnitInput(name="基准测试单位甲", uscc=uscc("1"), region="410105"))
    batch_unit = b.add_unit(UnitInput(name="基准测试单位乙", uscc=uscc("2"), region="410105"))
    b.create_account(AccountInput(login="kefu", name="客服", role="support", password=PASSWORD))
    b.create_account(AccountInput(login="unit-admin", name="单位管理员", role="unit_admin",
                                  password=PASSWORD, units=[str(batch_unit.id)]))
    pw_hash = hash_password(PASSWORD)
    total = people + batch
    numbers = [id_number(i) for i in range(total)]
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        start_account = conn.execute("select coalesce(max(id), 0) + 1 from account").fetchone()[0]
        with conn.cursor() as cur:
            with cur.copy("COPY account (id, login, password_hash, role, name, active, "
                          "failed_logins, created_at) FROM STDIN") as copy:
                for i, number in enumerate(numbers):
                    copy.write_row((start_account + i, number, pw_hash, "professional", "测试",
                                    True, 0, "2025-03-01 00:00:00+00"))
            with cur.copy("COPY professional (account_id, id_number, name, gender, birth_date, "
                          "mobile, email, unit_id, status, registered_at) FROM STDIN") as copy:
                for i, number in enumerate(numbers):
                    pending = i >= people
                    copy.write_row((
                        start_account + i, number, f"测试{i % 5000}", "男" if int(number[16]) % 2 else "女",
                        f"{number[6:10]}-{number[10:12]}-{number[12:14]}", f"138{i:08d}",
                        "x@example.cn", batch_unit.id if pending else approved_unit.id,
                        "pending" if pending else "approved", "2025-03-01 00:00:00+00"))
            cur.execute("select setval('account_id_seq', (select max(id) from account))")
        conn.execute("ANALYZE")
    return numbers[:people], numbers[people:], batch_unit.id


def uscc(seed_char: str) -> str:
    first17 = f"91410105MA44BENC{seed_char}"
    return first17 + uscc_check_char(first17)


def run_wrk(base: str, token: str, ids: list[str], seconds: int, workdir: Path) -> dict:
    sample = ids[:: max(1, len(ids) // 20000)]
    (workdir / "ids.txt").write_text("\n".join(sample))
    script = workdir / "lookup.lua"
    script.write_text(f"""
local ids = {{}}
for line in io.lines("{workdir / 'ids.txt'}") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  return wrk.format("GET", "/api/v1/professionals/lookup?q=" .. ids[math.random(#ids)])
end
""")
    out = subprocess.run(["wrk", "-t2", "-c20", f"-d{seconds}s", "--latency", "-s", str(script),
                          base], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": rps, "p50_ms": ms("50"), "p99_ms": ms("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "raw": out}


def reset_batch(url: str, unit_id: int) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE professional SET status='pending', decided_at=NULL, "
                          "decided_by=NULL WHERE unit_id=:u"), {"u": unit_id})
        conn.execute(text("DELETE FROM audit_log WHERE action='registration.approve'"))
        conn.execute(text("VACUUM ANALYZE professional") if False else text("SELECT 1"))
    engine.dispose()


def time_approve(env: dict, ids_file: Path, url: str, unit_id: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        reset_batch(url, unit_id)
        start = time.perf_counter()
        done = subprocess.run([HNCE, "approve", "--file", str(ids_file), "--yes", "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"approve failed: {done.stderr.decode()[:500]}")
        counts = json.loads(done.stdout)["counts"]
        assert counts.get("approved") == sum(1 for _ in ids_file.open()), counts
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--admin-url", default=os.environ.get(
        "HNCE_TEST_PG_URL", "postgresql://hnce:hnce@127.0.0.1:5432/postgres"))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hnce-bench-"))
    url = fresh_database(args.admin_url, "hnce_bench_remote").replace(
        "postgresql://", "postgresql+psycopg://")
    t0 = time.perf_counter()
    people, batch_ids, unit_id = seed(url, args.people, args.batch)
    print(f"seeded {len(people):,} approved + {len(batch_ids):,} pending in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    port = free_port()
    env = {**os.environ, "HNCE_DATABASE_URL": url, "HNCE_CONFIG_DIR": str(work / "cfg"),
           "HNCE_DATA_DIR": str(work / "data")}
    server = subprocess.Popen([HNCE, "serve", "--port", str(port), "--workers", "2"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        local = LocalBackend(url)
        support_token = local.login("kefu", PASSWORD).token
        admin_token = local.login("unit-admin", PASSWORD).token
        run_wrk(base, support_token, people, 3, work)  # warm-up
        lookups = run_wrk(base, support_token, people, args.seconds, work)
        ids_file = work / "batch.txt"
        ids_file.write_text("\n".join(batch_ids) + "\n")
        remote_env = {k: v for k, v in env.items() if k != "HNCE_DATABASE_URL"}
        remote_env.update(HNCE_API_URL=base, HNCE_TOKEN=admin_token)
        local_env = {**env, "HNCE_TOKEN": admin_token}
        local_times = time_approve(local_env, ids_file, url, unit_id, args.runs)
        remote_times = time_approve(remote_env, ids_file, url, unit_id, args.runs)
    finally:
        server.terminate()
        server.wait(10)
    result = {
        "people": args.people, "batch": args.batch,
        "lookups": {k: v for k, v in lookups.items() if k != "raw"},
        "approve_local_s": {"min": min(local_times), "median": statistics.median(local_times)},
        "approve_remote_s": {"min": min(remote_times), "median": statistics.median(remote_times)},
    }
    result["approve_ratio_remote_vs_local"] = (result["approve_remote_s"]["median"]
                                              / result["approve_local_s"]["median"])
    print(lookups["raw"], file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
